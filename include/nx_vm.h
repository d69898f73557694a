/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A VM with one vCPU running the nx_guest payload over N 2M regions, and a
 * model of how KVM maps each region.  Every guest access made through these
 * helpers updates the model, derives the counters KVM must show from it and
 * checks all four, so a test states only what it does to the VM.
 */
#ifndef NX_VM_H
#define NX_VM_H

#include <stdbool.h>

#include "nx_compat.h"
#include "nx_counts.h"
#include "nx_guest.h"

#define NX_PTES_PER_2M	512
/* The shadow MMU maps the aligned group of this many PTEs around a fault. */
#define NX_PTE_PREFETCH	8
#define NX_MAX_REGIONS	1024
/* vCPUs the VM has room for (stacks), the first one included. */
#define NX_VM_MAX_VCPUS	16
/* 2M regions in a 1G page, and 1G pages the regions can span. */
#define NX_REGIONS_PER_1G	512
#define NX_MAX_1G	(NX_MAX_REGIONS / NX_REGIONS_PER_1G)

enum nx_region_state {
	NX_UNMAPPED,
	NX_HUGE,	/* one 2M mapping */
	NX_SPLIT,	/* 4K mappings under an NX-accounted page table */
	/*
	 * 4K mappings not under an NX-accounted table: recovery unaccounted
	 * them (dirty logging, 6.2+), or a fault in a dirty-logged slot
	 * mapped them (dirty logging caps it at 4K before the NX check).
	 */
	NX_4K_UNACCOUNTED,
};

struct nx_region_model {
	enum nx_region_state state;
	int pages_4k;		/* 4K mappings while split */
	unsigned long split_seq;	/* order of splits: recovery is FIFO */
	/*
	 * Before 6.2 a page table the shadow MMU left under the 2M entry
	 * (its collapse after dirty logging zaps only the 4K leaves) forces
	 * every later fault in the region to 4K.
	 */
	bool table_left;
	/* The guest that maps it: 0 (the only one), or NX_L1 / NX_L2. */
	int level;
};

/*
 * A 1G page of a 1G-backed VM (hugetlbfs 1G): while it is mapped 1G its
 * regions are not mapped on their own; an execute in it puts a table of 2M
 * entries under it, accounted as an NX split like a region's 4K table, and
 * recovery zapping that table unmaps the whole 1G.
 */
enum nx_1g_state {
	NX_1G_NONE,	/* nothing at the 1G level */
	NX_1G_HUGE,	/* one 1G mapping */
	NX_1G_SPLIT,	/* a table of 2M entries under an NX-accounted page */
};

struct nx_1g_model {
	enum nx_1g_state state;
	unsigned long split_seq;
};

struct nx_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct nx_regions r;
	bool nx_on;		/* the mitigation applies to this VM */
	bool dirty_log;		/* the regions' slot logs dirty pages */
	struct nx_counts want;	/* what the counters must read now */
	int split_4k;		/* 4K mappings a split leaves; 0: not seen */
	int fault_4k;		/* 4K mappings a 4K fault leaves; 0: not seen */
	/* The same for L2's splits, mapped by the shadow MMU (nested). */
	int split_4k_l2;
	int fault_4k_l2;
	bool nested;		/* L1 runs L2 over the regions (nx_nested.h) */
	/* L1's splits are on the TDP MMU's list (nested VMs; once per VM). */
	bool tdp_list;
	unsigned long next_seq;
	struct nx_region_model model[NX_MAX_REGIONS];
	bool backed_1g;		/* regions lie in host 1G pages */
	bool split_1g_seen;	/* split_1g_2m was learnt */
	int split_1g_2m;	/* 2M mappings an in-place 1G split leaves */
	struct nx_1g_model gb[NX_MAX_1G];
};

/*
 * Create the VM (opted out of NX huge pages if @disable_nx), add @nr regions
 * backed by @src, start the guest and take the baseline counters.  Skips
 * when the host cannot back the regions with huge pages.  @nx_on says
 * whether kvm.nx_huge_pages is on.
 */
void nx_vm_create(struct nx_vm *v, enum vm_mem_backing_src_type src, int nr,
		  bool nx_on, bool disable_nx);
void nx_vm_free(struct nx_vm *v);

/*
 * A VM whose guest (L1) runs a nested guest (L2) over the regions
 * (nx_nested.h), the mitigation on if @nx_on; skips without nested SVM
 * with NPT.  Its steps name the level that does them.
 */
void nx_vm_create_nested(struct nx_vm *v, enum vm_mem_backing_src_type src,
			 int nr, bool nx_on);
void nx_vm_read_at(struct nx_vm *v, int level, int i);
void nx_vm_exec_at(struct nx_vm *v, int level, int i);

/*
 * KVM's lists of NX pages: one per MMU since 6.18
 * (NX_TRAIT_READ_LOCK_RECOVERY), a single one before, which this calls the
 * shadow MMU's.  L2's splits are the shadow MMU's in any VM; L1's are the
 * TDP MMU's in a TDP MMU VM.  For nested VMs (a one-level VM is taken to
 * have one list).
 */
enum nx_list { NX_LIST_SHADOW, NX_LIST_TDP };

enum nx_list nx_vm_region_list(const struct nx_vm *v, int i);
/* Split regions on @list in the model. */
int nx_vm_list_splits(const struct nx_vm *v, enum nx_list list);
/* Recovery zapped the @n oldest splits of @list. */
void nx_vm_recovered_list(struct nx_vm *v, enum nx_list list, int n);

void nx_vm_read(struct nx_vm *v, int i);
/* A guest write to region @i (NX_GUEST_WRITE): maps it like a read. */
void nx_vm_write(struct nx_vm *v, int i);
void nx_vm_exec(struct nx_vm *v, int i);
void nx_vm_read_all(struct nx_vm *v);
void nx_vm_exec_all(struct nx_vm *v);

/*
 * Read NX_GUEST_FILL_PAGES 4K pages of each split region that maps only
 * the page its execution faulted in, so that its NX page table maps that
 * many.  An MMU that zaps and faults on a split (Debian 6.1's TDP MMU)
 * leaves one page per table, which makes a zap much cheaper than after an
 * in-place split (512 pages): tests that need long passes call this.
 */
void nx_vm_fill_split(struct nx_vm *v);

/* Assert the counters equal v->want; @step names what just happened. */
void nx_vm_expect(struct nx_vm *v, const char *step);

/*
 * The same after work KVM does asynchronously (a recovery pass): the split
 * count drops before the 4K mappings of a zapped page are gone, so wait,
 * with a deadline, for the counters to reach v->want, then assert.
 */
void nx_vm_expect_eventually(struct nx_vm *v, const char *step);

/*
 * Recovery zapped the oldest splits until @n fewer were counted (their
 * mappings go too; zapping a 1G page's table drops the splits under it).
 */
void nx_vm_recovered(struct nx_vm *v, int n);
/* Recovery unaccounted the @n oldest splits but left their mappings. */
void nx_vm_unaccounted(struct nx_vm *v, int n);
/*
 * Dirty logging was turned off: the regions mapped at 4K are zapped, or
 * made huge again in place (NX_TRAIT_RECOVER_HUGE_IN_PLACE, no fault).
 */
void nx_vm_collapsed(struct nx_vm *v);

/*
 * Turn dirty logging of the regions' slot on or off and check the
 * counters: turning it off zaps the 4K mappings that can be huge again.
 */
void nx_vm_set_dirty_log(struct nx_vm *v, bool on);

/*
 * KVM zapped every mapping (kvm.nx_huge_pages toggled): wait for the
 * counters to reach zero, re-run the guest's warm-up and take a new
 * baseline.  Returns how long the zap took to show, in ms.
 */
double nx_vm_zapped_all(struct nx_vm *v, bool nx_on, const char *why);

#endif /* NX_VM_H */
