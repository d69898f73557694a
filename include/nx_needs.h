/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a case needs of the host, declared in its table entry (struct
 * nx_case) as data: the case runner checks it before the case starts and
 * skips with the first need that is not met, and -l prints it, so a lab
 * knows without running anything what each case needs.  The checks only
 * look (no write); a case's own set-up still skips if, say, the hugepage
 * pool cannot grow as far as it needs.
 */
#ifndef NX_NEEDS_H
#define NX_NEEDS_H

#include <stdbool.h>
#include <stddef.h>

#define NX_NEEDS_ROOT		(1U << 0)	/* module parameters, pools */
#define NX_NEEDS_KPROBES	(1U << 1)	/* kprobe events in tracefs */
#define NX_NEEDS_CGROUP2	(1U << 2)	/* the unified cgroup hierarchy */
#define NX_NEEDS_NESTED		(1U << 3)	/* kvm_amd nested=1 with npt=1 */
#define NX_NEEDS_NUMA		(1U << 4)	/* two NUMA nodes */
#define NX_NEEDS_THP		(1U << 5)	/* transparent hugepages */
#define NX_NEEDS_KVM_DEBUGFS	(1U << 6)	/* /sys/kernel/debug/kvm */

struct nx_needs {
	unsigned int flags;		/* NX_NEEDS_* */
	unsigned int hugepages_2m;	/* free 2M hugepages it takes */
	unsigned int hugepages_1g;	/* free 1G hugepages it takes */
	unsigned int traits;		/* 1 << NX_TRAIT_*: each must hold */
	unsigned int mmus;		/* NX_TRAIT_TDP/LEGACY/SHADOW; 0: any */
};

/*
 * Whether the host meets @n; if not, @why says the first need that is not
 * met, as a one-line skip reason.
 */
bool nx_needs_met(const struct nx_needs *n, char *why, size_t len);

/* "needs root, kprobes, 256 2M hugepages", or "" for a case with none. */
void nx_needs_describe(const struct nx_needs *n, char *buf, size_t len);

#endif /* NX_NEEDS_H */
