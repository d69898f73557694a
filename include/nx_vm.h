/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A VM with one vCPU running the nx_guest payload over N 2M regions, and
 * the counters the host expects it to have.  Every step the guest takes
 * through these helpers is followed by a check of all four counters, so a
 * test states only what a step must change.
 */
#ifndef NX_VM_H
#define NX_VM_H

#include <stdbool.h>

#include "nx_compat.h"
#include "nx_counts.h"
#include "nx_guest.h"

#define NX_PTES_PER_2M	512

struct nx_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct nx_regions r;
	struct nx_counts want;	/* what the counters must read now */
	int split_4k;		/* 4K mappings one NX split leaves; 0: not seen */
};

/*
 * Create the VM (opted out of NX huge pages if @disable_nx), add @nr regions
 * backed by @src, start the guest and take the baseline counters.  Skips
 * when the host cannot back the regions with huge pages.
 */
void nx_vm_create(struct nx_vm *v, enum vm_mem_backing_src_type src, int nr,
		  bool disable_nx);
void nx_vm_free(struct nx_vm *v);

/* Read every region; each read must map it 2M. */
void nx_vm_read_all(struct nx_vm *v);

/*
 * Execute in every region; with @splits each execute must split the 2M
 * mapping (nx_lpage_splits +1), otherwise nothing may change.
 */
void nx_vm_exec_all(struct nx_vm *v, bool splits, const char *what);

/* Assert the counters equal v->want; @step names what just happened. */
void nx_vm_expect(struct nx_vm *v, const char *step);

#endif /* NX_VM_H */
