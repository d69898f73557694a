// SPDX-License-Identifier: GPL-2.0-only
/*
 * NX recovery and dirty logging.
 *
 * Zapping an NX-split page in a memslot with dirty logging on would only
 * make the guest fault it back at 4K, so recovery unaccounts such pages
 * instead: nx_lpage_splits drops, the 4K mappings stay, and the guest
 * touches them without faulting.  When dirty logging is turned off KVM zaps
 * the 4K mappings, and the region can be mapped huge again.  (Kernels before
 * 6.2 zap instead of unaccounting; the failure message says what was seen.)
 */
#include <sys/utsname.h>

#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_poll.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_vm.h"

#define NR_REGIONS		8
#define PERIOD_MS		100
#define RECOVERY_DEADLINE_MS	10000

static const char *kernel_release(void)
{
	static struct utsname u;

	uname(&u);
	return u.release;
}

static void check_unaccounted(struct nx_vm *v)
{
	int64_t before = v->want.pages_4k;
	int64_t after;

	nx_set_recovery(1, PERIOD_MS);
	nx_wait_all_recovered(v->vm, RECOVERY_DEADLINE_MS,
			      "recovery with dirty logging on", "recovery_ms");
	after = nx_vm_stat(v->vm, pages_4k);
	TEST_ASSERT(after == before,
		    "kernel %s: recovery in a dirty-logged memslot changed pages_4k %ld -> %ld; expected the split pages unaccounted but left mapped",
		    kernel_release(), before, after);
	nx_vm_unaccounted(v, v->want.nx_lpage_splits);
	nx_vm_expect_eventually(v, "recovery with dirty logging on");
}

static void run_dirty_log(const struct nx_case *c)
{
	struct nx_vm v;

	nx_prepare_split_host(NR_REGIONS, PERIOD_MS);
	nx_vm_create(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, NR_REGIONS, true,
		     false);
	nx_vm_read_all(&v);
	nx_vm_exec_all(&v);

	vm_mem_region_set_flags(v.vm, NX_REGIONS_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
	nx_vm_expect(&v, "turning dirty logging on");
	check_unaccounted(&v);
	/* Still mapped at 4K: touching the regions faults nothing in. */
	nx_vm_exec_all(&v);
	nx_vm_read_all(&v);

	nx_set_recovery(0, PERIOD_MS);
	vm_mem_region_set_flags(v.vm, NX_REGIONS_SLOT, 0);
	nx_vm_collapsed(&v);
	nx_vm_expect(&v, "turning dirty logging off");
	nx_vm_read_all(&v);
	nx_vm_free(&v);
}

static const struct nx_case cases[] = {
	{ "hugetlb_2m.unaccounted_not_zapped", run_dirty_log },
};

int main(int argc, char **argv)
{
	static const struct nx_suite suite = {
		.name = "nx_recovery_dirty_log",
		.cases = cases,
		.nr_cases = ARRAY_SIZE(cases),
		.timeout_s = 120,
	};

	return nx_suite_main(&suite, argc, argv);
}
