/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM_RUN with a deadline.  A KVM that never lets a vCPU come back (one
 * that refaults an access forever) would otherwise leave every case silent
 * until its whole-case timeout, and a run of the suite would take an hour
 * to say "bad".  Each guest step gets NX_STEP_TIMEOUT_S seconds (default
 * 10, from the environment); a vCPU still in KVM_RUN then is interrupted
 * with a signal and the case fails at once, naming what the vCPU was doing
 * and where the guest was.
 */
#ifndef NX_VCPU_H
#define NX_VCPU_H

#include "nx_compat.h"

#define NX_STEP_TIMEOUT_S	10

/* Seconds a guest step may take: NX_STEP_TIMEOUT_S or the environment's. */
unsigned int nx_step_timeout_s(void);

/*
 * vcpu_run() of the framework, bounded: fails the case, with @what (e.g.
 * "execute of region 0") and the vCPU's registers, if KVM_RUN has not
 * returned within nx_step_timeout_s().
 */
void nx_vcpu_run(struct kvm_vcpu *vcpu, const char *what);

#endif /* NX_VCPU_H */
