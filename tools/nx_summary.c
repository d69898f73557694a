// SPDX-License-Identifier: GPL-2.0-only
/*
 * nx_summary: turn a run's ktap.log into summary.json and a short human
 * summary naming every failed or skipped test.
 *
 * usage: nx_summary --ktap FILE --out FILE [--params FILE]
 *                   [--meta KEY=VALUE]... [--run-metric KEY=VALUE]...
 *        nx_summary --infrastructure REASON --out FILE [--meta ...]...
 *
 * --params names a file of "name=value" lines (the KVM module parameters in
 * force).  The run's "status" (passed, failed, skipped) goes into the "run"
 * object; --infrastructure writes the summary of a run that failed before
 * any test (no boot, QEMU abort), status "infrastructure" with its reason,
 * so that a lab dashboard sees why there are no results.
 * Exit: 0 all passed (skips allowed), 1 a test failed or the log has no
 * result at all, 4 everything skipped, 125 --infrastructure, 2 usage.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nx_results.h"

#define MAX_TESTS	512
#define MAX_KV		32

struct kv {
	char key[64];
	char val[512];
};

struct run {
	struct nx_test_result tests[MAX_TESTS];
	int nr_tests;
	int planned;		/* the top-level "1..N"; -1: none */
	struct kv meta[MAX_KV], params[MAX_KV], run_metrics[MAX_KV];
	int nr_meta, nr_params, nr_run_metrics;
};

static struct run run = { .planned = -1 };

static bool parse_kv(const char *s, struct kv *kv)
{
	const char *eq = strchr(s, '=');
	size_t n = eq ? (size_t)(eq - s) : 0;

	if (!n || n >= sizeof(kv->key))
		return false;
	memcpy(kv->key, s, n);
	kv->key[n] = '\0';
	snprintf(kv->val, sizeof(kv->val), "%s", eq + 1);
	kv->val[strcspn(kv->val, "\n")] = '\0';
	return true;
}

static void add_kv(struct kv *arr, int *nr, const char *s, const char *what)
{
	if (*nr == MAX_KV || !parse_kv(s, &arr[*nr])) {
		fprintf(stderr, "nx_summary: bad %s '%s'\n", what, s);
		exit(2);
	}
	(*nr)++;
}

static void read_params(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (!f) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f))
		if (strchr(line, '=') && run.nr_params < MAX_KV)
			parse_kv(line, &run.params[run.nr_params++]);
	fclose(f);
}

/* Diagnostics before a result line belong to that result. */
static void read_ktap(const char *path)
{
	struct nx_test_result pending = { .duration_ms = -1 };
	FILE *f = fopen(path, "r");
	char line[4096];
	const char *d;

	if (!f) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		struct nx_test_result *r = &pending;

		if (line[0] == '#') {
			struct nx_metric_val m;

			d = strstr(line, NX_DURATION_TAG);
			if (d)
				r->duration_ms = atol(d + strlen(NX_DURATION_TAG));
			else if (nx_parse_metric_line(line, &m) &&
				 r->nr_metrics < NX_MAX_METRICS)
				r->metrics[r->nr_metrics++] = m;
			continue;
		}
		if (!strncmp(line, "1..", 3) && run.planned < 0)
			run.planned = atoi(line + 3);
		if (!nx_parse_result_line(line, r) || run.nr_tests == MAX_TESTS)
			continue;
		run.tests[run.nr_tests++] = *r;
		memset(&pending, 0, sizeof(pending));
		pending.duration_ms = -1;
	}
	fclose(f);
}

static const char *status_name(enum nx_status s)
{
	return s == NX_PASS ? "pass" : s == NX_SKIP ? "skip" : "fail";
}

/* JSON has no NaN or infinity: such a measurement is written as null. */
static void write_number(FILE *f, double v, const char *fmt)
{
	if (isfinite(v))
		fprintf(f, fmt, v);
	else
		fputs("null", f);
}

static void write_kv_object(FILE *f, const struct kv *arr, int nr, bool num)
{
	int i;

	fputc('{', f);
	for (i = 0; i < nr; i++) {
		fputs(i ? ", " : "", f);
		nx_json_string(f, arr[i].key);
		fputs(": ", f);
		if (num)
			write_number(f, strtod(arr[i].val, NULL), "%g");
		else
			nx_json_string(f, arr[i].val);
	}
	fputc('}', f);
}

static void write_test(FILE *f, const struct nx_test_result *t)
{
	int i;

	fputs("    {\"name\": ", f);
	nx_json_string(f, t->name);
	fprintf(f, ", \"status\": \"%s\", \"duration_ms\": ", status_name(t->status));
	if (t->duration_ms < 0)
		fputs("null", f);
	else
		fprintf(f, "%ld", t->duration_ms);
	fputs(", \"reason\": ", f);
	nx_json_string(f, t->reason);
	fputs(", \"metrics\": {", f);
	for (i = 0; i < t->nr_metrics; i++) {
		fputs(i ? ", " : "", f);
		nx_json_string(f, t->metrics[i].name);
		fputs(": {\"value\": ", f);
		write_number(f, t->metrics[i].value, "%.3f");
		fputs(", \"unit\": ", f);
		nx_json_string(f, t->metrics[i].unit);
		fputc('}', f);
	}
	fputs("}}", f);
}

static void write_json(const char *path)
{
	FILE *f = fopen(path, "w");
	int i;

	if (!f) {
		perror(path);
		exit(2);
	}
	fputs("{\n  \"run\": ", f);
	write_kv_object(f, run.meta, run.nr_meta, false);
	fputs(",\n  \"module_parameters\": ", f);
	write_kv_object(f, run.params, run.nr_params, false);
	fputs(",\n  \"run_metrics\": ", f);
	write_kv_object(f, run.run_metrics, run.nr_run_metrics, true);
	fputs(",\n  \"tests\": [\n", f);
	for (i = 0; i < run.nr_tests; i++) {
		write_test(f, &run.tests[i]);
		fputs(i + 1 < run.nr_tests ? ",\n" : "\n", f);
	}
	fputs("  ]\n}\n", f);
	if (fclose(f)) {
		perror(path);
		exit(2);
	}
}

/* Exit status of the run: 0 passed, 1 failed or incomplete, 4 all skipped. */
static int run_verdict(void)
{
	int i, count[3] = { 0 };

	for (i = 0; i < run.nr_tests; i++)
		count[run.tests[i].status]++;
	if (count[NX_FAIL] || !run.nr_tests || run.planned > run.nr_tests)
		return 1;
	return count[NX_SKIP] == run.nr_tests ? 4 : 0;
}

static void print_summary(void)
{
	int i, count[3] = { 0 };

	for (i = 0; i < run.nr_tests; i++)
		count[run.tests[i].status]++;
	for (i = 0; i < run.nr_tests; i++) {
		const struct nx_test_result *t = &run.tests[i];

		if (t->status != NX_PASS)
			printf("  %s %s: %s\n", t->status == NX_FAIL ?
			       "FAILED " : "SKIPPED", t->name, t->reason);
	}
	printf("%d tests: %d passed, %d failed, %d skipped\n", run.nr_tests,
	       count[NX_PASS], count[NX_FAIL], count[NX_SKIP]);
	if (run.planned > run.nr_tests)
		printf("  MISSING %d of the %d planned tests reported no result\n",
		       run.planned - run.nr_tests, run.planned);
}

/* "status" (and "reason") lead the run object, before the caller's meta. */
static void set_status(const char *status, const char *reason)
{
	char buf[sizeof(run.meta[0].val) + 8];

	memmove(&run.meta[reason ? 2 : 1], run.meta,
		run.nr_meta * sizeof(run.meta[0]));
	run.nr_meta += reason ? 2 : 1;
	snprintf(buf, sizeof(buf), "status=%s", status);
	parse_kv(buf, &run.meta[0]);
	if (reason) {
		snprintf(buf, sizeof(buf), "reason=%s", reason);
		parse_kv(buf, &run.meta[1]);
	}
}

static const char *verdict_name(int verdict)
{
	return verdict == 0 ? "passed" : verdict == 4 ? "skipped" : "failed";
}

static void bad_usage(void)
{
	fputs("usage: nx_summary --ktap FILE --out FILE [--params FILE] [--meta K=V]... [--run-metric K=V]...\n"
	      "       nx_summary --infrastructure REASON --out FILE [--meta K=V]...\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ktap", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },
		{ "params", required_argument, NULL, 'p' },
		{ "meta", required_argument, NULL, 'm' },
		{ "run-metric", required_argument, NULL, 'r' },
		{ "infrastructure", required_argument, NULL, 'i' },
		{ 0 }
	};
	const char *ktap = NULL, *out = NULL, *infra = NULL;
	int opt, verdict;

	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			ktap = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			read_params(optarg);
			break;
		case 'm':
			add_kv(run.meta, &run.nr_meta, optarg, "--meta");
			break;
		case 'r':
			add_kv(run.run_metrics, &run.nr_run_metrics, optarg,
			       "--run-metric");
			break;
		case 'i':
			infra = optarg;
			break;
		default:
			return 2;
		}
	}
	if (!out || !ktap == !infra || run.nr_meta > MAX_KV - 2)
		bad_usage();
	if (infra) {
		set_status("infrastructure", infra);
		write_json(out);
		printf("run failed before any test: %s\n", infra);
		return 125;
	}
	read_ktap(ktap);
	verdict = run_verdict();
	set_status(verdict_name(verdict), NULL);
	write_json(out);
	print_summary();
	return verdict;
}
