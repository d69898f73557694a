/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Watching the NX recovery worker from the host.  A recovery pass zaps
 * ceil(splits / ratio) split pages under mmu_lock in one go, so the VM's
 * nx_lpage_splits count drops in steps, one step per pass; recording the
 * steps with their times shows how much each pass zapped and when it came.
 */
#ifndef NX_RECOVERY_H
#define NX_RECOVERY_H

#include <stdint.h>

#include "nx_compat.h"
#include "nx_needs.h"

/*
 * The recovery period the tests turn recovery on with, and how long they
 * wait for it to recover every split page; tests that time periods use
 * their own.
 */
#define NX_PERIOD_MS		100
#define NX_RECOVERY_DEADLINE_MS	10000

/*
 * A drop of the count that then holds for this long is one pass: a pass of
 * hundreds of zaps takes a few ms even under TCG, and the tests use periods
 * of 200 ms and more, so passes never merge.
 */
#define NX_PASS_SETTLE_MS	30
/*
 * Under TCG a vCPU can be off the host CPU for up to 100 ms, so a pass can
 * also stall mid-way.  Where the caller knows which counts a finished pass
 * can leave, a count outside that set must hold still this long to count.
 */
#define NX_PASS_STALL_MS	150

/*
 * The pass happened between the last look that still saw @before and the
 * first that saw less: the host's polling can be delayed (a loaded host, a
 * TCG guest), so timing checks use both ends, never a single instant.
 */
struct nx_pass {
	uint64_t t_last_before_us;	/* last look at the old count */
	uint64_t t_us;			/* first look at a lower count */
	int64_t before;			/* nx_lpage_splits before the pass */
	int64_t after;			/* ... and after it */
};

/*
 * Record passes, starting from a count of @from split pages, until @max were
 * seen, the count reached @stop_at, or @timeout_ms passed; returns the
 * number recorded.  @from is what the host knows the count was before it
 * enabled recovery: a pass woken by that write may already be under way at
 * the first look.  A count that grows while the guest is idle fails the
 * test (only a guest fault may split).
 */
int nx_watch_passes(struct kvm_vm *vm, struct nx_pass *passes, int max,
		    int64_t from, int64_t stop_at, uint64_t timeout_ms);

/*
 * The same, where @pass_end(count, arg) says whether a finished pass can
 * leave @count split pages: mid-pass counts are then never taken for the
 * end of a pass, however long the pass stalls.
 */
int nx_watch_passes_to(struct kvm_vm *vm, struct nx_pass *passes, int max,
		       int64_t from, int64_t stop_at, uint64_t timeout_ms,
		       bool (*pass_end)(int64_t count, void *arg), void *arg);

/*
 * Wait, with a deadline, until @vm has no split page left, failing with
 * @what in the message otherwise; report the time taken as @metric (ms).
 */
void nx_wait_all_recovered(struct kvm_vm *vm, uint64_t timeout_ms,
			   const char *what, const char *metric);

struct nx_vm;

/*
 * nx_wait_all_recovered() for @v, then its model accounts for every split
 * recovered (nx_vm_recovered()) and the counters must reach it (@what names
 * the step).  For a caller whose parameter change is what must wake the
 * worker.
 */
void nx_vm_wait_recovered(struct nx_vm *v, uint64_t timeout_ms,
			  const char *what, const char *metric);

/*
 * Recover every split page of @v: recovery on with ratio 1 and @period_ms,
 * nx_vm_wait_recovered() within NX_RECOVERY_DEADLINE_MS and ten periods,
 * and recovery off again, so that the next step splits undisturbed.
 */
void nx_vm_recover_all(struct nx_vm *v, unsigned int period_ms,
		       const char *what, const char *metric);

/* Split pages one pass zaps: ceil(@splits / @ratio), none for ratio 0. */
int64_t nx_pass_zaps(int64_t splits, unsigned int ratio);

/*
 * The host every split test starts from: root, THP only where asked for,
 * no NUMA balancing, @hugepages free 2M pages (0: none needed), the
 * mitigation on or off, and recovery off (ratio 0, period @period_ms) so
 * that no pass races the steps that split.
 */
void nx_prepare_host(uint64_t hugepages, bool mitigation,
		     unsigned int period_ms);

/* nx_prepare_host() with the mitigation on. */
void nx_prepare_split_host(uint64_t hugepages, unsigned int period_ms);

/* The needs (nx_needs.h) of a case that prepares the host with @n pages. */
#define NX_SPLIT_HOST_NEEDS(n)						\
	{ .flags = NX_NEEDS_ROOT | NX_NEEDS_THP, .hugepages_2m = (n) }

/* Set the recovery period, then the ratio (which may wake the worker). */
void nx_set_recovery(unsigned int ratio, unsigned int period_ms);

#endif /* NX_RECOVERY_H */
