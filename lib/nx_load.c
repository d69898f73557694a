// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load beside a traced recovery pass: a busy thread on the worker's CPU,
 * a second vCPU faulting on fresh 4K pages of its own slot; see
 * include/nx_load.h.
 */
#include <pthread.h>
#include <stdlib.h>

#include "nx_compat.h"
#include "nx_counts.h"
#include "nx_load.h"
#include "nx_poll.h"
#include "nx_results.h"
#include "nx_vcpu.h"
#include "nx_worker_trace.h"

/* Memory a second vCPU faults on during the pass: 4K pages, own slot. */
#define FAULT_GPA		(8UL << 30)
#define FAULT_SLOT		11
#define FAULT_PAGE		4096UL
#define FAULT_PAGES		16384
/* Steps of the faulting vCPU before the pass, to know its pace. */
#define WARM_STEPS		8

static void faulter_guest(uint64_t gva, uint64_t nr_pages)
{
	uint64_t i;

	for (i = 0;; i++) {
		READ_ONCE(*(uint64_t *)(gva + (i % nr_pages) * FAULT_PAGE));
		GUEST_SYNC(i);
	}
}

static void faulter_step(struct nx_load *l)
{
	struct ucall uc;

	nx_vcpu_run(l->vcpu, "a read of a fresh 4K page (faulting vCPU)");
	TEST_ASSERT(get_ucall(l->vcpu, &uc) == UCALL_SYNC &&
		    uc.args[1] == l->total_steps,
		    "faulting vCPU: expected sync %lu, got exit %u (%s), ucall args %lu",
		    l->total_steps, l->vcpu->run->exit_reason,
		    exit_reason_str(l->vcpu->run->exit_reason), uc.args[1]);
	l->total_steps++;
}

static void *faulter_fn(void *arg)
{
	struct nx_load *l = arg;

	nx_pin_self(l->other_cpu, l->worker_cpu + 1);
	while (!READ_ONCE(l->stop)) {
		faulter_step(l);
		if (l->nr_steps < MAX_STEPS)
			l->steps[l->nr_steps] = nx_now_us();
		WRITE_ONCE(l->nr_steps, l->nr_steps + 1);
	}
	return NULL;
}

static void *busy_fn(void *arg)
{
	struct nx_load *l = arg;

	nx_pin_self(l->worker_cpu, l->worker_cpu + 1);
	while (!READ_ONCE(l->stop))
		cpu_relax();
	return NULL;
}

/* Fault pages the model has not accounted yet: one 4K mapping each. */
void nx_load_account(struct nx_vm *v, struct nx_load *l)
{
	uint64_t pages = min_t(uint64_t, l->total_steps, FAULT_PAGES);

	v->want.pages_4k += pages - l->touched;
	l->touched = pages;
}

/*
 * A second vCPU over its own slot, mapped with a 1G guest page so that only
 * its data pages fault.  Its first step maps its code, stack and ucall
 * pages too: take a new baseline after it, then every later step on a
 * fresh page adds exactly one 4K mapping.
 */
void nx_load_init(struct nx_vm *v, struct nx_load *l)
{
	struct nx_counts got;

	vm_userspace_mem_region_add(v->vm, VM_MEM_SRC_ANONYMOUS, FAULT_GPA,
				    FAULT_SLOT, FAULT_PAGES, 0);
	virt_map_level(v->vm, FAULT_GPA, FAULT_GPA, 1UL << 30, PG_LEVEL_1G);
	l->vcpu = vm_vcpu_add(v->vm, 1, faulter_guest);
	vcpu_args_set(l->vcpu, 2, FAULT_GPA, FAULT_PAGES);
	l->steps = calloc(MAX_STEPS, sizeof(*l->steps));
	TEST_ASSERT(l->steps, "out of memory");
	faulter_step(l);
	nx_counts_read(v->vm, &got);
	TEST_ASSERT(got.nx_lpage_splits == v->want.nx_lpage_splits &&
		    got.pages_2m == v->want.pages_2m &&
		    got.pages_1g == v->want.pages_1g,
		    "a read-only vCPU on 4K memory changed NX or huge counters: splits %ld -> %ld, pages_2m %ld -> %ld",
		    v->want.nx_lpage_splits, got.nx_lpage_splits,
		    v->want.pages_2m, got.pages_2m);
	v->want = got;
	l->touched = 1;
}

static bool warmed_up(void *arg)
{
	return READ_ONCE(((struct nx_load *)arg)->nr_steps) >= WARM_STEPS;
}

/*
 * Without the busy thread the faulting vCPU's pace before the pass is
 * measured (faults_beside_pass): let it take a few steps first.
 */
void nx_load_start(struct nx_load *l)
{
	int r = 0;

	l->stop = false;
	l->nr_steps = 0;
	if (!l->no_busy)
		r = pthread_create(&l->busy, NULL, busy_fn, l);
	TEST_ASSERT(!r, "pthread_create (busy thread): %s", strerror(r));
	r = pthread_create(&l->faulter, NULL, faulter_fn, l);
	TEST_ASSERT(!r, "pthread_create (faulting vCPU): %s", strerror(r));
	if (l->no_busy)
		nx_poll_until(warmed_up, l, NX_PASS_DEADLINE_MS, 1000, NULL);
}

struct step_after {
	struct nx_load *l;
	int seen;
	uint64_t t_us;
};

static bool stepped_after(void *arg)
{
	struct step_after *s = arg;
	int n = READ_ONCE(s->l->nr_steps);

	return n > s->seen && n <= MAX_STEPS && s->l->steps[n - 1] > s->t_us;
}

/* Stop once the faulting vCPU has completed a step after the pass. */
void nx_load_stop(struct nx_load *l, uint64_t pass_end_us)
{
	struct step_after s = { l, 0, pass_end_us };

	nx_poll_until(stepped_after, &s, NX_PASS_DEADLINE_MS, 1000, NULL);
	WRITE_ONCE(l->stop, true);
	if (!l->no_busy)
		pthread_join(l->busy, NULL);
	pthread_join(l->faulter, NULL);
	TEST_ASSERT(l->nr_steps <= MAX_STEPS &&
		    l->steps[l->nr_steps - 1] > pass_end_us,
		    "the faulting vCPU completed no step after the pass (%d steps): stuck?",
		    l->nr_steps);
}

/* The longest wait for a guest step that overlaps the pass. */
void nx_load_report_stall(const struct nx_load *l, const struct nx_pass_trace *t)
{
	uint64_t gap, stall = 0;
	int i, in_pass = 0;

	for (i = 1; i < l->nr_steps; i++) {
		if (l->steps[i] <= t->start_us || l->steps[i - 1] >= t->end_us)
			continue;
		gap = l->steps[i] - l->steps[i - 1];
		stall = max(stall, gap);
		in_pass++;
	}
	nx_metric("vcpu_stall_max_us", stall, "us");
	nx_metric("vcpu_steps_in_pass", in_pass, "steps");
	if (l->nr_steps > 1)
		nx_metric("vcpu_step_mean_us",
			  (l->steps[l->nr_steps - 1] - l->steps[0]) /
			  (l->nr_steps - 1), "us");
}

/* One big traced pass with @l running; the model accounts for it. */
void nx_loaded_pass(struct nx_vm *v, struct nx_load *l, struct nx_pass_trace *t,
			const char *why)
{
	nx_load_start(l);
	nx_traced_pass(v->vm, t);
	nx_load_stop(l, t->end_us);
	nx_load_account(v, l);
	nx_vm_recovered(v, NX_LOAD_REGIONS);
	nx_vm_expect_eventually(v, why);
	nx_check_trace_complete(t, NX_LOAD_REGIONS);
}

