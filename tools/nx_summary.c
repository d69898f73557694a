// SPDX-License-Identifier: GPL-2.0-only
/*
 * nx_summary: the one reader of the suite's results.  It turns a run's
 * ktap.log into summary.json and a short human summary naming every failed
 * or skipped test, and answers what the scripts need to know of results,
 * so that none of them parses KTAP (or output meant for people) itself.
 *
 * usage: nx_summary --ktap FILE --out FILE [--params FILE]
 *                   [--meta KEY=VALUE]... [--run-metric KEY=VALUE]...
 *                   [--junit FILE] [--case-logs DIR]
 *        nx_summary --infrastructure REASON --out FILE [--meta ...]...
 *                   [--junit FILE]
 *        nx_summary (--results DIR | --ktap FILE) QUERY
 *        nx_summary --table LABEL=CELL_DIR...
 *        nx_summary --compare BASE NEW
 *        nx_summary --split RAW OUT...
 *        nx_summary --merge CATALOGUE STREAM...
 *
 * summary.json follows docs/summary.schema.json; its "version" says which
 * (NX_SUMMARY_VERSION; docs/runner.md says when it changes).  --junit
 * writes the same results as JUnit XML (tools/nx_junit.c), --case-logs a
 * log per case, DIR/<name>.log.
 * --params names a file of "name=value" lines (the KVM module parameters in
 * force).  The run's "status" (passed, failed, skipped) goes into the "run"
 * object; --infrastructure writes the summary of a run that failed before
 * any test (no boot, QEMU abort), status "infrastructure" with its reason,
 * so that a lab dashboard sees why there are no results.
 *
 * A QUERY reads the ktap.log files under DIR (a run's folder, a matrix
 * run's, several runs'), in path order:
 *   --failed         each failed test's name, a line each
 *   --status NAME    pass, fail or skip (NAME's last result); exit 1 if none
 *   --reason NAME    the reason of NAME's last result; exit 1 if none
 *   --signature      "NAME # REASON" of each failure, numbers masked as N,
 *                    sorted: what a rerun must reproduce (scripts/bisect.sh)
 *   --durations      "NAME MS" of each test that reported its wall time
 *   --cases          "NAME pass|fail|skip" of each result, in order: what a
 *                    LAVA test definition reports (docs/labs.md)
 *   --verdict        passed, failed or skipped, with that exit status
 * --table prints a matrix run's table: one row per test, one column per
 * cell (PASS, FAIL, SKIP, or "-": the cell did not run it), then a line per
 * cell with its counts and wall time (CELL_DIR/cell.txt "run_s=N").
 *
 * Exit: 0 all passed (skips allowed), 1 a test failed or the log has no
 * result at all, 4 everything skipped, 125 --infrastructure, 2 usage.
 * --table: 0 every cell ran and none failed, else 1.
 * --compare (tools/nx_compare.c): 0 no regression, 1 a regression, 2 usage.
 *
 * The VMs' streams (tools/nx_stream.c): --split cuts a VM's results stream
 * into its cells (one KTAP document per MMU mode, in the order run), and
 * --merge makes one document of a cell's streams from several VMs, in
 * catalogue order (see nx_query.h).
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nx_query.h"

#define MAX_KV		32
/* summary.json's "version": bumped when a reader would misread a summary. */
#define NX_SUMMARY_VERSION	1

struct run {
	struct nx_results r;
	struct nx_kv meta[MAX_KV], params[MAX_KV], run_metrics[MAX_KV];
	int nr_meta, nr_params, nr_run_metrics;
};

static struct run run = { .r = NX_RESULTS_INIT };

static bool parse_kv(const char *s, struct nx_kv *kv)
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

static void add_kv(struct nx_kv *arr, int *nr, const char *s, const char *what)
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

const char *nx_status_name(enum nx_status s)
{
	return s == NX_PASS ? "pass" : s == NX_SKIP ? "skip" :
	       s == NX_FLAKY ? "flaky" : "fail";
}

/* JSON has no NaN or infinity: such a measurement is written as null. */
static void write_number(FILE *f, double v, const char *fmt)
{
	if (isfinite(v))
		fprintf(f, fmt, v);
	else
		fputs("null", f);
}

static void write_kv_object(FILE *f, const struct nx_kv *arr, int nr, bool num)
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

/* A metric of a case run several times: its spread (schema: "samples"). */
static void write_samples(FILE *f, const struct nx_metric_val *m)
{
	double var = (m->sumsq - m->sum * m->sum / m->n) / (m->n - 1);

	fprintf(f, ", \"samples\": %d, \"min\": ", m->n);
	write_number(f, m->min, "%.3f");
	fputs(", \"max\": ", f);
	write_number(f, m->max, "%.3f");
	fputs(", \"sd\": ", f);
	write_number(f, var > 0 ? sqrt(var) : 0, "%.3f");
}

static void write_test(FILE *f, const struct nx_test_result *t)
{
	int i;

	fputs("    {\"name\": ", f);
	nx_json_string(f, t->name);
	fprintf(f, ", \"status\": \"%s\", \"duration_ms\": ", nx_status_name(t->status));
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
		if (t->metrics[i].n > 1)
			write_samples(f, &t->metrics[i]);
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
	fprintf(f, "{\n  \"version\": %d,\n  \"run\": ", NX_SUMMARY_VERSION);
	write_kv_object(f, run.meta, run.nr_meta, false);
	fputs(",\n  \"module_parameters\": ", f);
	write_kv_object(f, run.params, run.nr_params, false);
	fputs(",\n  \"run_metrics\": ", f);
	write_kv_object(f, run.run_metrics, run.nr_run_metrics, true);
	fputs(",\n  \"tests\": [\n", f);
	for (i = 0; i < run.r.nr_tests; i++) {
		write_test(f, &run.r.tests[i]);
		fputs(i + 1 < run.r.nr_tests ? ",\n" : "\n", f);
	}
	fputs("  ]\n}\n", f);
	if (fclose(f)) {
		perror(path);
		exit(2);
	}
}

void nx_count_status(const struct nx_results *res, int count[NX_NR_STATUS])
{
	int i;

	memset(count, 0, NX_NR_STATUS * sizeof(*count));
	for (i = 0; i < res->nr_tests; i++)
		count[res->tests[i].status]++;
}

/*
 * Exit status of the run: 0 passed, 1 failed (a flaky case too) or
 * incomplete, 4 all skipped.
 */
int nx_run_verdict(const struct nx_results *res)
{
	int count[NX_NR_STATUS];

	nx_count_status(res, count);
	if (count[NX_FAIL] || count[NX_FLAKY] || !res->nr_tests ||
	    res->planned > res->nr_tests)
		return 1;
	return count[NX_SKIP] == res->nr_tests ? 4 : 0;
}

static void print_summary(void)
{
	static const char *const word[] = {
		[NX_FAIL] = "FAILED ", [NX_SKIP] = "SKIPPED", [NX_FLAKY] = "FLAKY  ",
	};
	int i, count[NX_NR_STATUS];

	nx_count_status(&run.r, count);
	for (i = 0; i < run.r.nr_tests; i++) {
		const struct nx_test_result *t = &run.r.tests[i];

		if (t->status != NX_PASS)
			printf("  %s %s: %s\n", word[t->status], t->name,
			       t->reason);
	}
	printf("%d tests: %d passed, %d failed, %d skipped", run.r.nr_tests,
	       count[NX_PASS], count[NX_FAIL], count[NX_SKIP]);
	if (count[NX_FLAKY])
		printf(", %d flaky", count[NX_FLAKY]);
	putchar('\n');
	if (run.r.planned > run.r.nr_tests)
		printf("  MISSING %d of the %d planned tests reported no result\n",
		       run.r.planned - run.r.nr_tests, run.r.planned);
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

const char *nx_verdict_name(int verdict)
{
	return verdict == 0 ? "passed" : verdict == 4 ? "skipped" : "failed";
}

static void bad_usage(void)
{
	fputs("usage: nx_summary --ktap FILE --out FILE [--params FILE] [--meta K=V]... [--run-metric K=V]...\n"
	      "                  [--junit FILE] [--case-logs DIR]\n"
	      "       nx_summary --infrastructure REASON --out FILE [--meta K=V]... [--junit FILE]\n"
	      "       nx_summary (--results DIR | --ktap FILE) (--failed | --status NAME | --reason NAME |\n"
	      "                  --signature | --durations | --cases | --verdict)\n"
	      "       nx_summary --table LABEL=CELL_DIR...\n"
	      "       nx_summary --compare BASE NEW\n"
	      "       nx_summary --split RAW OUT...\n"
	      "       nx_summary --merge CATALOGUE STREAM...\n",
	      stderr);
	exit(2);
}

static const char *meta_val(const char *key)
{
	int i;

	for (i = 0; i < run.nr_meta; i++)
		if (!strcmp(run.meta[i].key, key))
			return run.meta[i].val;
	return NULL;
}

/* JUnit's testsuite: "nx-selftests 6.12.118+deb12-amd64 tdp". */
static void write_junit(const char *path, const char *infra)
{
	const char *release = meta_val("kernel_release"), *mmu = meta_val("mmu");
	char name[1200];

	snprintf(name, sizeof(name), "nx-selftests%s%s%s%s",
		 release ? " " : "", release ?: "", mmu ? " " : "", mmu ?: "");
	nx_write_junit(path, name, &run.r, infra, run.meta, run.nr_meta);
}

static int write_summary(const char *ktap, const char *out, const char *junit,
			 const char *logs)
{
	int verdict;

	if (!nx_results_read(ktap, &run.r)) {
		perror(ktap);
		exit(2);
	}
	verdict = nx_run_verdict(&run.r);
	set_status(nx_verdict_name(verdict), NULL);
	write_json(out);
	if (junit)
		write_junit(junit, NULL);
	if (logs)
		nx_write_case_logs(logs, &run.r);
	print_summary();
	return verdict;
}

static int answer(enum nx_query q, const char *name, const char *ktap,
		  const char *dir)
{
	if (dir && !nx_read_results_dir(dir, &run.r)) {
		fprintf(stderr, "nx_summary: no ktap.log under %s\n", dir);
		return q == NX_Q_VERDICT ? 1 : 0;
	}
	if (ktap && !nx_results_read(ktap, &run.r)) {
		perror(ktap);
		exit(2);
	}
	return nx_query(q, name, &run.r);
}

static void set_query(enum nx_query *q, enum nx_query to, const char **name)
{
	if (*q != NX_Q_NONE)
		bad_usage();
	*q = to;
	if (to == NX_Q_STATUS || to == NX_Q_REASON)
		*name = optarg;
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
		{ "results", required_argument, NULL, 'R' },
		{ "failed", no_argument, NULL, NX_Q_FAILED },
		{ "status", required_argument, NULL, NX_Q_STATUS },
		{ "reason", required_argument, NULL, NX_Q_REASON },
		{ "signature", no_argument, NULL, NX_Q_SIGNATURE },
		{ "durations", no_argument, NULL, NX_Q_DURATIONS },
		{ "cases", no_argument, NULL, NX_Q_CASES },
		{ "verdict", no_argument, NULL, NX_Q_VERDICT },
		{ "table", no_argument, NULL, 't' },
		{ "junit", required_argument, NULL, 'j' },
		{ "case-logs", required_argument, NULL, 'l' },
		{ "compare", no_argument, NULL, 'c' },
		{ "split", no_argument, NULL, 's' },
		{ "merge", no_argument, NULL, 'M' },
		{ 0 }
	};
	const char *ktap = NULL, *out = NULL, *infra = NULL, *dir = NULL;
	const char *name = NULL, *junit = NULL, *logs = NULL;
	enum nx_query q = NX_Q_NONE;
	bool table = false, compare = false, split = false, merge = false;
	int opt;

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
		case 'R':
			dir = optarg;
			break;
		case 't':
			table = true;
			break;
		case 'j':
			junit = optarg;
			break;
		case 'l':
			logs = optarg;
			break;
		case 'c':
			compare = true;
			break;
		case 's':
			split = true;
			break;
		case 'M':
			merge = true;
			break;
		case NX_Q_FAILED ... NX_Q_VERDICT:
			set_query(&q, opt, &name);
			break;
		default:
			return 2;
		}
	}
	if (split || merge) {
		if (split == merge || table || compare || q || ktap || dir ||
		    out || infra || junit || logs || argc - optind < 2)
			bad_usage();
		return split ? nx_split(argv[optind], argc - optind - 1,
					argv + optind + 1) :
			       nx_merge(argv[optind], argc - optind - 1,
					argv + optind + 1);
	}
	if (compare) {
		if (table || q || ktap || dir || out || infra || junit || logs ||
		    argc - optind != 2)
			bad_usage();
		return nx_compare(argv[optind], argv[optind + 1]);
	}
	if (table)
		return q || ktap || dir || out || infra || junit || logs ? 2 :
		       nx_table(argc - optind, argv + optind);
	if (q != NX_Q_NONE) {
		if (out || infra || junit || logs || !ktap == !dir ||
		    optind < argc)
			bad_usage();
		return answer(q, name, ktap, dir);
	}
	if (!out || !ktap == !infra || dir || run.nr_meta > MAX_KV - 2 ||
	    optind < argc || (infra && logs))
		bad_usage();
	if (infra) {
		set_status("infrastructure", infra);
		write_json(out);
		if (junit)
			write_junit(junit, infra);
		printf("run failed before any test: %s\n", infra);
		return 125;
	}
	return write_summary(ktap, out, junit, logs);
}
