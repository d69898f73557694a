// SPDX-License-Identifier: GPL-2.0-only
/*
 * NX huge page split and recovery, region by region.
 *
 * With the iTLB-multihit mitigation on (kvm.nx_huge_pages), KVM must never
 * leave an executable 2M mapping: a guest that reads a 2M region gets a
 * huge mapping, executing from it splits the mapping to 4K ("NX split"),
 * and the recovery worker later zaps the split so that the region can be
 * mapped huge again.  This file pins that life cycle with exact counter
 * deltas after every guest access, for hugetlbfs and THP backings, and pins
 * that no split happens when the VM opted out (KVM_CAP_VM_DISABLE_NX_HUGE_PAGES)
 * or the mitigation is off.
 */
#include <stdlib.h>

#include "nx_compat.h"
#include "nx_counts.h"
#include "nx_guest.h"
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_poll.h"
#include "nx_results.h"

#define DEFAULT_REGIONS		8
#define DEFAULT_PERIOD_MS	100
/* Recovery must come within a few periods; the slack covers a slow TCG host. */
#define RECOVERY_SLACK_MS	10000

enum nx_mode {
	MODE_SPLIT,		/* mitigation on: exec splits, recovery restores */
	MODE_VM_DISABLED,	/* mitigation on, VM opted out: no split */
	MODE_MITIGATION_OFF,	/* kvm.nx_huge_pages=N: no split */
};

struct nx_scenario {
	enum vm_mem_backing_src_type src;
	enum nx_mode mode;
};

#define PTES_PER_2M		512

static int nr_regions = DEFAULT_REGIONS;
static int split_4k;
static int period_ms = DEFAULT_PERIOD_MS;

static void prepare_host(const struct nx_scenario *s)
{
	nx_require_root();
	nx_require_thp_madvise();
	if (s->src == VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB)
		nx_require_hugepages_2m(nr_regions);
	nx_require_kvm_param("nx_huge_pages",
			     s->mode == MODE_MITIGATION_OFF ? "N" : "Y");
	/* No recovery pass may race the split steps: it is off until asked. */
	nx_require_kvm_param("nx_huge_pages_recovery_ratio", "0");
}

static struct kvm_vm *create_vm(const struct nx_scenario *s,
				struct kvm_vcpu **vcpu, struct nx_regions *r)
{
	struct kvm_vm *vm = vm_create(1);
	uint64_t thp;
	int ret;

	if (s->mode == MODE_VM_DISABLED) {
		__TEST_REQUIRE(kvm_has_cap(KVM_CAP_VM_DISABLE_NX_HUGE_PAGES),
			       "KVM lacks KVM_CAP_VM_DISABLE_NX_HUGE_PAGES");
		ret = __vm_disable_nx_huge_pages(vm);
		TEST_ASSERT(!ret, "KVM_CAP_VM_DISABLE_NX_HUGE_PAGES as root: expected 0, got %d (errno %d)",
			    ret, errno);
	}
	*vcpu = vm_vcpu_add(vm, 0, nx_guest_main);
	nx_regions_add(vm, r, s->src, nr_regions);
	if (s->src == VM_MEM_SRC_ANONYMOUS_THP) {
		thp = nx_thp_backed_bytes(nx_region_hva(r, 0),
					  nr_regions * NX_REGION_SIZE);
		if (thp < nr_regions * NX_REGION_SIZE)
			nx_skip("host backed only %lu of %lu bytes with THP",
				thp, nr_regions * NX_REGION_SIZE);
	}
	nx_guest_start(*vcpu, r);
	return vm;
}

static void read_all(struct kvm_vcpu *vcpu, struct nx_regions *r,
		     struct nx_counts *want)
{
	char step[64];
	int i;

	for (i = 0; i < r->nr; i++) {
		nx_guest_do(vcpu, r, NX_GUEST_READ, i);
		want->pages_2m++;
		snprintf(step, sizeof(step), "read of region %d", i);
		nx_counts_expect(r->vm, want, step);
	}
}

/*
 * 4K mappings one NX split leaves: the TDP MMU splits the huge mapping in
 * place (all 512 pages stay mapped), the shadow MMU zaps it and maps only
 * the faulting page.  Learnt from the first split, then held to exactly.
 */
static int split_4k_pages(struct kvm_vm *vm, const struct nx_counts *want)
{
	int64_t delta = nx_vm_stat(vm, pages_4k) - want->pages_4k;

	/* No split at all: nx_counts_expect() reports every counter. */
	if (nx_vm_stat(vm, nx_lpage_splits) != want->nx_lpage_splits + 1)
		return 1;

	TEST_ASSERT(delta == 1 || delta == PTES_PER_2M,
		    "first NX split: expected pages_4k to grow by 1 (zap and fault) or %d (split in place), got %ld",
		    PTES_PER_2M, delta);
	printf("an NX split leaves %ld 4K mappings\n", delta);
	return delta;
}

static void exec_all(struct kvm_vcpu *vcpu, struct nx_regions *r,
		     struct nx_counts *want, bool splits, const char *what)
{
	char step[64];
	int i;

	for (i = 0; i < r->nr; i++) {
		nx_guest_do(vcpu, r, NX_GUEST_EXEC, i);
		if (splits) {
			if (!split_4k)
				split_4k = split_4k_pages(r->vm, want);
			want->pages_2m--;
			want->pages_4k += split_4k;
			want->nx_lpage_splits++;
		}
		snprintf(step, sizeof(step), "%s of region %d", what, i);
		nx_counts_expect(r->vm, want, step);
	}
}

static bool splits_recovered(void *arg)
{
	return nx_vm_stat((struct kvm_vm *)arg, nx_lpage_splits) == 0;
}

static void recover_all(struct kvm_vm *vm, struct nx_counts *want)
{
	uint64_t deadline_ms = RECOVERY_SLACK_MS + 10ULL * period_ms;
	struct nx_poll_result res;
	char val[32];

	/* Ratio 1 zaps every split page per pass; enabling wakes the worker. */
	snprintf(val, sizeof(val), "%d", period_ms);
	nx_require_kvm_param("nx_huge_pages_recovery_period_ms", val);
	nx_require_kvm_param("nx_huge_pages_recovery_ratio", "1");
	nx_poll_until(splits_recovered, vm, deadline_ms, 1000, &res);
	TEST_ASSERT(res.met,
		    "recovery (ratio 1, period %d ms): expected nx_lpage_splits=0 within %lu ms, still %lu after %lu ms",
		    period_ms, deadline_ms, nx_vm_stat(vm, nx_lpage_splits),
		    res.elapsed_us / 1000);
	nx_metric("recovery_ms", res.elapsed_us / 1000.0, "ms");
	/* The zapped split tables took their 4K mappings with them. */
	want->pages_4k -= want->nx_lpage_splits * split_4k;
	want->nx_lpage_splits = 0;
	nx_counts_expect(vm, want, "recovery");
}

static void run_scenario(const struct nx_case *c)
{
	const struct nx_scenario *s = c->arg;
	bool splits = s->mode == MODE_SPLIT;
	struct kvm_vcpu *vcpu;
	struct nx_regions r;
	struct nx_counts want;
	struct kvm_vm *vm;

	prepare_host(s);
	vm = create_vm(s, &vcpu, &r);
	nx_counts_read(vm, &want);
	TEST_ASSERT(want.nx_lpage_splits == 0,
		    "before the first region access: expected nx_lpage_splits=0, got %ld",
		    want.nx_lpage_splits);

	read_all(vcpu, &r, &want);
	exec_all(vcpu, &r, &want, splits, "execute");
	exec_all(vcpu, &r, &want, false, "second execute");
	if (splits) {
		recover_all(vm, &want);
		read_all(vcpu, &r, &want);
	}
	kvm_vm_free(vm);
}

static const struct nx_scenario hugetlb_split = {
	VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, MODE_SPLIT };
static const struct nx_scenario thp_split = {
	VM_MEM_SRC_ANONYMOUS_THP, MODE_SPLIT };
static const struct nx_scenario hugetlb_vm_disabled = {
	VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, MODE_VM_DISABLED };
static const struct nx_scenario thp_vm_disabled = {
	VM_MEM_SRC_ANONYMOUS_THP, MODE_VM_DISABLED };
static const struct nx_scenario hugetlb_mitigation_off = {
	VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, MODE_MITIGATION_OFF };
static const struct nx_scenario thp_mitigation_off = {
	VM_MEM_SRC_ANONYMOUS_THP, MODE_MITIGATION_OFF };

static const struct nx_case cases[] = {
	{ "hugetlb_2m.split_and_recover", run_scenario, &hugetlb_split },
	{ "thp.split_and_recover", run_scenario, &thp_split },
	{ "hugetlb_2m.vm_disabled_no_split", run_scenario, &hugetlb_vm_disabled },
	{ "thp.vm_disabled_no_split", run_scenario, &thp_vm_disabled },
	{ "hugetlb_2m.mitigation_off_no_split", run_scenario, &hugetlb_mitigation_off },
	{ "thp.mitigation_off_no_split", run_scenario, &thp_mitigation_off },
};

static bool parse_opt(int opt, const char *arg)
{
	switch (opt) {
	case 'n':
		nr_regions = atoi_positive("Number of 2M regions", arg);
		return true;
	case 'p':
		period_ms = atoi_positive("Recovery period (ms)", arg);
		return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	static const struct nx_suite suite = {
		.name = "nx_split_recovery",
		.cases = cases,
		.nr_cases = ARRAY_SIZE(cases),
		.timeout_s = 120,
		.optstring = "n:p:",
		.usage = "[-n REGIONS (8)] [-p PERIOD_MS (100)]",
		.parse_opt = parse_opt,
	};

	return nx_suite_main(&suite, argc, argv);
}
