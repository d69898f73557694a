// SPDX-License-Identifier: GPL-2.0-only
/*
 * The seed's rules on the pass over a nested guest's split pages.
 *
 * A nested guest's (L2's) NX splits are shadow MMU pages even in a VM that
 * runs on the TDP MMU (nx_nested.h), so since 6.18 a worker run has two
 * passes: the TDP MMU's under mmu_lock held for read, then the shadow
 * MMU's under the write lock.  l2_pass_flush_before_yield splits 256 of
 * L2's regions, none of L1's, traces the worker with kprobes through the
 * pass that zaps them under load (a busy thread on its CPU makes it yield),
 * and checks that:
 *  - every zap was the shadow MMU's (kvm_mmu_prepare_zap_page()), none the
 *    TDP MMU's, and the trace holds all 256;
 *  - the pass held the write lock: each yield went through
 *    cond_resched_rwlock_write(), none through the read variant;
 *  - every release of the lock (each yield, the end of the pass) came
 *    after a remote TLB flush of every earlier zap;
 *  - flushes are batched: exactly one per stretch of zaps that a yield or
 *    the end of the pass closes, never one per zap.
 * On kernels before 6.18 and under the legacy MMU the same pass is the
 * VM's only one, with the same duties.
 */
#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_load.h"
#include "nx_nested.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_vm.h"
#include "nx_worker_trace.h"

/* Passes tried until one yields; each costs a re-split of every region. */
#define MAX_ATTEMPTS		4

static void l2_split_all(struct nx_vm *v)
{
	int i;

	for (i = 0; i < v->r.nr; i++)
		nx_vm_exec_at(v, NX_L2, i);
}

static void check_pass(const struct nx_pass_trace *t, int attempt)
{
	TEST_ASSERT(t->zaps_shadow == NX_LOAD_REGIONS && t->zaps == NX_LOAD_REGIONS,
		    "attempt %d: expected %d zaps of L2's pages, all by the shadow MMU, traced %d, %d of them by the shadow MMU",
		    attempt, NX_LOAD_REGIONS, t->zaps, t->zaps_shadow);
	TEST_ASSERT(!t->violation[0],
		    "attempt %d: the pass over L2's pages dropped mmu_lock with zaps not flushed: %s",
		    attempt, t->violation);
	TEST_ASSERT(!t->yields_read,
		    "attempt %d: expected every yield of the shadow MMU's pass under the write lock, %d of %d through cond_resched_rwlock_read()",
		    attempt, t->yields_read, t->yields);
	TEST_ASSERT(t->flushes == t->stretches,
		    "attempt %d: a pass of %d zaps in %d stretches (each closed by a yield or the end of the pass) made %d remote TLB flushes, expected one per stretch",
		    attempt, t->zaps, t->stretches, t->flushes);
}

static void run_l2_pass_flush_before_yield(const struct nx_case *c)
{
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN), attempt, i;
	struct nx_load l = { .worker_cpu = ncpus - 1, .other_cpu = 0 };
	struct nx_pass_trace t;
	struct nx_vm v;

	nx_nested_require();
	nx_pass_trace_setup(true);
	nx_prepare_split_host(NX_LOAD_REGIONS, NX_PERIOD_MS);
	/* The worker, created by the first KVM_RUN, inherits this CPU. */
	nx_pin_self(l.worker_cpu, ncpus);
	nx_vm_create_nested(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB,
			    NX_LOAD_REGIONS, true);
	nx_pin_self(-1, ncpus);
	nx_pass_trace_worker(l.worker_cpu);
	nx_load_init(&v, &l);
	for (i = 0; i < v.r.nr; i++)
		nx_vm_read_at(&v, NX_L2, i);
	for (attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
		l2_split_all(&v);
		nx_loaded_pass(&v, &l, &t, "a pass over L2's split pages under load");
		printf("attempt %d: %d zaps (%d shadow MMU), %d flushes, %d yields (%d read), pass %lu us, longest hold %lu us\n",
		       attempt, t.zaps, t.zaps_shadow, t.flushes, t.yields,
		       t.yields_read, t.end_us - t.start_us, t.hold_max_us);
		check_pass(&t, attempt);
		if (t.yields)
			break;
	}
	attempt = min(attempt, MAX_ATTEMPTS);
	nx_metric("attempts", attempt, "passes");
	nx_metric("yields", t.yields, "yields");
	nx_metric("write_lock_hold_max_us", t.hold_max_us, "us");
	nx_metric("pass_us", t.end_us - t.start_us, "us");
	nx_load_report_stall(&l, &t);
	TEST_ASSERT(t.yields > 0,
		    "no yield in %d passes of %d zaps of L2's pages under load: the flush-before-yield path was not exercised",
		    attempt, NX_LOAD_REGIONS);
	nx_vm_free(&v);
	free(l.steps);
}

static const struct nx_case cases[] = {
	{ "hugetlb_2m.l2_pass_flush_before_yield", run_l2_pass_flush_before_yield,
	  .needs = { .flags = NX_NEEDS_ROOT | NX_NEEDS_THP | NX_NEEDS_KPROBES |
			      NX_NEEDS_NESTED,
		     .hugepages_2m = NX_LOAD_REGIONS } },
};

static const struct nx_suite suite = {
	.name = "nx_recovery_flush",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
};

NX_SUITE_MAIN(suite)
