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
	NX_Q_DURATIONS, NX_Q_VERDICT,
};

const char *nx_status_name(enum nx_status s);
void nx_count_status(const struct nx_results *res, int count[3]);
/* 0 passed, 1 failed or incomplete (or no result), 4 all skipped. */
int nx_run_verdict(const struct nx_results *res);
const char *nx_verdict_name(int verdict);

/* Read every ktap.log under @dir, in path order; false if none. */
bool nx_read_results_dir(const char *dir, struct nx_results *res);

/* Answer @q (@name for STATUS and REASON); returns the exit status. */
int nx_query(enum nx_query q, const char *name, const struct nx_results *res);

/* The matrix table of the LABEL=CELL_DIR arguments; returns the exit status. */
int nx_table(int nr_cells, char **cells);

#endif /* NX_QUERY_H */
