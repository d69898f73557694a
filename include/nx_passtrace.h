/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A recovery worker's trace read as passes.  The records come from the
 * probes of nx_worker_trace.h (or, in the unit tests, from recorded
 * traces): entering and leaving the pass, each zap, each remote TLB flush,
 * each lock release through cond_resched_rwlock_write() or _read().  The
 * walk times the lock holds and finds the first release with zaps not yet
 * flushed, which the seed's rule forbids.
 */
#ifndef NX_PASSTRACE_H
#define NX_PASSTRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "nx_trace.h"

/* What each probe of the table is, as the walk reads the records. */
enum nx_pt_probe {
	NX_PT_PASS, NX_PT_PASS_RET, NX_PT_ZAP, NX_PT_ZAP_LEGACY, NX_PT_FLUSH,
	NX_PT_YIELD, NX_PT_YIELD_RET, NX_PT_YIELD_READ, NX_PT_YIELD_READ_RET,
	NX_PT_NR_PROBES
};

/* Lock holds of a pass kept for faults_beside_pass; a pass has ~20. */
#define NX_PT_MAX_HOLDS		128

struct nx_hold {
	uint64_t start_us, end_us;
};

/* What the worker did, from the trace; times in us. */
struct nx_pass_trace {
	int runs;		/* entries of the pass function */
	int passes;		/* ... that zapped and returned */
	int zaps, flushes, yields, yields_dropped;
	int zaps_shadow;	/* ... of them by the shadow MMU's zap */
	int yields_read;	/* ... of them with the lock held for read */
	int stretches;		/* lock releases with zaps since the last */
	int final_zaps;		/* zaps between the last yield and the end */
	uint64_t hold_max_us, flush_lat_max_us;
	uint64_t hold_start_us, hold_end_us;	/* the longest hold */
	uint64_t start_us, end_us;	/* of the last zapping pass */
	int nr_holds;		/* lock holds of the last zapping pass */
	struct nx_hold holds[NX_PT_MAX_HOLDS];
	char violation[256];	/* the first lock drop with zaps unflushed */
};

/* Walk the @n records (oldest first) into @t. */
void nx_pass_trace_walk(struct nx_pass_trace *t,
			const struct nx_trace_rec *recs, int n);

#endif /* NX_PASSTRACE_H */
