// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm.nx_huge_pages while VMs run, and the values the NX parameters take.
 *
 * Turning the mitigation off must zap every VM's mappings, so that code in
 * 2M regions is mapped huge again without splits; turning it back on must
 * zap again so that execution splits again.  nx_huge_pages takes off,
 * force, auto and every kstrtobool() word (y, n, 0, 1, on); the recovery
 * parameters take unsigned ints.  A write the kernel refuses (a malformed
 * value, a number out of range, "never" while VMs exist) must leave the
 * parameter as it was.  "never" with no VM is not tried: it disables the
 * mitigation until kvm.ko is reloaded, which no test may do to its host.
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

/* A write and what it must do: refused with @err (0: accepted), @want after. */
struct param_write {
	const char *param;
	const char *val;
	int err;
	const char *want;	/* NULL: unchanged; AUTO_MODE: what "auto" gives */
};

#define AUTO_MODE	"(auto)"

/*
 * The values the kernel's documentation and set_nx_huge_pages() name, in
 * an order where every accepted write changes the value, so that a write
 * the kernel ignored shows.  With a VM alive "never" is refused.
 */
static const struct param_write writes[] = {
	{ "nx_huge_pages", "never", EBUSY, NULL },
	{ "nx_huge_pages", "sometimes", EINVAL, NULL },
	{ "nx_huge_pages", "off", 0, "N" },
	{ "nx_huge_pages", "force", 0, "Y" },
	/* The rest of kstrtobool()'s spellings. */
	{ "nx_huge_pages", "0", 0, "N" },
	{ "nx_huge_pages", "y", 0, "Y" },
	{ "nx_huge_pages", "n", 0, "N" },
	{ "nx_huge_pages", "1", 0, "Y" },
	{ "nx_huge_pages", "off", 0, "N" },
	{ "nx_huge_pages", "on", 0, "Y" },
	{ "nx_huge_pages", "auto", 0, AUTO_MODE },
	{ "nx_huge_pages_recovery_ratio", "-1", EINVAL, NULL },
	{ "nx_huge_pages_recovery_ratio", "sixty", EINVAL, NULL },
	{ "nx_huge_pages_recovery_ratio", "7", 0, "7" },
	{ "nx_huge_pages_recovery_period_ms", "1.5", EINVAL, NULL },
	{ "nx_huge_pages_recovery_period_ms", "4294967296", ERANGE, NULL },
	{ "nx_huge_pages_recovery_period_ms", "250", 0, "250" },
};

/* What "auto" resolves to: on only for CPUs with the iTLB multihit bug. */
static const char *auto_mode(void)
{
	char buf[128];

	if (nx_sysfs_read(ITLB_MULTIHIT, buf, sizeof(buf)))
		nx_skip("cannot read /sys/" ITLB_MULTIHIT);
	return strstr(buf, "Not affected") ? "N" : "Y";
}

/*
 * Do @w; append what went wrong, if anything, to @bad (of @len): every
 * write is tried, so that the failure lists each value the kernel took
 * wrongly.
 */
static void check_write(const struct param_write *w, char *bad, size_t len)
{
	const char *want = w->want;
	char before[64], after[64];
	size_t off = strlen(bad);
	int r;

	TEST_ASSERT(!nx_kvm_param_read(w->param, before, sizeof(before)),
		    "kvm.%s: cannot read it", w->param);
	if (want && !strcmp(want, AUTO_MODE))
		want = auto_mode();
	r = nx_kvm_param_set(w->param, w->val);
	TEST_ASSERT(!nx_kvm_param_read(w->param, after, sizeof(after)),
		    "kvm.%s: cannot read it", w->param);
	if (!want)
		want = before;
	if (r == -w->err && !strcmp(after, want))
		return;
	snprintf(bad + off, len - off,
		 "; '%s' to kvm.%s: expected %s (%d) and '%s' after, got %s (%d) and '%s'",
		 w->val, w->param, w->err ? strerror(w->err) : "success",
		 -w->err, want, r ? strerror(-r) : "success", r, after);
}

static void run_param_values(const struct nx_case *c)
{
	char bad[2048] = "";
	struct nx_vm v;
	size_t i;

	nx_prepare_split_host(NR_REGIONS, 100);
	/* A VM exists for the whole case: "never" must be refused. */
	nx_vm_create(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, 1, true, false);
	for (i = 0; i < ARRAY_SIZE(writes); i++)
		check_write(&writes[i], bad, sizeof(bad));
	TEST_ASSERT(!bad[0], "writes of the NX parameters not taken as the kernel documents%s",
		    bad);
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
