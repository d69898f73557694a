// SPDX-License-Identifier: GPL-2.0-only
/* Metric lines and KTAP result parsing; see include/nx_results.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nx_results.h"

void nx_metric(const char *name, double value, const char *unit)
{
	printf(NX_METRIC_TAG "%s=%.3f %s\n", name, value, unit);
	fflush(stdout);
}

bool nx_parse_metric_line(const char *line, struct nx_metric_val *m)
{
	const char *p = strstr(line, NX_METRIC_TAG);
	const char *eq, *space;
	size_t n;
	char *end;

	if (!p)
		return false;
	p += strlen(NX_METRIC_TAG);
	eq = strchr(p, '=');
	space = strpbrk(p, " \t");
	n = eq ? (size_t)(eq - p) : 0;
	if (!n || n >= sizeof(m->name) || (space && space < eq))
		return false;
	memcpy(m->name, p, n);
	m->name[n] = '\0';
	m->value = strtod(eq + 1, &end);
	if (end == eq + 1)
		return false;
	end += strspn(end, " \t");
	n = strcspn(end, " \t\r\n");
	if (n >= sizeof(m->unit))
		n = sizeof(m->unit) - 1;
	memcpy(m->unit, end, n);
	m->unit[n] = '\0';
	return true;
}

static void nx_trim_copy(char *dst, size_t len, const char *src, size_t n)
{
	while (n && (src[n - 1] == ' ' || src[n - 1] == '\n' ||
		     src[n - 1] == '\r'))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool nx_parse_result_line(const char *line, struct nx_test_result *r)
{
	const char *p = line, *hash;
	char *end;

	if (!strncmp(p, "ok ", 3)) {
		r->status = NX_PASS;
		p += 3;
	} else if (!strncmp(p, "not ok ", 7)) {
		r->status = NX_FAIL;
		p += 7;
	} else {
		return false;
	}
	strtol(p, &end, 10);
	if (end == p || *end != ' ')
		return false;
	p = end + 1;
	hash = strstr(p, " # ");
	nx_trim_copy(r->name, sizeof(r->name), p,
		     hash ? (size_t)(hash - p) : strlen(p));
	r->reason[0] = '\0';
	if (!hash)
		return r->name[0] != '\0';
	hash += 3;
	if (!strncmp(hash, "SKIP", 4) && r->status == NX_PASS) {
		r->status = NX_SKIP;
		hash += 4;
		hash += strspn(hash, " ");
	} else if (!strncmp(hash, "FLAKY ", 6) && r->status == NX_FAIL) {
		r->status = NX_FLAKY;
		hash += 6;
	}
	nx_trim_copy(r->reason, sizeof(r->reason), hash, strlen(hash));
	return r->name[0] != '\0';
}

void nx_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static bool nx_results_add(struct nx_results *res,
			   const struct nx_test_result *t)
{
	struct nx_test_result *grown;

	if (res->nr_tests == res->cap) {
		res->cap = res->cap ? 2 * res->cap : 64;
		grown = realloc(res->tests, res->cap * sizeof(*t));
		if (!grown)
			return false;
		res->tests = grown;
	}
	res->tests[res->nr_tests++] = *t;
	return true;
}

/*
 * Metric @m of @r: a new one, or one more sample of a metric the case
 * already reported (a case run several times reports each metric once per
 * run), whose value becomes the mean.
 */
static void nx_results_metric(struct nx_test_result *r,
			      const struct nx_metric_val *m)
{
	struct nx_metric_val *to;
	int i;

	for (i = 0; i < r->nr_metrics; i++)
		if (!strcmp(r->metrics[i].name, m->name))
			break;
	if (i == NX_MAX_METRICS)
		return;
	to = &r->metrics[i];
	if (i == r->nr_metrics) {
		*to = *m;
		to->n = 0;
		to->sum = to->sumsq = 0;
		to->min = to->max = m->value;
		r->nr_metrics++;
	}
	to->n++;
	to->sum += m->value;
	to->sumsq += m->value * m->value;
	to->min = m->value < to->min ? m->value : to->min;
	to->max = m->value > to->max ? m->value : to->max;
	to->value = to->sum / to->n;
}

/*
 * A "#" line: the pending result's duration or one of its metrics.  The
 * end of one run of a case run several times banks its duration in
 * @runs_ms, so that the result has the time of all its runs.
 */
static void nx_results_diag(const char *line, struct nx_test_result *r,
			    long *runs_ms)
{
	const char *d = strstr(line, NX_DURATION_TAG);
	struct nx_metric_val m;

	if (!strncmp(line, "# " NX_REPEAT_TAG, 2 + strlen(NX_REPEAT_TAG))) {
		if (r->duration_ms >= 0)
			*runs_ms += r->duration_ms;
		r->duration_ms = -1;
	} else if (d) {
		r->duration_ms = atol(d + strlen(NX_DURATION_TAG));
	} else if (nx_parse_metric_line(line, &m)) {
		nx_results_metric(r, &m);
	}
}

/* Append @line to the output of @r; false if out of memory. */
static bool nx_results_output(struct nx_test_result *r, size_t *len,
			      const char *line)
{
	size_t n = strlen(line);
	char *grown = realloc(r->output, *len + n + 1);

	if (!grown)
		return false;
	memcpy(grown + *len, line, n + 1);
	r->output = grown;
	*len += n;
	return true;
}

bool nx_results_read(const char *path, struct nx_results *res)
{
	static struct nx_test_result pending;
	FILE *f = fopen(path, "r");
	char line[4096];
	size_t out_len = 0;
	long runs_ms = 0;
	bool ok = true;

	if (!f)
		return false;
	memset(&pending, 0, sizeof(pending));
	pending.duration_ms = -1;
	while (ok && fgets(line, sizeof(line), f)) {
		if (line[0] == '#') {
			nx_results_diag(line, &pending, &runs_ms);
			ok = nx_results_output(&pending, &out_len, line);
			continue;
		}
		if (!strncmp(line, "1..", 3) && res->planned < 0)
			res->planned = atoi(line + 3);
		if (!nx_parse_result_line(line, &pending))
			continue;
		if (runs_ms)
			pending.duration_ms = runs_ms;
		ok = nx_results_add(res, &pending);
		memset(&pending, 0, sizeof(pending));
		pending.duration_ms = -1;
		out_len = 0;
		runs_ms = 0;
	}
	fclose(f);
	free(pending.output);
	if (!ok)
		errno = ENOMEM;
	return ok;
}
