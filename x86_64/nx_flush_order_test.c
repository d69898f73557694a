// SPDX-License-Identifier: GPL-2.0-only
/*
 * The order of an NX recovery pass: no lock release with a flush owed.
 *
 * Until the remote TLB flush for a zap is done, vCPUs may still use the
 * zapped translations: a pass that dropped mmu_lock (to yield) with zaps
 * not yet flushed would let a vCPU fault in a page table the TLBs still
 * point into.  flush_before_yield traces the worker with kprobes through a
 * 256-zap pass under load (a busy thread on its CPU makes it yield) and
 * checks that every release, through cond_resched_rwlock_write() or, on
 * 6.18+ TDP MMU kernels, cond_resched_rwlock_read(), and the end of the
 * pass come after a flush of every earlier zap.
 */
#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_load.h"
#include "nx_poll.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_traits.h"
#include "nx_vm.h"
#include "nx_worker_trace.h"

/* Passes tried until one yields; each costs a re-split of every region. */
#define MAX_ATTEMPTS		4

static void check_ordering(const struct nx_pass_trace *t, int attempt)
{
	TEST_ASSERT(!t->violation[0],
		    "attempt %d: the recovery worker dropped mmu_lock with zaps not flushed: %s",
		    attempt, t->violation);
}

static void report_pass(const struct nx_pass_trace *t, int attempt)
{
	printf("attempt %d: %d zaps, %d flushes, %d yields (%d dropped the lock), pass %lu us, longest hold %lu us\n",
	       attempt, t->zaps, t->flushes, t->yields, t->yields_dropped,
	       t->end_us - t->start_us, t->hold_max_us);
}

/*
 * The pass yields only when the scheduler asks during it.  Zapping a page
 * table costs about what it maps: on an MMU that zaps and faults on a split
 * (6.1) each table maps one page and the whole pass takes a few ms, too
 * short to be asked.  Mapping 128 pages in each makes it tens of ms, many
 * scheduler ticks.
 */
static void fill_timed(struct nx_vm *v, int attempt)
{
	uint64_t t0 = nx_now_us();

	if (v->split_4k == NX_PTES_PER_2M)
		return;
	nx_vm_fill_split(v);
	if (attempt == 1)
		nx_metric("fill_ms", (nx_now_us() - t0) / 1000.0, "ms");
}

/* One big pass under load; the model accounts for what it did. */
static void ordering_attempt(struct nx_vm *v, struct nx_load *l,
			     struct nx_pass_trace *t, int attempt)
{
	if (attempt > 1)
		nx_vm_exec_all(v);
	fill_timed(v, attempt);
	nx_loaded_pass(v, l, t, "a recovery pass under load");
	report_pass(t, attempt);
	check_ordering(t, attempt);
}

static void report_ordering(const struct nx_pass_trace *t, const struct nx_load *l,
			    int attempts)
{
	nx_metric("attempts", attempts, "passes");
	nx_metric("yields", t->yields, "yields");
	nx_metric("write_lock_hold_max_us", t->hold_max_us, "us");
	nx_metric("flush_latency_max_us", t->flush_lat_max_us, "us");
	nx_metric("pass_us", t->end_us - t->start_us, "us");
	nx_load_report_stall(l, t);
}

static void run_flush_before_yield(const struct nx_case *c)
{
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN), attempt;
	struct nx_load l = { .worker_cpu = ncpus - 1, .other_cpu = 0 };
	struct nx_pass_trace t;
	struct nx_vm v;

	/*
	 * Under either lock: 6.18+ zap TDP MMU pages under the read lock and
	 * yield through cond_resched_rwlock_read(), with the same duty to
	 * flush first; the shadow MMU keeps the write lock.
	 */
	nx_pass_trace_setup(false);
	/* The worker, created by the first KVM_RUN, inherits this CPU. */
	nx_pin_self(l.worker_cpu, ncpus);
	nx_traced_split_vm(&v, NX_LOAD_REGIONS);
	nx_pin_self(-1, ncpus);
	nx_pass_trace_worker(l.worker_cpu);
	nx_load_init(&v, &l);
	nx_vm_read_all(&v);
	nx_vm_exec_all(&v);
	for (attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
		ordering_attempt(&v, &l, &t, attempt);
		if (t.yields)
			break;
	}
	attempt = min(attempt, MAX_ATTEMPTS);
	report_ordering(&t, &l, attempt);
	TEST_ASSERT(t.yields > 0,
		    "no yield in %d passes of %d zaps under load: the flush-before-yield path was not exercised",
		    attempt, NX_LOAD_REGIONS);
	nx_vm_free(&v);
	free(l.steps);
}

static const struct nx_case cases[] = {
	{ "hugetlb_2m.flush_before_yield", run_flush_before_yield,
	  .needs = { .flags = NX_NEEDS_ROOT | NX_NEEDS_THP | NX_NEEDS_KPROBES,
		     .hugepages_2m = NX_LOAD_REGIONS } },
};

/* One suite name for the three flush tests: their cases keep their names. */
static const struct nx_suite suite = {
	.name = "nx_recovery_flush",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
};

NX_SUITE_MAIN(suite)
