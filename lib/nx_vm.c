// SPDX-License-Identifier: GPL-2.0-only
/* A VM over N 2M regions with its expected counters; see include/nx_vm.h. */
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_vm.h"

static void nx_vm_require_thp(struct nx_vm *v)
{
	uint64_t want = v->r.nr * NX_REGION_SIZE;
	uint64_t thp = nx_thp_backed_bytes(nx_region_hva(&v->r, 0), want);

	if (thp < want)
		nx_skip("host backed only %lu of %lu bytes with THP", thp, want);
}

void nx_vm_create(struct nx_vm *v, enum vm_mem_backing_src_type src, int nr,
		  bool disable_nx)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->vm = vm_create(1);
	if (disable_nx) {
		__TEST_REQUIRE(kvm_has_cap(KVM_CAP_VM_DISABLE_NX_HUGE_PAGES),
			       "KVM lacks KVM_CAP_VM_DISABLE_NX_HUGE_PAGES");
		ret = __vm_disable_nx_huge_pages(v->vm);
		TEST_ASSERT(!ret, "KVM_CAP_VM_DISABLE_NX_HUGE_PAGES with CAP_SYS_BOOT: expected 0, got %d (errno %d)",
			    ret, errno);
	}
	v->vcpu = vm_vcpu_add(v->vm, 0, nx_guest_main);
	nx_regions_add(v->vm, &v->r, src, nr);
	if (src == VM_MEM_SRC_ANONYMOUS_THP)
		nx_vm_require_thp(v);
	nx_guest_start(v->vcpu, &v->r);
	nx_counts_read(v->vm, &v->want);
	TEST_ASSERT(v->want.nx_lpage_splits == 0,
		    "before the first region access: expected nx_lpage_splits=0, got %ld",
		    v->want.nx_lpage_splits);
}

void nx_vm_free(struct nx_vm *v)
{
	kvm_vm_free(v->vm);
	v->vm = NULL;
}

void nx_vm_expect(struct nx_vm *v, const char *step)
{
	nx_counts_expect(v->vm, &v->want, step);
}

void nx_vm_read_all(struct nx_vm *v)
{
	char step[64];
	int i;

	for (i = 0; i < v->r.nr; i++) {
		nx_guest_do(v->vcpu, &v->r, NX_GUEST_READ, i);
		v->want.pages_2m++;
		snprintf(step, sizeof(step), "read of region %d", i);
		nx_vm_expect(v, step);
	}
}

/*
 * 4K mappings one NX split leaves: the TDP MMU splits the huge mapping in
 * place (all 512 pages stay mapped), the shadow MMU zaps it and maps only
 * the faulting page.  Learnt from the first split, then held to exactly.
 */
static int nx_vm_learn_split_4k(struct nx_vm *v)
{
	int64_t delta = nx_vm_stat(v->vm, pages_4k) - v->want.pages_4k;

	/* No split at all: nx_vm_expect() reports every counter. */
	if (nx_vm_stat(v->vm, nx_lpage_splits) != v->want.nx_lpage_splits + 1)
		return 1;
	TEST_ASSERT(delta == 1 || delta == NX_PTES_PER_2M,
		    "first NX split: expected pages_4k to grow by 1 (zap and fault) or %d (split in place), got %ld",
		    NX_PTES_PER_2M, delta);
	printf("an NX split leaves %ld 4K mappings\n", delta);
	return delta;
}

void nx_vm_exec_all(struct nx_vm *v, bool splits, const char *what)
{
	char step[64];
	int i;

	for (i = 0; i < v->r.nr; i++) {
		nx_guest_do(v->vcpu, &v->r, NX_GUEST_EXEC, i);
		if (splits) {
			if (!v->split_4k)
				v->split_4k = nx_vm_learn_split_4k(v);
			v->want.pages_2m--;
			v->want.pages_4k += v->split_4k;
			v->want.nx_lpage_splits++;
		}
		snprintf(step, sizeof(step), "%s of region %d", what, i);
		nx_vm_expect(v, step);
	}
}
