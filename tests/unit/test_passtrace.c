// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of lib/nx_passtrace.c, the walk of a recovery worker's trace
 * into passes, fed with traces recorded from Debian's 6.1, 6.12 and 7.3
 * kernels (tests/unit/fixtures/passtrace-*.txt: the flush_before_yield
 * pass under load, and on 7.3 also l2_pass_flush_before_yield's pass over
 * a nested guest's split pages, NX_PASSTRACE_DUMP=1), as they are and with
 * the order of their flushes and yields broken.  No KVM is needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "nx_passtrace.h"

#define MAX_RECS	(1 << 16)

static const char *const events[NX_PT_NR_PROBES] = {
	[NX_PT_PASS] = "pass", [NX_PT_PASS_RET] = "pass_ret",
	[NX_PT_ZAP] = "zap", [NX_PT_ZAP_LEGACY] = "zap_legacy",
	[NX_PT_FLUSH] = "flush", [NX_PT_YIELD] = "yield",
	[NX_PT_YIELD_RET] = "yield_ret", [NX_PT_YIELD_READ] = "yield_read",
	[NX_PT_YIELD_READ_RET] = "yield_read_ret",
};

static struct nx_trace_rec recs[MAX_RECS];

static int probe_of(const char *event)
{
	int i;

	for (i = 0; i < NX_PT_NR_PROBES; i++)
		if (!strcmp(events[i], event))
			return i;
	return -1;
}

/* The "nx_passtrace: T_US EVENT RET" lines of fixture @name, into recs. */
static int load(const char *name)
{
	char path[512], line[256], event[64];
	unsigned long t;
	long ret;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/passtrace-%s.txt", NX_FIXTURES, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (n < MAX_RECS && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "nx_passtrace: %lu %63s %ld", &t, event,
			   &ret) != 3 || probe_of(event) < 0)
			continue;
		recs[n].t_us = t;
		recs[n].probe = probe_of(event);
		recs[n].ret = ret;
		n++;
	}
	fclose(f);
	return n;
}

/* Each flush moved after the lock release that follows it. */
static int flush_after_yield(int n)
{
	struct nx_trace_rec r;
	int i, j;

	for (i = 0; i < n; i++) {
		if (recs[i].probe != NX_PT_FLUSH)
			continue;
		for (j = i + 1; j < n && recs[j].probe != NX_PT_YIELD &&
		     recs[j].probe != NX_PT_YIELD_READ &&
		     recs[j].probe != NX_PT_PASS_RET; j++)
			;
		if (j == n || recs[j].probe == NX_PT_PASS_RET)
			continue;
		r = recs[i];
		memmove(&recs[i], &recs[i + 1], (j - i) * sizeof(r));
		r.t_us = recs[j - 1].t_us;
		recs[j] = r;
		i = j;
	}
	return n;
}

FIXTURE(trace) {
	int n;
	struct nx_pass_trace t;
};

FIXTURE_VARIANT(trace) {
	const char *kernel;
	bool read_lock;		/* TDP MMU pages under mmu_lock for read */
	bool shadow_zaps;	/* the pages zapped are the shadow MMU's */
};

FIXTURE_VARIANT_ADD(trace, k61) { "6.1", false, false };
FIXTURE_VARIANT_ADD(trace, k612) { "6.12", false, false };
FIXTURE_VARIANT_ADD(trace, k73) { "7.3", true, false };
/* A nested guest's pages: the shadow MMU's pass, under the write lock. */
FIXTURE_VARIANT_ADD(trace, k73_nested) { "7.3-nested", false, true };

FIXTURE_SETUP(trace)
{
	self->n = load(variant->kernel);
	ASSERT_LT(0, self->n) TH_LOG("no fixture for %s", variant->kernel);
}

FIXTURE_TEARDOWN(trace)
{
}

/* A real pass of 256 zaps under load: flushed before every release. */
TEST_F(trace, recorded_pass_keeps_the_rule)
{
	struct nx_pass_trace *t = &self->t;

	nx_pass_trace_walk(t, recs, self->n);
	EXPECT_EQ(1, t->passes);
	EXPECT_LE(256, t->zaps);
	EXPECT_EQ(variant->shadow_zaps ? t->zaps : 0, t->zaps_shadow);
	EXPECT_LE(1, t->yields) TH_LOG("the recorded pass never yielded");
	EXPECT_LE(1, t->flushes);
	EXPECT_EQ(t->stretches, t->flushes);
	EXPECT_STREQ("", t->violation);
	EXPECT_LT(0, t->nr_holds);
	EXPECT_LE(t->hold_max_us, t->end_us - t->start_us);
}

/* The same pass with every flush after the release that followed it. */
TEST_F(trace, flush_after_yield_is_caught)
{
	struct nx_pass_trace *t = &self->t;

	nx_pass_trace_walk(t, recs, flush_after_yield(self->n));
	ASSERT_NE(0, t->violation[0]);
	EXPECT_NE(NULL, strstr(t->violation, "not flushed"));
	EXPECT_NE(NULL, strstr(t->violation, "yield"));
}

/* No flush at all: even the end of the pass is caught. */
TEST_F(trace, no_flush_is_caught)
{
	struct nx_pass_trace *t = &self->t;
	int i, n = 0;

	for (i = 0; i < self->n; i++)
		if (recs[i].probe != NX_PT_FLUSH)
			recs[n++] = recs[i];
	nx_pass_trace_walk(t, recs, n);
	EXPECT_EQ(0, t->flushes);
	EXPECT_NE(NULL, strstr(t->violation, "no flush yet in this pass"));
}

/* The lock a pass yields: the read lock only where KVM has that scheme. */
TEST_F(trace, yields_through_the_expected_lock)
{
	int i, reads = 0, writes = 0;

	for (i = 0; i < self->n; i++) {
		reads += recs[i].probe == NX_PT_YIELD_READ;
		writes += recs[i].probe == NX_PT_YIELD;
	}
	/* The shadow MMU's pages are still zapped under the write lock. */
	EXPECT_EQ(variant->read_lock, reads > 0);
	EXPECT_LE(0, writes);
	nx_pass_trace_walk(&self->t, recs, self->n);
	EXPECT_EQ(reads, self->t.yields_read);
	EXPECT_EQ(reads + writes, self->t.yields);
}

TEST_HARNESS_MAIN
