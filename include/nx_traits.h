/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one model of how KVM's NX huge page handling differs between
 * kernels: each trait with the upstream version that brought it and how
 * it is told at run time.  Tests ask nx_kernel_has(); none parses a kernel
 * version itself.
 *
 * A trait with a symbol is decided by that symbol in /proc/kallsyms (a
 * Debian kernel may carry a backport, or lack a change its version
 * suggests); the version only documents it.  A change that left no symbol
 * of its own is decided by the version, and where the suite can see it
 * (the first NX split of a VM) the model holds the kernel to it: a kernel
 * that disagrees fails, naming the trait.  Some traits exist only in some
 * MMU modes.
 */
#ifndef NX_TRAITS_H
#define NX_TRAITS_H

#include <stdbool.h>

enum nx_trait {
	/*
	 * 2.6.36: the shadow MMU maps the aligned group of 8 PTEs around a
	 * faulting 4K page (PTE prefetch).  Seen at the first NX split.
	 */
	NX_TRAIT_PTE_PREFETCH,
	/*
	 * 6.3: the TDP MMU splits a huge mapping in place on an NX fault
	 * (tdp_mmu_split_huge_page() from the fault path): a 2M one leaves
	 * 512 4K mappings, a 1G one 511 2M and 512 4K, instead of a zap and
	 * one 4K fault.  Seen at the first NX split.
	 */
	NX_TRAIT_SPLIT_IN_PLACE,
	/* 6.2: recovery unaccounts NX pages in dirty-logged slots, no zap. */
	NX_TRAIT_DIRTY_LOG_UNACCOUNTS,
	/*
	 * Before 6.2, the shadow MMU's collapse after dirty logging zaps the
	 * 4K leaves but leaves their table, which forces later faults to 4K.
	 */
	NX_TRAIT_COLLAPSE_LEAVES_TABLE,
	/*
	 * 6.13: turning dirty logging off makes the TDP MMU recover huge
	 * mappings in place (kvm_mmu_recover_huge_pages), no zap and fault.
	 */
	NX_TRAIT_RECOVER_HUGE_IN_PLACE,
	/* 6.18: TDP MMU NX pages are recovered under mmu_lock for read. */
	NX_TRAIT_READ_LOCK_RECOVERY,
	/*
	 * 6.14 (backported to 6.13.3 and 6.12): the recovery worker is a
	 * vhost_task, a thread of the VMM, created at the first KVM_RUN;
	 * before, a kthread "kvm-nx-lpage-recovery-<pid>" created with the
	 * VM.  Told by kvm_nx_huge_page_recovery_worker_kill, the vhost_task's
	 * kill callback.  The deferred creation left no symbol of its own
	 * (Debian inlines kvm_mmu_start_lpage_recovery), so the window of
	 * vhost_task workers created with the VM (6.13.0-6.13.2 and early
	 * 6.12 stables) is not told apart: no Debian kernel has it.
	 */
	NX_TRAIT_VHOST_WORKER,
	NR_NX_TRAITS,
};

/* MMU modes, as bits of nx_trait_info.mmus. */
#define NX_TRAIT_TDP		(1U << 0)	/* kvm.tdp_mmu=Y */
#define NX_TRAIT_LEGACY		(1U << 1)	/* kvm.tdp_mmu=N */
#define NX_TRAIT_SHADOW		(1U << 2)	/* npt=0 / ept=0 */
#define NX_TRAIT_ANY_MMU	(NX_TRAIT_TDP | NX_TRAIT_LEGACY | NX_TRAIT_SHADOW)

struct nx_trait_info {
	const char *name;
	int major, minor;	/* the upstream release that brought it */
	bool before;		/* the trait is of kernels before that */
	const char *symbol;	/* decides it when set */
	unsigned int mmus;	/* the MMU modes it exists in */
	const char *seen;	/* where the suite sees it, if it can */
};

/* What the decision needs to know of a kernel. */
struct nx_kernel {
	int major, minor;
	unsigned int mmu;	/* one NX_TRAIT_TDP/LEGACY/SHADOW bit */
	bool (*has_symbol)(const char *sym);
};

const struct nx_trait_info *nx_trait_info(enum nx_trait t);

/* Pure: whether kernel @k has trait @t. */
bool nx_trait_decide(enum nx_trait t, const struct nx_kernel *k);

/* Parse "MAJOR.MINOR..." of a release string; false if it is not one. */
bool nx_parse_release(const char *release, int *major, int *minor);

/* The running kernel, in the MMU mode KVM is loaded with. */
bool nx_kernel_has(enum nx_trait t);

/* The running kernel's release (uname -r), for messages. */
const char *nx_kernel_release(void);

#endif /* NX_TRAITS_H */
