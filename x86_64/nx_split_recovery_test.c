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
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_recovery.h"
#include "nx_vm.h"

#define DEFAULT_REGIONS		8
#define DEFAULT_PERIOD_MS	100

enum nx_mode {
	MODE_SPLIT,		/* mitigation on: exec splits, recovery restores */
	MODE_VM_DISABLED,	/* mitigation on, VM opted out: no split */
	MODE_MITIGATION_OFF,	/* kvm.nx_huge_pages=N: no split */
};

struct nx_scenario {
	enum vm_mem_backing_src_type src;
	enum nx_mode mode;
};

static int nr_regions = DEFAULT_REGIONS;
static int period_ms = DEFAULT_PERIOD_MS;

static void run_scenario(const struct nx_case *c)
{
	const struct nx_scenario *s = c->arg;
	struct nx_vm v;

	nx_prepare_host(s->src == VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB ? nr_regions : 0,
			s->mode != MODE_MITIGATION_OFF, period_ms);
	nx_vm_create(&v, s->src, nr_regions, s->mode != MODE_MITIGATION_OFF,
		     s->mode == MODE_VM_DISABLED);
	nx_vm_read_all(&v);
	/* The first execute splits (or not), the second changes nothing. */
	nx_vm_exec_all(&v);
	nx_vm_exec_all(&v);
	if (s->mode == MODE_SPLIT) {
		nx_vm_recover_all(&v, period_ms, "recovery", "recovery_ms");
		nx_vm_read_all(&v);
	}
	nx_vm_free(&v);
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
	{ "hugetlb_2m.split_and_recover", run_scenario, &hugetlb_split,
	  .needs = NX_SPLIT_HOST_NEEDS(DEFAULT_REGIONS) },
	{ "thp.split_and_recover", run_scenario, &thp_split,
	  .needs = NX_SPLIT_HOST_NEEDS(0) },
	{ "hugetlb_2m.vm_disabled_no_split", run_scenario, &hugetlb_vm_disabled,
	  .needs = NX_SPLIT_HOST_NEEDS(DEFAULT_REGIONS) },
	{ "thp.vm_disabled_no_split", run_scenario, &thp_vm_disabled,
	  .needs = NX_SPLIT_HOST_NEEDS(0) },
	{ "hugetlb_2m.mitigation_off_no_split", run_scenario, &hugetlb_mitigation_off,
	  .needs = NX_SPLIT_HOST_NEEDS(DEFAULT_REGIONS) },
	{ "thp.mitigation_off_no_split", run_scenario, &thp_mitigation_off,
	  .needs = NX_SPLIT_HOST_NEEDS(0) },
};

static bool parse_opt(int opt, const char *arg)
{
	switch (opt) {
	case 'n':
		nr_regions = nx_atoi_positive("Number of 2M regions", arg);
		return true;
	case 'p':
		period_ms = nx_atoi_positive("Recovery period (ms)", arg);
		return true;
	}
	return false;
}

static const struct nx_suite suite = {
	.name = "nx_split_recovery",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
	.optstring = "n:p:",
	.usage = "[-n REGIONS (8)] [-p PERIOD_MS (100)]",
	.parse_opt = parse_opt,
};

NX_SUITE_MAIN(suite)
