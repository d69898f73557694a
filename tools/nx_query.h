/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nx_summary's questions about results (tools/nx_query.c) and what they
 * share with its summary writer (tools/nx_summary.c).
 */
#ifndef NX_QUERY_H
#define NX_QUERY_H

#include "nx_results.h"

enum nx_query {
	NX_Q_NONE, NX_Q_FAILED, NX_Q_STATUS, NX_Q_REASON, NX_Q_SIGNATURE,
	NX_Q_DURATIONS, NX_Q_CASES, NX_Q_VERDICT,
};

/* A "key=value" of the run: summary.json's "run", JUnit's properties. */
struct nx_kv {
	char key[64];
	char val[512];
};

const char *nx_status_name(enum nx_status s);

/*
 * nx_summary's way out when the system fails it: the cause on stderr,
 * exit 2.  nx_fopen() and nx_fclose() name the file.
 */
void nx_oom(void);
void *nx_realloc(void *p, size_t n);
FILE *nx_fopen(const char *path, const char *mode);
void nx_fclose(FILE *f, const char *path);

/* A failure: failed, or flaky (failed some of its runs). */
static inline bool nx_failed(enum nx_status s)
{
	return s == NX_FAIL || s == NX_FLAKY;
}
void nx_count_status(const struct nx_results *res, int count[NX_NR_STATUS]);
/* 0 passed, 1 failed, flaky or incomplete (or no result), 4 all skipped. */
int nx_run_verdict(const struct nx_results *res);
const char *nx_verdict_name(int verdict);

/*
 * The ktap.log files under @dir, sorted, in a malloc'd array of malloc'd
 * paths; their number, -1 if @dir cannot be read.
 */
int nx_ktap_paths(const char *dir, char ***paths);

/* Read every ktap.log under @dir, in path order; false if none. */
bool nx_read_results_dir(const char *dir, struct nx_results *res);

/* Answer @q (@name for STATUS and REASON); returns the exit status. */
int nx_query(enum nx_query q, const char *name, const struct nx_results *res);

/* The matrix table of the LABEL=CELL_DIR arguments; returns the exit status. */
int nx_table(int nr_cells, char **cells);

/* Write @s escaped for XML text and attribute values (tools/nx_junit.c). */
void nx_xml_text(FILE *f, const char *s);

/*
 * junit.xml of a run: one testsuite @name with the run's @props, a
 * testcase per result of @res; with @infra (the run failed before any
 * test), one failed testcase naming it instead.
 */
void nx_write_junit(const char *path, const char *name,
		    const struct nx_results *res, const char *infra,
		    const struct nx_kv *props, int nr_props);

/* @dir/<name>.log per case of @res: its output and result. */
void nx_write_case_logs(const char *dir, const struct nx_results *res);

/*
 * --split RAW OUT... (tools/nx_stream.c): the K-th KTAP document of the
 * stream RAW (from a "TAP version" line to the next) into the K-th OUT,
 * verbatim; OUTs past the last document empty.  Returns 1 if RAW had more
 * documents than OUTs (the rest went into the last), else 0.
 */
int nx_split(const char *raw, int nr_outs, char **outs);

/*
 * --merge CATALOGUE STREAM... (tools/nx_stream.c): the STREAMs' cases as
 * one KTAP document on stdout, in the order of CATALOGUE ("BINARY NAME"
 * lines), renumbered, its plan the whole catalogue.  Returns 0.
 */
int nx_merge(const char *catalogue, int nr_streams, char **streams);

/* --compare BASE NEW (tools/nx_compare.c); returns the exit status. */
int nx_compare(const char *base, const char *new);

#endif /* NX_QUERY_H */
