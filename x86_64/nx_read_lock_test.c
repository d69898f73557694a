// SPDX-License-Identifier: GPL-2.0-only
/*
 * Faults beside an NX recovery pass that holds mmu_lock for read.
 *
 * From 6.18, KVM recovers TDP MMU pages with mmu_lock held for read, to
 * cut the guest jitter of a long pass.  faults_beside_pass checks what
 * that change is for: a vCPU faulting on other memory keeps making
 * progress while a large pass runs.  (The duty to flush before yielding
 * is the same under either lock: nx_flush_order_test checks it.)
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

/* Passes tried until enough faults were seen beside the holds. */
#define MAX_ATTEMPTS		4
/*
 * Guest steps beyond the one per hold a write lock lets through that show
 * faults running beside the pass.  Under a write lock there are none, ever;
 * under the read lock a pass of 256 zaps on 7.3 under TCG shows 3 to 9
 * (the two guest vCPUs share one TCG thread, so the faulting vCPU runs at
 * about half its pace while the worker does), so up to four passes are
 * taken together until there are this many.
 */
#define BEYOND_STEPS		3
/* Room in the holds for this many such steps at least, or it proves nothing. */
#define LONG_HOLD_STEPS		8

/*
 * 6.18 and later recover TDP MMU pages under mmu_lock held for read (the
 * series that brought this renamed kvm_tdp_mmu_zap_sp()): vCPU faults run
 * beside the pass; the pass must still flush before each yield.
 */
static bool read_lock_scheme(void)
{
	return nx_kernel_has(NX_TRAIT_READ_LOCK_RECOVERY);
}

static void require_read_lock_scheme(void)
{
	if (!read_lock_scheme())
		nx_skip("KVM recovers NX pages under mmu_lock held for write (no kvm_tdp_mmu_zap_possible_nx_huge_page, or tdp_mmu=N): faults wait for the pass by design, flush_before_yield covers it");
}

/*
 * What the faulting vCPU did while passes held mmu_lock.  Under a write
 * lock a step can complete inside a hold only if its fault was done before
 * the hold began: one per hold at most.  Steps beyond that one are faults
 * that ran beside the pass.
 */
struct beside {
	int holds;		/* holds longer than a mean step */
	double room;		/* steps those holds had room for beyond one each */
	int beyond;		/* steps completed inside them beyond one each */
};

static uint64_t mean_step_before(const struct nx_load *l, uint64_t t_us)
{
	int i, n = min(l->nr_steps, MAX_STEPS), before = 0;

	for (i = 0; i < n; i++)
		before += l->steps[i] <= t_us;
	return before > 1 ?
		(l->steps[before - 1] - l->steps[0]) / (before - 1) : 0;
}

static int steps_inside(const struct nx_load *l, const struct nx_hold *h)
{
	int i, n = min(l->nr_steps, MAX_STEPS), inside = 0;

	for (i = 0; i < n; i++)
		inside += l->steps[i] > h->start_us && l->steps[i] < h->end_us;
	return inside;
}

/*
 * A pass in a preemptible kernel yields often (7.3: ten times or more in a
 * pass of 256 zaps), so no single hold need be long: every hold of every
 * attempt counts, each for what a write lock could not explain.
 */
static void add_beside(const struct nx_load *l, const struct nx_pass_trace *t,
		       uint64_t mean_us, struct beside *b)
{
	const struct nx_hold *h;
	uint64_t len;
	int i;

	for (i = 0; mean_us && i < t->nr_holds; i++) {
		h = &t->holds[i];
		len = h->end_us - h->start_us;
		if (len <= mean_us)
			continue;
		b->holds++;
		b->room += (double)(len - mean_us) / mean_us;
		b->beyond += max(steps_inside(l, h) - 1, 0);
	}
}

/*
 * One big pass while the second vCPU faults on fresh pages, added to @b.
 * Returns whether the passes so far have shown BEYOND_STEPS faults beside
 * their holds.
 */
static bool progress_attempt(struct nx_vm *v, struct nx_load *l,
			     struct nx_pass_trace *t, int attempt,
			     struct beside *b)
{
	uint64_t mean_us;

	if (attempt > 1)
		nx_vm_exec_all(v);
	nx_loaded_pass(v, l, t, "a recovery pass beside a faulting vCPU");
	mean_us = mean_step_before(l, t->start_us);
	add_beside(l, t, mean_us, b);
	printf("attempt %d: pass of %d zaps %lu us, %d yields, %d lock holds (longest %lu us), mean step before the pass %lu us; so far %d holds longer than a step, with room for %.1f steps beyond one each, %d completed\n",
	       attempt, t->zaps, t->end_us - t->start_us, t->yields,
	       t->nr_holds, t->hold_max_us, mean_us, b->holds, b->room,
	       b->beyond);
	return b->beyond >= BEYOND_STEPS;
}

/*
 * Each guest step faults on a fresh page, and a fault needs mmu_lock: under
 * a write-locked pass at most the step whose fault was already done can
 * complete inside a hold, one per hold.  Under a read-locked pass faults go
 * on at about their pace.
 */
static void run_faults_beside_pass(const struct nx_case *c)
{
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN), attempt;
	struct nx_load l = {
		.worker_cpu = ncpus - 1, .other_cpu = 0, .no_busy = true,
	};
	bool seen = false;
	struct beside b = { 0 };
	struct nx_pass_trace t;
	struct nx_vm v;

	require_read_lock_scheme();
	nx_pass_trace_setup(false);
	nx_pin_self(l.worker_cpu, ncpus);
	nx_traced_split_vm(&v, NX_LOAD_REGIONS);
	/* This thread stays off the worker's CPU too. */
	nx_pin_self(l.other_cpu, ncpus);
	nx_pass_trace_worker(l.worker_cpu);
	nx_load_init(&v, &l);
	nx_vm_read_all(&v);
	nx_vm_exec_all(&v);
	for (attempt = 1; attempt <= MAX_ATTEMPTS && !seen; attempt++)
		seen = progress_attempt(&v, &l, &t, attempt, &b);
	nx_metric("attempts", attempt - 1, "passes");
	nx_metric("lock_hold_max_us", t.hold_max_us, "us");
	nx_metric("lock_holds", b.holds, "holds");
	nx_metric("vcpu_step_room_in_holds", b.room, "steps");
	nx_metric("vcpu_steps_beside_holds", b.beyond, "steps");
	nx_load_report_stall(&l, &t);
	TEST_ASSERT(seen || b.room >= LONG_HOLD_STEPS,
		    "%d passes of %d zaps held mmu_lock with room for %.1f guest steps beyond one per hold, expected %d: too short to show whether faults run beside them",
		    MAX_ATTEMPTS, NX_LOAD_REGIONS, b.room, LONG_HOLD_STEPS);
	TEST_ASSERT(seen,
		    "a vCPU faulting on other memory completed %d guest steps beyond one per hold in %d holds of mmu_lock by %d recovery passes (room for %.1f): expected at least %d, faults running beside a pass that holds the lock for read; a write lock lets one through per hold",
		    b.beyond, b.holds, MAX_ATTEMPTS, b.room, BEYOND_STEPS);
	nx_vm_free(&v);
	free(l.steps);
}

static const struct nx_case cases[] = {
	{ "hugetlb_2m.faults_beside_pass", run_faults_beside_pass,
	  .needs = { .flags = NX_NEEDS_ROOT | NX_NEEDS_THP | NX_NEEDS_KPROBES,
		     .hugepages_2m = NX_LOAD_REGIONS,
		     .traits = 1U << NX_TRAIT_READ_LOCK_RECOVERY } },
};

/* One suite name for the three flush tests: their cases keep their names. */
static const struct nx_suite suite = {
	.name = "nx_recovery_flush",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
};

NX_SUITE_MAIN(suite)
