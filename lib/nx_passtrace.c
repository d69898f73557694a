// SPDX-License-Identifier: GPL-2.0-only
/*
 * The recovery worker's trace (nx_trace.h records) read as passes: zaps,
 * flushes and lock releases; see include/nx_passtrace.h.  Pure: the unit
 * tests feed it recorded traces.
 */
#include <stdio.h>
#include <string.h>

#include "nx_passtrace.h"

#define max(a, b)	((a) > (b) ? (a) : (b))

/* State while walking the trace. */
struct walk {
	bool in_pass;
	int pass_zaps, unflushed, unreleased;
	uint64_t start, seg, last_zap, first_unflushed, last_flush;
	int nr_holds;
	struct nx_hold holds[NX_PT_MAX_HOLDS];
};

/* The lock is dropped (or the pass ends) at @r: all zaps must be flushed. */
static void lock_release(struct nx_pass_trace *t, struct walk *w,
			 const struct nx_trace_rec *r, const char *what)
{
	if (r->t_us - w->seg > t->hold_max_us) {
		t->hold_max_us = r->t_us - w->seg;
		t->hold_start_us = w->seg;
		t->hold_end_us = r->t_us;
	}
	if (w->nr_holds < NX_PT_MAX_HOLDS)
		w->holds[w->nr_holds++] = (struct nx_hold){ w->seg, r->t_us };
	t->stretches += w->unreleased > 0;
	w->unreleased = 0;
	if (!w->unflushed || t->violation[0])
		return;
	snprintf(t->violation, sizeof(t->violation),
		 "%s at +%lu us into the pass: %d zaps since +%lu us not flushed (%s)",
		 what, r->t_us - w->start, w->unflushed,
		 w->first_unflushed - w->start,
		 w->last_flush ? "earlier zaps were flushed" :
		 "no flush yet in this pass");
}

static void on_zap(struct nx_pass_trace *t, struct walk *w, uint64_t now)
{
	if (!w->in_pass) {
		/* The pass began before tracing did: time it from here. */
		w->in_pass = true;
		w->start = w->seg = now;
	}
	if (!w->unflushed)
		w->first_unflushed = now;
	w->unflushed++;
	w->unreleased++;
	w->pass_zaps++;
	w->last_zap = now;
	t->zaps++;
}

static void on_flush(struct nx_pass_trace *t, struct walk *w, uint64_t now)
{
	if (w->unflushed)
		t->flush_lat_max_us = max(t->flush_lat_max_us,
					  now - w->last_zap);
	w->unflushed = 0;
	w->last_flush = now;
	t->flushes++;
}

static void on_pass_ret(struct nx_pass_trace *t, struct walk *w,
			const struct nx_trace_rec *r)
{
	if (w->in_pass && w->pass_zaps) {
		t->final_zaps = w->unreleased;
		lock_release(t, w, r, "end of the pass");
		t->passes++;
		t->start_us = w->start;
		t->end_us = r->t_us;
		t->nr_holds = w->nr_holds;
		memcpy(t->holds, w->holds, sizeof(t->holds));
	}
	w->in_pass = false;
}

static void walk_rec(struct nx_pass_trace *t, struct walk *w,
		     const struct nx_trace_rec *r)
{
	switch (r->probe) {
	case NX_PT_PASS:
		memset(w, 0, sizeof(*w));
		w->in_pass = true;
		w->start = w->seg = r->t_us;
		t->runs++;
		break;
	case NX_PT_ZAP:
	case NX_PT_ZAP_LEGACY:
		t->zaps_shadow += r->probe == NX_PT_ZAP_LEGACY;
		on_zap(t, w, r->t_us);
		break;
	case NX_PT_FLUSH:
		on_flush(t, w, r->t_us);
		break;
	case NX_PT_YIELD:
	case NX_PT_YIELD_READ:
		t->yields_read += r->probe == NX_PT_YIELD_READ;
		t->yields++;
		lock_release(t, w, r, "yield (__cond_resched_rwlock_*)");
		break;
	case NX_PT_YIELD_RET:
	case NX_PT_YIELD_READ_RET:
		w->seg = r->t_us;
		t->yields_dropped += r->ret != 0;
		break;
	case NX_PT_PASS_RET:
		on_pass_ret(t, w, r);
		break;
	}
}

void nx_pass_trace_walk(struct nx_pass_trace *t,
			const struct nx_trace_rec *recs, int n)
{
	struct walk w = { 0 };
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++)
		walk_rec(t, &w, &recs[i]);
}
