// SPDX-License-Identifier: GPL-2.0-only
/* Guest payload that reads or executes one 2M region per step. */
#include <stdio.h>
#include <string.h>

#include "nx_guest.h"
#include "nx_vcpu.h"

/*
 * Written by the host before each step, read by the guest.  @level says
 * which guest does it where two run nested (nx_nested.h): 0 or 1 for L1,
 * 2 for L2; the one-level payload ignores it.
 */
static struct {
	uint64_t op;
	uint64_t gva;
	uint64_t level;
} nx_cmd;

static void nx_guest_call(uint64_t gva)
{
	((void (*)(void))gva)();
}

static void nx_guest_read_pages(uint64_t gva)
{
	uint64_t off;

	for (off = 0; off < NX_REGION_SIZE;
	     off += NX_REGION_SIZE / NX_GUEST_FILL_PAGES)
		READ_ONCE(*(uint64_t *)(gva + off));
}

uint64_t nx_guest_cmd_level(void)
{
	return READ_ONCE(nx_cmd.level);
}

void nx_guest_step(void)
{
	if (nx_cmd.op == NX_GUEST_READ)
		READ_ONCE(*(uint64_t *)nx_cmd.gva);
	else if (nx_cmd.op == NX_GUEST_READ_PAGES)
		nx_guest_read_pages(nx_cmd.gva);
	else if (nx_cmd.op == NX_GUEST_EXEC)
		nx_guest_call(nx_cmd.gva);
	else if (nx_cmd.op == NX_GUEST_WRITE)
		WRITE_ONCE(*(uint64_t *)(nx_cmd.gva + NX_WRITE_OFFSET),
			   nx_cmd.gva);
	else
		nx_guest_fail_u64("unknown op", nx_cmd.op);
	GUEST_SYNC(nx_cmd.op);
}

void nx_guest_main(void)
{
	GUEST_SYNC(0);
	for (;;)
		nx_guest_step();
}

void nx_regions_add(struct kvm_vm *vm, struct nx_regions *r,
		    enum vm_mem_backing_src_type src, int nr)
{
	uint64_t size = nr * NX_REGION_SIZE, off;
	uint8_t *base;
	int i;

	r->vm = vm;
	r->src = src;
	r->gpa = NX_REGIONS_GPA;
	r->gva = NX_REGIONS_GPA;
	r->nr = nr;
	vm_userspace_mem_region_add(vm, src, r->gpa, NX_REGIONS_SLOT,
				    size / vm->page_size, 0);
	/*
	 * 1G guest pages: walking them touches no guest page-table page that
	 * the warm-up has not touched, so the first access to a region moves
	 * no counter but the region's own.  With shadow paging KVM still maps
	 * at most 2M, the size of the host pages behind it.
	 */
	__TEST_REQUIRE(kvm_cpu_has(X86_FEATURE_GBPAGES),
		       "the guest CPU has no 1G pages (GBPAGES)");
	virt_map_level(vm, r->gva, r->gpa, align_up(size, 1UL << 30),
		       PG_LEVEL_1G);
	/*
	 * A RET at the start of every 4K page, so that a call to any page
	 * returns.  One byte a page, not a memset: the host has just cleared
	 * the huge page when it faulted it in, and filling 1 GiB again under
	 * TCG costs seconds.
	 */
	for (i = 0; i < nr; i++) {
		base = nx_region_hva(r, i);
		for (off = 0; off < NX_REGION_SIZE; off += vm->page_size)
			base[off] = NX_RET_OPCODE;
	}

	r->scratch_gva = nx_vm_alloc_page(vm);
	memset(addr_gva2hva(vm, r->scratch_gva), NX_RET_OPCODE, vm->page_size);
}

void *nx_region_hva(const struct nx_regions *r, int i)
{
	return addr_gpa2hva(r->vm, r->gpa + i * NX_REGION_SIZE);
}

static void nx_guest_expect_sync(struct kvm_vcpu *vcpu, uint64_t stage,
				 const char *what)
{
	struct ucall uc;

	nx_vcpu_run(vcpu, what);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == stage,
			    "guest step: expected sync %lu, got %lu",
			    stage, uc.args[1]);
		break;
	case UCALL_ABORT:
		nx_report_guest_assert(uc);
		break;
	default:
		TEST_FAIL("guest step: expected UCALL_SYNC, got exit reason %u (%s)",
			  vcpu->run->exit_reason,
			  exit_reason_str(vcpu->run->exit_reason));
	}
}

static const char *nx_guest_op_name(enum nx_guest_op op)
{
	switch (op) {
	case NX_GUEST_READ:
		return "read";
	case NX_GUEST_EXEC:
		return "execute";
	case NX_GUEST_READ_PAGES:
		return "read of 4K pages";
	case NX_GUEST_WRITE:
		return "write";
	}
	return "unknown op";
}

/*
 * @where names the target for the step deadline's message; @level the
 * guest that does it (0: the only one).
 */
static void nx_guest_do_gva(struct kvm_vcpu *vcpu, int level,
			    enum nx_guest_op op, uint64_t gva, const char *where)
{
	char what[112];

	snprintf(what, sizeof(what), "%s%s of %s (gva 0x%lx)",
		 level == 2 ? "L2 " : level == 1 ? "L1 " : "",
		 nx_guest_op_name(op), where, gva);
	nx_cmd.op = op;
	nx_cmd.gva = gva;
	nx_cmd.level = level;
	sync_global_to_guest(vcpu->vm, nx_cmd);
	nx_guest_expect_sync(vcpu, op, what);
}

void nx_guest_warm_up(struct kvm_vcpu *vcpu, const struct nx_regions *r)
{
	/*
	 * Run every path of the command loop once on a slot 0 page, so that
	 * the loop's own code, stack and ucall pages are mapped before the
	 * host takes its baseline: afterwards only region accesses move the
	 * counters.
	 */
	nx_guest_warm_up_level(vcpu, r, 0);
}

void nx_guest_warm_up_level(struct kvm_vcpu *vcpu, const struct nx_regions *r,
			    int level)
{
	nx_guest_do_gva(vcpu, level, NX_GUEST_READ, r->scratch_gva,
			"the warm-up page");
	nx_guest_do_gva(vcpu, level, NX_GUEST_EXEC, r->scratch_gva,
			"the warm-up page");
	nx_guest_do_gva(vcpu, level, NX_GUEST_WRITE, r->scratch_gva,
			"the warm-up page");
}

void nx_guest_start(struct kvm_vcpu *vcpu, const struct nx_regions *r)
{
	nx_guest_expect_sync(vcpu, 0, "first entry to the guest");
	nx_guest_warm_up(vcpu, r);
}

void nx_guest_do(struct kvm_vcpu *vcpu, const struct nx_regions *r,
		 enum nx_guest_op op, int i)
{
	nx_guest_do_level(vcpu, r, 0, op, i);
}

void nx_guest_do_level(struct kvm_vcpu *vcpu, const struct nx_regions *r,
		       int level, enum nx_guest_op op, int i)
{
	char where[32];

	TEST_ASSERT(i >= 0 && i < r->nr, "region %d out of range (%d)", i, r->nr);
	snprintf(where, sizeof(where), "region %d", i);
	nx_guest_do_gva(vcpu, level, op, r->gva + i * NX_REGION_SIZE, where);
}
