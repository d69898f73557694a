/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest payload: N distinct 2M-aligned guest regions, each backed by a host
 * huge page, that the guest reads from or executes in on the host's command,
 * one region per step.  Driving the guest step by step lets the host check
 * after every access exactly what KVM's page counters must have done.
 *
 * The first byte of every 4K page of a region holds a RET, so "execute
 * region i" is a call to the region's base address (or any page in it).
 */
#ifndef NX_GUEST_H
#define NX_GUEST_H

#include <stdint.h>

#include "nx_compat.h"

#define NX_REGION_SIZE		(2UL << 20)
/*
 * Far above slot 0, which holds the guest's code, stack and page tables;
 * 1G-aligned for the 1G guest mapping.
 */
#define NX_REGIONS_GPA		(4UL << 30)
#define NX_REGIONS_SLOT		10
#define NX_RET_OPCODE		0xc3
/* Evenly spaced from the region's first page, which execution maps. */
#define NX_GUEST_FILL_PAGES	128

enum nx_guest_op {
	NX_GUEST_READ = 1,
	NX_GUEST_EXEC,
	NX_GUEST_READ_PAGES,	/* read NX_GUEST_FILL_PAGES 4K pages of it */
	NX_GUEST_WRITE,		/* the region's address into its second word */
};

/* Where NX_GUEST_WRITE writes: after the RET, which must stay. */
#define NX_WRITE_OFFSET		8

struct nx_regions {
	struct kvm_vm *vm;
	enum vm_mem_backing_src_type src;
	uint64_t gpa;
	uint64_t gva;
	int nr;
	uint64_t scratch_gva;	/* a slot 0 page holding a RET, for warm-up */
};

/* Guest entry point for vCPUs that serve nx_guest_do(). */
void nx_guest_main(void);

/*
 * Guest side, for payloads that serve steps at two levels (nx_nested.h):
 * the level the current step is for, and the step itself (its op, then
 * GUEST_SYNC(op)).
 */
uint64_t nx_guest_cmd_level(void);
void nx_guest_step(void);

/*
 * Add a memslot of @nr 2M regions backed by @src, map it into the guest
 * with 1G guest pages and put a RET at the start of each region.
 */
void nx_regions_add(struct kvm_vm *vm, struct nx_regions *r,
		    enum vm_mem_backing_src_type src, int nr);

/* Host memory that backs region @i. */
void *nx_region_hva(const struct nx_regions *r, int i);

/*
 * Let the guest reach its command loop and run each command once outside
 * the regions; returns once it is waiting for the first real step.
 */
void nx_guest_start(struct kvm_vcpu *vcpu, const struct nx_regions *r);

/* Map the command loop's own pages again, e.g. after KVM zapped them all. */
void nx_guest_warm_up(struct kvm_vcpu *vcpu, const struct nx_regions *r);

/* Make the guest do @op on region @i and wait until it has. */
void nx_guest_do(struct kvm_vcpu *vcpu, const struct nx_regions *r,
		 enum nx_guest_op op, int i);

/* The same by the guest at @level (1: L1, 2: L2) of a nested pair. */
void nx_guest_do_level(struct kvm_vcpu *vcpu, const struct nx_regions *r,
		       int level, enum nx_guest_op op, int i);

/* nx_guest_warm_up() by the guest at @level (0: the only one). */
void nx_guest_warm_up_level(struct kvm_vcpu *vcpu, const struct nx_regions *r,
			    int level);

#endif /* NX_GUEST_H */
