// SPDX-License-Identifier: GPL-2.0-only
/* nx_summary's questions about results and the matrix table (nx_query.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>

#include "nx_query.h"

#define MAX_KTAPS	1024
#define MAX_CELLS	64

void nx_oom(void)
{
	perror("nx_summary");
	exit(2);
}

void *nx_realloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		nx_oom();
	return p;
}

FILE *nx_fopen(const char *path, const char *mode)
{
	FILE *f = fopen(path, mode);

	if (!f) {
		perror(path);
		exit(2);
	}
	return f;
}

void nx_fclose(FILE *f, const char *path)
{
	if (fclose(f)) {
		perror(path);
		exit(2);
	}
}

static char **ktaps;
static int nr_ktaps;

static int collect_ktap(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	const char *base = path + ftw->base;

	if (type == FTW_F && !strcmp(base, "ktap.log") && nr_ktaps < MAX_KTAPS) {
		ktaps[nr_ktaps] = strdup(path);
		if (!ktaps[nr_ktaps])
			nx_oom();
		nr_ktaps++;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int nx_ktap_paths(const char *dir, char ***paths)
{
	ktaps = calloc(MAX_KTAPS, sizeof(*ktaps));
	if (!ktaps)
		nx_oom();
	nr_ktaps = 0;
	if (nftw(dir, collect_ktap, 16, FTW_PHYS)) {
		free(ktaps);
		return -1;
	}
	qsort(ktaps, nr_ktaps, sizeof(ktaps[0]), cmp_str);
	*paths = ktaps;
	return nr_ktaps;
}

bool nx_read_results_dir(const char *dir, struct nx_results *res)
{
	char **paths;
	int i, n = nx_ktap_paths(dir, &paths);

	if (n < 0)
		return false;
	for (i = 0; i < n; i++) {
		if (!nx_results_read(paths[i], res)) {
			perror(paths[i]);
			exit(2);
		}
		free(paths[i]);
	}
	free(paths);
	return n > 0;
}

static const struct nx_test_result *last_of(const struct nx_results *res,
					    const char *name)
{
	int i;

	for (i = res->nr_tests - 1; i >= 0; i--)
		if (!strcmp(res->tests[i].name, name))
			return &res->tests[i];
	return NULL;
}

/*
 * What must stay the same when a failure is reproduced: the test and its
 * reason, with every number (addresses, counts, times) as N.
 */
static char *signature(const struct nx_test_result *t)
{
	size_t n = strlen(t->name) + strlen(t->reason) + 4;
	char *in = malloc(n), *out = malloc(n), *o = out;
	const char *p;

	if (!in || !out)
		nx_oom();
	snprintf(in, n, t->reason[0] ? "%s # %s" : "%s", t->name, t->reason);
	for (p = in; *p;) {
		if (!isdigit((unsigned char)*p)) {
			*o++ = *p++;
			continue;
		}
		*o++ = 'N';
		while (*p && (isdigit((unsigned char)*p) || strchr("abcdefx", *p)))
			p++;
	}
	*o = '\0';
	free(in);
	return out;
}

static int print_signatures(const struct nx_results *res)
{
	char **sig = calloc(res->nr_tests + 1, sizeof(*sig));
	int i, n = 0;

	if (!sig)
		nx_oom();
	for (i = 0; i < res->nr_tests; i++)
		if (nx_failed(res->tests[i].status))
			sig[n++] = signature(&res->tests[i]);
	qsort(sig, n, sizeof(*sig), cmp_str);
	for (i = 0; i < n; i++) {
		puts(sig[i]);
		free(sig[i]);
	}
	free(sig);
	return 0;
}

static int print_named(enum nx_query q, const char *name,
		       const struct nx_results *res)
{
	const struct nx_test_result *t = last_of(res, name);

	if (!t)
		return 1;
	puts(q == NX_Q_STATUS ? nx_status_name(t->status) : t->reason);
	return 0;
}

int nx_query(enum nx_query q, const char *name, const struct nx_results *res)
{
	int i, verdict;

	switch (q) {
	case NX_Q_FAILED:
		for (i = 0; i < res->nr_tests; i++)
			if (nx_failed(res->tests[i].status))
				puts(res->tests[i].name);
		return 0;
	case NX_Q_STATUS:
	case NX_Q_REASON:
		return print_named(q, name, res);
	case NX_Q_SIGNATURE:
		return print_signatures(res);
	case NX_Q_DURATIONS:
		for (i = 0; i < res->nr_tests; i++)
			if (res->tests[i].duration_ms >= 0)
				printf("%s %ld\n", res->tests[i].name,
				       res->tests[i].duration_ms);
		return 0;
	case NX_Q_CASES:
		for (i = 0; i < res->nr_tests; i++)
			printf("%s %s\n", res->tests[i].name,
			       nx_status_name(res->tests[i].status));
		return 0;
	case NX_Q_VERDICT:
		verdict = nx_run_verdict(res);
		puts(nx_verdict_name(verdict));
		return verdict;
	default:
		return 2;
	}
}

struct cell {
	const char *label;
	char run_s[32];		/* "-" when the cell did not say */
	struct nx_results r;
	bool ran;
};

static struct cell cells[MAX_CELLS];

/* CELL_DIR/cell.txt's "run_s=N", if any. */
static void read_run_s(const char *dir, char *buf, size_t len)
{
	char path[4096], line[128];
	FILE *f;

	snprintf(buf, len, "-");
	snprintf(path, sizeof(path), "%s/cell.txt", dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "run_s=", 6) && line[6] != '\n')
			snprintf(buf, len, "%.*s", (int)strcspn(line + 6, "\n"),
				 line + 6);
	fclose(f);
}

static bool read_cell(char *arg, struct cell *c)
{
	char *eq = strchr(arg, '='), path[4096];

	if (!eq || eq == arg || !eq[1])
		return false;
	*eq = '\0';
	c->label = arg;
	c->r = (struct nx_results)NX_RESULTS_INIT;
	read_run_s(eq + 1, c->run_s, sizeof(c->run_s));
	snprintf(path, sizeof(path), "%s/ktap.log", eq + 1);
	if (!nx_results_read(path, &c->r) && errno != ENOENT) {
		perror(path);
		exit(2);
	}
	c->ran = c->r.nr_tests > 0;
	return true;
}

static const char *cell_status(const struct cell *c, const char *name)
{
	const struct nx_test_result *t = last_of(&c->r, name);

	if (!t)
		return "-";
	return t->status == NX_PASS ? "PASS" :
	       t->status == NX_FAIL ? "FAIL" :
	       t->status == NX_FLAKY ? "FLAKY" : "SKIP";
}

/* Tests in the order they first appear, cell by cell. */
static int table_rows(int nr_cells, const char ***rows)
{
	int c, i, j, n = 0, cap = 0;
	const char **r = NULL;

	for (c = 0; c < nr_cells; c++)
		for (i = 0; i < cells[c].r.nr_tests; i++) {
			const char *name = cells[c].r.tests[i].name;

			for (j = 0; j < n && strcmp(r[j], name); j++)
				;
			if (j < n)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 64;
				r = nx_realloc(r, cap * sizeof(*r));
			}
			r[n++] = name;
		}
	*rows = r;
	return n;
}

static void print_row(const char *first, int namew, int nr_cells,
		      const char *(*col)(int c, const char *row))
{
	char line[8192];
	int c, len;

	len = snprintf(line, sizeof(line), "%-*s", namew, first);
	for (c = 0; c < nr_cells && len < (int)sizeof(line); c++) {
		int w = strlen(cells[c].label) < 4 ? 4 : strlen(cells[c].label);

		len += snprintf(line + len, sizeof(line) - len, "  %-*s", w,
				col(c, first));
	}
	while (len > 0 && line[len - 1] == ' ')
		line[--len] = '\0';
	puts(line);
}

static const char *col_label(int c, const char *row)
{
	return cells[c].label;
}

static const char *col_status(int c, const char *row)
{
	return cell_status(&cells[c], row);
}

static int print_cells(int nr_cells)
{
	int c, count[NX_NR_STATUS], bad = 0;

	for (c = 0; c < nr_cells; c++) {
		if (!cells[c].ran) {
			printf("cell %s: did not run\n", cells[c].label);
			bad = 1;
			continue;
		}
		nx_count_status(&cells[c].r, count);
		printf("cell %s: %d passed, %d failed, %d skipped", cells[c].label,
		       count[NX_PASS], count[NX_FAIL], count[NX_SKIP]);
		if (count[NX_FLAKY])
			printf(", %d flaky", count[NX_FLAKY]);
		printf(", %s s\n", cells[c].run_s);
		bad |= count[NX_FAIL] + count[NX_FLAKY] > 0;
	}
	return bad;
}

int nx_table(int nr_cells, char **args)
{
	const char **rows;
	int c, i, n, namew = strlen("test");

	if (nr_cells < 1 || nr_cells > MAX_CELLS)
		return 2;
	for (c = 0; c < nr_cells; c++)
		if (!read_cell(args[c], &cells[c])) {
			fprintf(stderr, "nx_summary: '%s' is not LABEL=CELL_DIR\n",
				args[c]);
			return 2;
		}
	n = table_rows(nr_cells, &rows);
	for (i = 0; i < n; i++)
		if ((int)strlen(rows[i]) > namew)
			namew = strlen(rows[i]);
	print_row("test", namew, nr_cells, col_label);
	for (i = 0; i < n; i++)
		print_row(rows[i], namew, nr_cells, col_status);
	free(rows);
	return print_cells(nr_cells);
}
