// SPDX-License-Identifier: GPL-2.0-only
/*
 * nx_summary --compare BASE NEW: what changed between two results folders
 * (a run's, a matrix run's, or a folder of several runs), for a nightly
 * lab's gate.
 *
 * Every result of a test in a folder is a sample (several runs kept under
 * one baseline folder), and a case run several times in one result
 * (--repeat) brings the samples of each metric.  A test's status on a side
 * is pass or fail when all its results agree, flaky when some passed and
 * some failed or one was flaky itself, skip when none ran.  A test that fails in NEW is a
 * regression only where BASE passed: a test must first pass before its
 * failure counts, and one that flakes is not a regression either.
 *
 * A metric is compared only given enough samples of BASE to know its
 * noise (NX_MIN_SAMPLES): the new mean is worse or better only when it
 * lies outside the baseline's spread, both its range and three standard
 * deviations about its mean.  Fewer samples say so instead of guessing.
 * Metrics are reported, never gated on: the suite asserts in its tests.
 *
 * Where the folders hold more than one MMU mode (cell.txt "mmu="), a test
 * is keyed by its mode too ("legacy/NAME"); one kernel is compared with
 * another under the same mode.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nx_query.h"

#define NX_MIN_SAMPLES	3
#define KEY_LEN		(NX_NAME_LEN + 32)

enum { ST_PASS, ST_FAIL, ST_SKIP, ST_FLAKY, ST_NONE };

/* A metric's samples over a side's results (each may hold several). */
struct samples {
	char name[NX_NAME_LEN];
	char unit[16];
	int n;
	double sum, sumsq, min, max;
};

struct entry {
	char key[KEY_LEN];
	int count[NX_NR_STATUS];
	char reason[4096];	/* the last failure's or skip's */
	struct samples *metrics;
	int nr_metrics;
};

struct side {
	const char *dir;
	char **ktaps;
	char (*mmu)[32];	/* per ktap: its cell's mode, "" if none */
	int nr_ktaps;
	struct entry *e;
	int n, cap;
	int nr_results;
};

static void *grow(void *p, int *cap, int n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? 2 * *cap : 16;
	return nx_realloc(p, *cap * size);
}

/* The "mmu=" of the cell.txt beside @ktap, "" if none. */
static void cell_mmu(const char *ktap, char *mmu, size_t len)
{
	char path[4096], line[128];
	const char *slash = strrchr(ktap, '/');
	FILE *f;

	mmu[0] = '\0';
	snprintf(path, sizeof(path), "%.*s/cell.txt",
		 slash ? (int)(slash - ktap) : 1, slash ? ktap : ".");
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "mmu=", 4))
			snprintf(mmu, len, "%.*s", (int)strcspn(line + 4, "\n"),
				 line + 4);
	fclose(f);
}

static bool find_ktaps(struct side *s)
{
	int i;

	s->nr_ktaps = nx_ktap_paths(s->dir, &s->ktaps);
	if (s->nr_ktaps <= 0) {
		fprintf(stderr, "nx_summary: no ktap.log under %s\n", s->dir);
		return false;
	}
	s->mmu = calloc(s->nr_ktaps, sizeof(*s->mmu));
	if (!s->mmu)
		nx_oom();
	for (i = 0; i < s->nr_ktaps; i++)
		cell_mmu(s->ktaps[i], s->mmu[i], sizeof(s->mmu[i]));
	return true;
}

/* More than one MMU mode among the folders' cells: key tests by mode. */
static bool several_modes(const struct side *a, const struct side *b)
{
	const struct side *sides[] = { a, b };
	const char *first = NULL;
	int i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < sides[i]->nr_ktaps; j++) {
			if (!first)
				first = sides[i]->mmu[j];
			else if (strcmp(first, sides[i]->mmu[j]))
				return true;
		}
	return false;
}

static struct entry *entry_of(struct side *s, const char *key, bool add)
{
	struct entry *e;
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->e[i].key, key))
			return &s->e[i];
	if (!add)
		return NULL;
	s->e = grow(s->e, &s->cap, s->n, sizeof(*s->e));
	e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->key, sizeof(e->key), "%s", key);
	return e;
}

static void add_metric(struct entry *e, const struct nx_metric_val *m)
{
	struct samples *smp;
	int i;

	if (!isfinite(m->sum) || !isfinite(m->sumsq))
		return;
	for (i = 0; i < e->nr_metrics; i++)
		if (!strcmp(e->metrics[i].name, m->name))
			break;
	if (i == e->nr_metrics) {
		e->metrics = nx_realloc(e->metrics,
					(i + 1) * sizeof(*e->metrics));
		memset(&e->metrics[i], 0, sizeof(e->metrics[i]));
		snprintf(e->metrics[i].name, sizeof(e->metrics[i].name), "%s",
			 m->name);
		snprintf(e->metrics[i].unit, sizeof(e->metrics[i].unit), "%s",
			 m->unit);
		e->nr_metrics++;
	}
	smp = &e->metrics[i];
	smp->min = smp->n ? fmin(smp->min, m->min) : m->min;
	smp->max = smp->n ? fmax(smp->max, m->max) : m->max;
	smp->n += m->n;
	smp->sum += m->sum;
	smp->sumsq += m->sumsq;
}

static void read_side(struct side *s, bool by_mode)
{
	char key[KEY_LEN];
	int i, j, k;

	for (i = 0; i < s->nr_ktaps; i++) {
		struct nx_results r = NX_RESULTS_INIT;

		if (!nx_results_read(s->ktaps[i], &r)) {
			perror(s->ktaps[i]);
			exit(2);
		}
		for (j = 0; j < r.nr_tests; j++) {
			const struct nx_test_result *t = &r.tests[j];
			struct entry *e;

			if (by_mode)
				snprintf(key, sizeof(key), "%s/%s",
					 s->mmu[i][0] ? s->mmu[i] : "-", t->name);
			else
				snprintf(key, sizeof(key), "%s", t->name);
			e = entry_of(s, key, true);
			e->count[t->status]++;
			if (t->status != NX_PASS)
				snprintf(e->reason, sizeof(e->reason), "%s",
					 t->reason);
			for (k = 0; k < t->nr_metrics; k++)
				add_metric(e, &t->metrics[k]);
			free(t->output);
		}
		s->nr_results += r.nr_tests;
		free(r.tests);
	}
}

static int status_of(const struct entry *e)
{
	if (!e)
		return ST_NONE;
	if (e->count[NX_FLAKY] || (e->count[NX_PASS] && e->count[NX_FAIL]))
		return ST_FLAKY;
	if (e->count[NX_FAIL])
		return ST_FAIL;
	return e->count[NX_PASS] ? ST_PASS : ST_SKIP;
}

static const char *const st_name[] = {
	[ST_PASS] = "pass", [ST_FAIL] = "fail", [ST_SKIP] = "skip",
	[ST_FLAKY] = "flaky", [ST_NONE] = "none",
};

/* What became of a test, and whether that is a regression. */
static const char *change(int b, int n, bool *regression)
{
	*regression = false;
	if (b == ST_NONE)
		return "new test";
	switch (n) {
	case ST_FAIL:
		if (b == ST_PASS) {
			*regression = true;
			return "new failure";
		}
		if (b == ST_FAIL || b == ST_FLAKY)
			return "still failing";
		return "new failure (skipped in the baseline: not a regression)";
	case ST_FLAKY:
		return b == ST_FLAKY ? "still flaky" :
		       b == ST_FAIL ? "fixed in some runs (flaky)" :
		       "new flaky (not a regression: it passed some runs)";
	case ST_PASS:
		return b == ST_PASS ? "passes" :
		       b == ST_SKIP ? "no longer skipped" : "fixed";
	default:
		return b == ST_SKIP ? "still skipped" : "new skip";
	}
}

static void stats(const struct samples *s, double *mean, double *sd,
		  double *min, double *max)
{
	double var = s->n > 1 ?
		     (s->sumsq - s->sum * s->sum / s->n) / (s->n - 1) : 0;

	*min = s->min;
	*max = s->max;
	*mean = s->sum / s->n;
	*sd = var > 0 ? sqrt(var) : 0;
}

/* Times (ms, us, ns, s): lower is better.  Counts have no direction. */
static bool lower_is_better(const char *unit)
{
	return !strcmp(unit, "ms") || !strcmp(unit, "us") ||
	       !strcmp(unit, "ns") || !strcmp(unit, "s");
}

static void compare_metric(const char *key, const struct samples *b,
			   const struct samples *n)
{
	double bmean, bsd, bmin, bmax, nmean, nsd, nmin, nmax, lo, hi;
	bool timed = lower_is_better(b->unit);
	const char *verdict;

	if (!b->n || !n->n)
		return;
	stats(b, &bmean, &bsd, &bmin, &bmax);
	stats(n, &nmean, &nsd, &nmin, &nmax);
	printf("  metric %s %s: baseline %g %s (%d sample%s", key, b->name,
	       bmean, b->unit, b->n, b->n == 1 ? "" : "s");
	if (b->n > 1)
		printf(", %g..%g", bmin, bmax);
	printf("), new %g (%d): ", nmean, n->n);
	if (b->n < NX_MIN_SAMPLES) {
		printf("too few samples to tell (the baseline has %d, %d needed)\n",
		       b->n, NX_MIN_SAMPLES);
		return;
	}
	lo = fmin(bmin, bmean - 3 * bsd);
	hi = fmax(bmax, bmean + 3 * bsd);
	if (nmean > hi)
		verdict = timed ? "worse" : "higher";
	else if (nmean < lo)
		verdict = timed ? "better" : "lower";
	else
		verdict = "same";
	printf("%s (the baseline's spread: %g..%g)\n", verdict, lo, hi);
}

static void compare_metrics(const struct entry *b, const struct entry *n)
{
	int i, j;

	for (i = 0; i < b->nr_metrics; i++)
		for (j = 0; j < n->nr_metrics; j++)
			if (!strcmp(b->metrics[i].name, n->metrics[j].name))
				compare_metric(n->key, &b->metrics[i],
					       &n->metrics[j]);
}

static void print_test(const char *what, bool regression,
		       const struct entry *e, int st)
{
	printf("%-10s %-13s %s", regression ? "REGRESSION" : "", what, e->key);
	/* Flaky across results (a flaky result's reason says its count). */
	if (st == ST_FLAKY && !e->count[NX_FLAKY])
		printf(" (passed %d of %d)", e->count[NX_PASS],
		       e->count[NX_PASS] + e->count[NX_FAIL]);
	if ((st == ST_FAIL || st == ST_FLAKY || st == ST_SKIP) && e->reason[0])
		printf(": %s", e->reason);
	putchar('\n');
}

int nx_compare(const char *base_dir, const char *new_dir)
{
	struct side base = { .dir = base_dir }, new = { .dir = new_dir };
	int i, b, n, nr_reg = 0;
	bool by_mode, reg;
	const char *what;

	if (!find_ktaps(&base) || !find_ktaps(&new))
		return 2;
	by_mode = several_modes(&base, &new);
	read_side(&base, by_mode);
	read_side(&new, by_mode);
	printf("compare: baseline %s (%d results), new %s (%d results)%s\n",
	       base_dir, base.nr_results, new_dir, new.nr_results,
	       by_mode ? ", by MMU mode" : "");
	for (i = 0; i < new.n; i++) {
		struct entry *be = entry_of(&base, new.e[i].key, false);

		b = status_of(be);
		n = status_of(&new.e[i]);
		what = change(b, n, &reg);
		print_test(what, reg, &new.e[i], n);
		nr_reg += reg;
		if (be)
			compare_metrics(be, &new.e[i]);
	}
	for (i = 0; i < base.n; i++)
		if (!entry_of(&new, base.e[i].key, false))
			printf("%-10s %-13s %s (%s in the baseline)\n", "", "not run",
			       base.e[i].key, st_name[status_of(&base.e[i])]);
	if (!nr_reg) {
		printf("compare: no regression\n");
		return 0;
	}
	printf("compare: %d regression%s (failing where the baseline passed):",
	       nr_reg, nr_reg == 1 ? "" : "s");
	for (i = 0; i < new.n; i++) {
		b = status_of(entry_of(&base, new.e[i].key, false));
		n = status_of(&new.e[i]);
		change(b, n, &reg);
		if (reg)
			printf(" %s", new.e[i].key);
	}
	putchar('\n');
	return 1;
}
