// SPDX-License-Identifier: GPL-2.0-only
/*
 * NX recovery and dirty logging.
 *
 * Zapping an NX-split page in a memslot with dirty logging on would only
 * make the guest fault it back at 4K, so since 6.2 recovery unaccounts such
 * pages instead: nx_lpage_splits drops, the 4K mappings stay, and the
 * guest's accesses to them change no counter.  Older kernels (Debian's 6.1 included)
 * zap them like any other: the guest faults the pages back at 4K, and
 * those faults are no NX splits, since dirty logging rules out a huge
 * mapping first.  Each kernel is held to the behaviour of its version, and
 * the output names which one it showed.  When dirty logging is turned off
 * KVM zaps the 4K mappings (7.x makes them huge in place), and the regions
 * are mapped huge again.
 */

#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_poll.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_traits.h"
#include "nx_vm.h"

#define NR_REGIONS		8
#define ZAP_DEADLINE_MS		10000

/* The upstream change that unaccounts instead of zapping came in 6.2. */
static bool kernel_zaps_dirty_logged(void)
{
	return !nx_kernel_has(NX_TRAIT_DIRTY_LOG_UNACCOUNTS);
}

static void check_unaccounted(struct nx_vm *v)
{
	int64_t before = v->want.pages_4k;
	int64_t after;

	after = nx_vm_stat(v->vm, pages_4k);
	TEST_ASSERT(after == before,
		    "kernel %s: recovery in a dirty-logged memslot changed pages_4k %ld -> %ld; expected the split pages unaccounted but left mapped (6.2+)",
		    nx_kernel_release(), before, after);
	nx_vm_unaccounted(v, v->want.nx_lpage_splits);
}

struct pages_4k_wait {
	struct kvm_vm *vm;
	int64_t want;
};

static bool pages_4k_reached(void *arg)
{
	struct pages_4k_wait *w = arg;

	return nx_vm_stat(w->vm, pages_4k) == w->want;
}

static void check_zapped(struct nx_vm *v)
{
	int64_t before = v->want.pages_4k;
	struct pages_4k_wait w = { v->vm };
	int64_t after;

	printf("kernel %s: recovery zaps split pages in dirty-logged slots (pre-6.2 behaviour; 6.2+ unaccounts them and leaves them mapped)\n",
	       nx_kernel_release());
	nx_vm_recovered(v, v->want.nx_lpage_splits);
	w.want = v->want.pages_4k;
	nx_poll_until(pages_4k_reached, &w, ZAP_DEADLINE_MS, 500, NULL);
	after = nx_vm_stat(v->vm, pages_4k);
	TEST_ASSERT(after == w.want,
		    "kernel %s (before 6.2): recovery in a dirty-logged memslot left pages_4k %ld -> %ld within %d ms; expected the split pages zapped (pages_4k %ld)%s",
		    nx_kernel_release(), before, after, ZAP_DEADLINE_MS, w.want,
		    after == before ? ": unaccounted as in 6.2+, was that change backported?" : "");
}

static void check_recovery(struct nx_vm *v)
{
	nx_set_recovery(1, NX_PERIOD_MS);
	nx_wait_all_recovered(v->vm, NX_RECOVERY_DEADLINE_MS,
			      "recovery with dirty logging on", "recovery_ms");
	if (kernel_zaps_dirty_logged())
		check_zapped(v);
	else
		check_unaccounted(v);
	nx_vm_expect_eventually(v, "recovery with dirty logging on");
}

static void run_dirty_log(const struct nx_case *c)
{
	struct nx_vm v;

	nx_prepare_split_host(NR_REGIONS, NX_PERIOD_MS);
	nx_vm_create(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, NR_REGIONS, true,
		     false);
	nx_vm_read_all(&v);
	nx_vm_exec_all(&v);

	nx_vm_set_dirty_log(&v, true);
	check_recovery(&v);
	/*
	 * 6.2+: still mapped at 4K, touching the regions faults nothing in.
	 * Before: each faults one 4K page back in, not accounted as a split.
	 */
	nx_vm_exec_all(&v);
	nx_vm_read_all(&v);

	nx_set_recovery(0, NX_PERIOD_MS);
	nx_vm_set_dirty_log(&v, false);
	nx_vm_read_all(&v);
	nx_vm_free(&v);
}

static const struct nx_case cases[] = {
	{ "hugetlb_2m.unaccounted_not_zapped", run_dirty_log,
	  .needs = NX_SPLIT_HOST_NEEDS(NR_REGIONS) },
};

static const struct nx_suite suite = {
	.name = "nx_recovery_dirty_log",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
};

NX_SUITE_MAIN(suite)
