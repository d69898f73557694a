// SPDX-License-Identifier: GPL-2.0-only
/*
 * Remote TLB flushes of an NX recovery pass, counted.
 *
 * A recovery pass zaps split pages with mmu_lock held.  Until the remote
 * TLB flush for a zap is done, vCPUs may still use the zapped
 * translations, so the pass must flush before it drops the lock (to
 * yield, or at its end).  Flushes are batched: one per stretch of zaps
 * between yields, never one per page, never none.  flush_counts reads the
 * VM's flush statistics around single traced passes (of 1 and of 256
 * zaps) and checks that recovery with nothing split flushes nothing.
 */
#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_poll.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_traits.h"
#include "nx_vm.h"
#include "nx_worker_trace.h"

#define NR_FLUSH_REGIONS	256
/* Passes tried until one ends with zaps; each costs a re-split. */
#define MAX_ATTEMPTS		4
/* Bounded waits that assert that nothing happens. */
#define QUIET_WAIT_MS		1000
#define QUIET_PERIOD_MS		20

struct flushes {
	int64_t requests;	/* calls of kvm_flush_remote_tlbs() */
	int64_t done;		/* ... that had to reach a running vCPU */
};

static void read_flushes(struct kvm_vm *vm, struct flushes *f)
{
	f->requests = nx_vm_stat(vm, remote_tlb_flush_requests);
	f->done = nx_vm_stat(vm, remote_tlb_flush);
}

/*
 * Flushes of one pass over the @n split pages.  The guest is idle, so the
 * worker is the only one flushing.  remote_tlb_flush counts only flushes
 * that had to kick a vCPU in guest mode (none here), so the rule is checked
 * on remote_tlb_flush_requests, one per kvm_flush_remote_tlbs().  Returns
 * whether the pass zapped after its last yield, i.e. whether it needed the
 * flush at its end.
 */
static bool counted_pass(struct nx_vm *v, int n, const char *metric)
{
	struct flushes a, b;
	struct nx_pass_trace t;
	int64_t req;

	read_flushes(v->vm, &a);
	nx_traced_pass(v->vm, &t);
	nx_vm_recovered(v, n);
	nx_vm_expect_eventually(v, "a recovery pass with ratio 1");
	read_flushes(v->vm, &b);
	nx_check_trace_complete(&t, n);
	req = b.requests - a.requests;
	TEST_ASSERT(req >= 1,
		    "a pass that zapped %d split pages made %ld remote TLB flush requests, expected at least 1",
		    n, req);
	TEST_ASSERT(req <= 1 + t.yields,
		    "a pass that zapped %d split pages made %ld remote TLB flush requests, expected at most 1 + %d (its yields): flushes must be batched, not one per zap",
		    n, req, t.yields);
	TEST_ASSERT(req == t.stretches,
		    "a pass that zapped %d split pages in %d stretches (each ended by a yield or the end of the pass) made %ld remote TLB flush requests, expected one per stretch",
		    n, t.stretches, req);
	TEST_ASSERT(b.done - a.done <= req,
		    "remote_tlb_flush grew by %ld, more than the %ld requests",
		    b.done - a.done, req);
	printf("pass of %d zaps: %ld flush requests, %ld delivered, %d yields, %d zaps after the last\n",
	       n, req, b.done - a.done, t.yields, t.final_zaps);
	nx_metric(metric, req, "flushes");
	return t.final_zaps > 0;
}

/*
 * A pass whose last zap is followed by a yield owes no flush at its end,
 * so it cannot show a missing end-of-pass flush: split the same regions
 * again and repeat until a pass does need it.
 */
static void counted_passes(struct nx_vm *v, int n, const char *metric)
{
	int attempt;

	for (attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
		if (attempt > 1)
			nx_vm_exec_all(v);
		if (counted_pass(v, n, metric)) {
			nx_metric("end_flush_attempts", attempt, "passes");
			return;
		}
	}
	TEST_FAIL("%d passes of %d zaps each ended with a yield: the flush at the end of a pass was never exercised",
		  MAX_ATTEMPTS, n);
}

struct quiet {
	struct kvm_vm *vm;
	int64_t requests;
};

static bool flush_seen(void *arg)
{
	struct quiet *q = arg;

	return nx_vm_stat(q->vm, remote_tlb_flush_requests) != q->requests;
}

/*
 * Recovery on with nothing split: the passes that run zap nothing and must
 * flush nothing.  A deliberate bounded wait, ended early by a flush.
 */
static void expect_idle_passes_quiet(struct nx_vm *v)
{
	struct quiet q = { .vm = v->vm };
	struct nx_pass_trace t;
	bool flushed;

	q.requests = nx_vm_stat(v->vm, remote_tlb_flush_requests);
	nx_trace_clear();
	nx_trace_enable(true);
	nx_set_recovery(1, QUIET_PERIOD_MS);
	flushed = nx_poll_until(flush_seen, &q, QUIET_WAIT_MS, 1000, NULL);
	nx_set_recovery(0, NX_PERIOD_MS);
	nx_trace_enable(false);
	nx_pass_trace_read(&t);
	TEST_ASSERT(!flushed,
		    "recovery with no split page flushed: remote_tlb_flush_requests %ld -> %ld within %d ms",
		    q.requests, nx_vm_stat(v->vm, remote_tlb_flush_requests),
		    QUIET_WAIT_MS);
	TEST_ASSERT(t.runs >= 1,
		    "the recovery worker did not run in %d ms with period %d ms: the quiet check proved nothing",
		    QUIET_WAIT_MS, QUIET_PERIOD_MS);
	nx_metric("idle_worker_runs", t.runs, "runs");
	nx_vm_expect(v, "recovery passes with nothing split");
}

static void run_flush_counts(const struct nx_case *c)
{
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct nx_vm v;

	nx_pass_trace_setup(false);
	/*
	 * Nothing else on the worker's CPU: an idle pass of one zap should
	 * not yield, so its flush is the one at the end of the pass.
	 */
	nx_pin_self(ncpus - 1, ncpus);
	nx_traced_split_vm(&v, NR_FLUSH_REGIONS);
	nx_pin_self(0, ncpus);
	nx_pass_trace_worker(ncpus - 1);
	nx_vm_read_all(&v);
	nx_vm_exec(&v, 0);
	/* One zap: it may be followed by a yield, so this is not retried. */
	counted_pass(&v, 1, "flushes_1_zap");
	nx_vm_exec_all(&v);
	counted_passes(&v, NR_FLUSH_REGIONS, "flushes_256_zaps");
	expect_idle_passes_quiet(&v);
	nx_vm_free(&v);
}

static const struct nx_case cases[] = {
	{ "hugetlb_2m.flush_counts", run_flush_counts,
	  .needs = { .flags = NX_NEEDS_ROOT | NX_NEEDS_THP | NX_NEEDS_KPROBES,
		     .hugepages_2m = NR_FLUSH_REGIONS } },
};

/* One suite name for the three flush tests: their cases keep their names. */
static const struct nx_suite suite = {
	.name = "nx_recovery_flush",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
};

NX_SUITE_MAIN(suite)
