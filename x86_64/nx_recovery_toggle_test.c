// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm.nx_huge_pages while VMs run, and the values the NX parameters take.
 *
 * Turning the mitigation off must zap every VM's mappings, so that code in
 * 2M regions is mapped huge again without splits; turning it back on must
 * zap again so that execution splits again.  A write the kernel refuses
 * (a malformed value, "never" while VMs exist) must leave the parameter as
 * it was.  "never" with no VM is not tried: it disables the mitigation until
 * kvm.ko is reloaded, which no test may do to its host.
 */
#include <stdlib.h>
#include <string.h>

#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_params.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_vm.h"

#define NR_REGIONS	8
#define ITLB_MULTIHIT	"devices/system/cpu/vulnerabilities/itlb_multihit"

static void set_nx_huge_pages(struct nx_vm *v, const char *val, bool on)
{
	char why[64];

	nx_require_kvm_param("nx_huge_pages", val);
	snprintf(why, sizeof(why), "kvm.nx_huge_pages=%s", val);
	nx_metric(on ? "zap_on_enable_ms" : "zap_on_disable_ms",
		  nx_vm_zapped_all(v, on, why), "ms");
}

static void run_toggle(const struct nx_case *c)
{
	struct nx_vm v;

	nx_prepare_split_host(NR_REGIONS, 100);
	nx_vm_create(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, NR_REGIONS, true,
		     false);
	nx_vm_read_all(&v);
	nx_vm_exec_all(&v);
	/* Off: all zapped, then code in every region maps 2M, no split. */
	set_nx_huge_pages(&v, "N", false);
	nx_vm_exec_all(&v);
	/* On again: all zapped, then every execute splits again. */
	set_nx_huge_pages(&v, "Y", true);
	nx_vm_exec_all(&v);
	nx_vm_free(&v);
}

/* Write @val; expect it refused with @err (0: accepted) and @want after. */
static void check_write(const char *param, const char *val, int err,
			const char *want)
{
	char before[64], after[64];
	int r;

	TEST_ASSERT(!nx_kvm_param_read(param, before, sizeof(before)),
		    "kvm.%s: cannot read it", param);
	r = nx_kvm_param_set(param, val);
	TEST_ASSERT(!nx_kvm_param_read(param, after, sizeof(after)),
		    "kvm.%s: cannot read it", param);
	TEST_ASSERT(r == -err,
		    "writing '%s' to kvm.%s: expected %s (%d), got %s (%d)",
		    val, param, err ? strerror(err) : "success", -err,
		    r ? strerror(-r) : "success", r);
	TEST_ASSERT(!strcmp(after, want ? want : before),
		    "after writing '%s' to kvm.%s: expected '%s', reads '%s'",
		    val, param, want ? want : before, after);
}

/* What "auto" resolves to: on only for CPUs with the iTLB multihit bug. */
static const char *auto_mode(void)
{
	char buf[128];

	if (nx_sysfs_read(ITLB_MULTIHIT, buf, sizeof(buf)))
		nx_skip("cannot read /sys/" ITLB_MULTIHIT);
	return strstr(buf, "Not affected") ? "N" : "Y";
}

static void run_param_values(const struct nx_case *c)
{
	struct nx_vm v;

	nx_prepare_split_host(NR_REGIONS, 100);
	/* A VM exists for the whole case: "never" must be refused. */
	nx_vm_create(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, 1, true, false);
	check_write("nx_huge_pages", "never", EBUSY, NULL);
	check_write("nx_huge_pages", "sometimes", EINVAL, NULL);
	check_write("nx_huge_pages", "off", 0, "N");
	check_write("nx_huge_pages", "force", 0, "Y");
	check_write("nx_huge_pages", "0", 0, "N");
	check_write("nx_huge_pages", "y", 0, "Y");
	check_write("nx_huge_pages", "auto", 0, auto_mode());
	check_write("nx_huge_pages_recovery_ratio", "-1", EINVAL, NULL);
	check_write("nx_huge_pages_recovery_ratio", "sixty", EINVAL, NULL);
	check_write("nx_huge_pages_recovery_ratio", "7", 0, "7");
	check_write("nx_huge_pages_recovery_period_ms", "1.5", EINVAL, NULL);
	check_write("nx_huge_pages_recovery_period_ms", "4294967296", ERANGE, NULL);
	check_write("nx_huge_pages_recovery_period_ms", "250", 0, "250");
	nx_vm_free(&v);
}

static const struct nx_case cases[] = {
	{ "hugetlb_2m.toggle_zaps_and_resplits", run_toggle,
	  .needs = NX_SPLIT_HOST_NEEDS(NR_REGIONS) },
	/*
	 * A KVM that wrongly takes "never" keeps it until kvm.ko is reloaded:
	 * only a VM, whose modules the runner reloads, may be put at risk.
	 */
	{ "param_values", run_param_values,
	  .vm_only = "writes kvm.nx_huge_pages=never, which a broken KVM keeps until kvm.ko is reloaded",
	  .needs = NX_SPLIT_HOST_NEEDS(NR_REGIONS) },
};

static const struct nx_suite suite = {
	.name = "nx_recovery_toggle",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
};

NX_SUITE_MAIN(suite)
