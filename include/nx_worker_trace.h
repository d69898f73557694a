/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The NX recovery worker traced with kprobes for the flush tests: the
 * probe table of a pass (nx_passtrace.h reads its records), finding the
 * VM's worker (a vhost task of this process from 6.12 on, which inherits
 * the CPU of the thread that first ran a vCPU; a kthread on 6.1, moved to
 * the CPU asked for) and one traced pass with ratio 1.
 */
#ifndef NX_WORKER_TRACE_H
#define NX_WORKER_TRACE_H

#include <sys/types.h>

#include "nx_passtrace.h"
#include "nx_vm.h"

#define NX_PASS_DEADLINE_MS	10000

extern struct nx_probe nx_pass_probes[NX_PT_NR_PROBES];

/* Pin task @pid (0: this thread) to @cpu, or to all @ncpus if @cpu < 0. */
void nx_pin_task(pid_t pid, int cpu, int ncpus);
void nx_pin_self(int cpu, int ncpus);

/*
 * Before the VM: a case that cannot trace skips before the costly part.
 * @shadow_zaps: the pass zaps shadow MMU pages even in a TDP MMU VM (a
 * nested guest's), so the shadow MMU's zap must be traced there too.
 */
void nx_pass_trace_setup(bool shadow_zaps);

/* Probes on, restricted to the VM's worker, which must run on @cpu. */
void nx_pass_trace_worker(int cpu);

/* The trace so far, walked into @t. */
void nx_pass_trace_read(struct nx_pass_trace *t);

/* Recovery on (ratio 1) until the trace holds one whole zapping pass. */
void nx_traced_pass(struct kvm_vm *vm, struct nx_pass_trace *t);

/* Every zap the pass made is in the trace: nothing was lost. */
void nx_check_trace_complete(const struct nx_pass_trace *t, int zapped);

/* A VM of @nr hugetlb 2M regions on a host prepared for splits. */
void nx_traced_split_vm(struct nx_vm *v, int nr);

#endif /* NX_WORKER_TRACE_H */
