/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Load during a big traced recovery pass.  The pass yields only when
 * need_resched() (or a contended lock in a preemptible kernel): a busy
 * thread on the worker's CPU makes the scheduler ask.  A second vCPU on
 * the other CPU keeps faulting on fresh 4K pages of its own slot: each
 * fault needs mmu_lock, so the time between its guest steps shows how
 * long the pass held it.
 */
#ifndef NX_LOAD_H
#define NX_LOAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "nx_passtrace.h"
#include "nx_vm.h"

/* Split regions of the big pass. */
#define NX_LOAD_REGIONS		256
#define MAX_STEPS		(1 << 18)

/*
 * Load during the big pass.  The pass yields only when need_resched() (or a
 * contended lock in a preemptible kernel): a busy thread on the worker's
 * CPU makes the scheduler ask.  A second vCPU on the other CPU keeps
 * faulting on fresh 4K pages of its own slot: each fault needs mmu_lock,
 * so the time between its guest steps shows how long the pass held it.
 */
struct nx_load {
	struct kvm_vcpu *vcpu;
	int worker_cpu, other_cpu;
	bool no_busy;		/* leave the worker's CPU idle */
	pthread_t busy, faulter;
	bool stop;
	uint64_t total_steps;	/* guest steps ever, the first in warm-up */
	uint64_t touched;	/* fault pages the model accounts for */
	int nr_steps;		/* this attempt's step times */
	uint64_t *steps;
};

/*
 * The second vCPU over its own slot, mapped with a 1G guest page so that
 * only its data pages fault; @v's model is rebased after its first step.
 */
void nx_load_init(struct nx_vm *v, struct nx_load *l);
void nx_load_start(struct nx_load *l);
/* Stop once the faulting vCPU has completed a step after the pass. */
void nx_load_stop(struct nx_load *l, uint64_t pass_end_us);
/* Fault pages the model has not accounted yet: one 4K mapping each. */
void nx_load_account(struct nx_vm *v, struct nx_load *l);
/* The longest wait for a guest step that overlaps the pass, as metrics. */
void nx_load_report_stall(const struct nx_load *l,
			  const struct nx_pass_trace *t);
/* One big traced pass with @l running; the model accounts for it. */
void nx_loaded_pass(struct nx_vm *v, struct nx_load *l,
		    struct nx_pass_trace *t, const char *why);

#endif /* NX_LOAD_H */
