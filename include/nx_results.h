/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Metrics and results.  A test reports a measured number with nx_metric();
 * it becomes a KTAP diagnostic line
 *
 *	# nx_metric: <name>=<value> <unit>
 *
 * which the results writer (tools/nx_summary) collects, together with each
 * case's status, duration and reason, into summary.json.  Timing numbers are
 * reported, never asserted against tight thresholds.
 */
#ifndef NX_RESULTS_H
#define NX_RESULTS_H

#include <stdbool.h>
#include <stdio.h>

#define NX_METRIC_TAG	"nx_metric: "
/* Prefix of the line that reports a case's wall time, in ms. */
#define NX_DURATION_TAG	"nx_duration_ms: "
/* run_cases.sh's line after each run of a case run several times. */
#define NX_REPEAT_TAG	"nx_repeat: run "
#define NX_MAX_METRICS	16
#define NX_NAME_LEN	128

void nx_metric(const char *name, double value, const char *unit);

struct nx_metric_val {
	char name[NX_NAME_LEN];
	double value;		/* with several samples, their mean */
	char unit[16];
	/* The samples of a case run several times (--repeat). */
	int n;
	double sum, sumsq, min, max;
};

/*
 * NX_FLAKY: a case run several times that passed some runs and failed
 * others ("not ok N NAME # FLAKY passed P of R: WHY"): a failure of its
 * own kind.
 */
enum nx_status { NX_PASS, NX_FAIL, NX_SKIP, NX_FLAKY, NX_NR_STATUS };

struct nx_test_result {
	char name[NX_NAME_LEN];
	enum nx_status status;
	char reason[4096];	/* as long as a line nx_results_read reads */
	long duration_ms;	/* -1: not reported; repeated: all runs' */
	int nr_metrics;
	struct nx_metric_val metrics[NX_MAX_METRICS];
	/*
	 * The "#" lines between the previous top-level result and this one
	 * (the case's own output, as run_cases.sh nests it), malloc'd and
	 * owned by the nx_results; NULL if there were none.
	 */
	char *output;
};

/* Parse "nx_metric: name=value unit" anywhere in @line. */
bool nx_parse_metric_line(const char *line, struct nx_metric_val *m);

/*
 * Parse a top-level KTAP result line ("ok 3 name # SKIP why",
 * "not ok 4 name # why", "not ok 5 name # FLAKY passed 2 of 3: why") into
 * @r (status, name, reason).
 */
bool nx_parse_result_line(const char *line, struct nx_test_result *r);

/* The results of one or more KTAP documents, in the order read. */
struct nx_results {
	struct nx_test_result *tests;
	int nr_tests, cap;
	int planned;		/* the first top-level "1..N"; -1: none */
};

#define NX_RESULTS_INIT	{ .planned = -1 }

/*
 * Append the results of the KTAP document at @path to @res: each
 * top-level result line with the metrics, duration and output of the
 * diagnostics before it.  False if the file cannot be read (errno says why).
 */
bool nx_results_read(const char *path, struct nx_results *res);

/* Write @s as a JSON string literal, escaped. */
void nx_json_string(FILE *f, const char *s);

#endif /* NX_RESULTS_H */
