// SPDX-License-Identifier: GPL-2.0-only
/*
 * nx_summary's junit.xml and per-case logs (nx_query.h): what Jenkins and
 * GitLab ingest, and what a lab links to from one failure.  Written from
 * the same parsed results as summary.json, so the formats cannot disagree
 * with each other or with ktap.log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nx_query.h"

/*
 * Bytes that XML 1.0 cannot carry at all (control characters other than
 * tab and newline, and anything that is not UTF-8) become '?': a guest's
 * console can print anything, and one bad byte would make the whole file
 * unreadable to a lab's parser.  A tab is a reference, which an attribute
 * value keeps (a parser turns a literal one into a space there); values
 * are single lines, text keeps its newlines.
 */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (*s < 0x80)
		return 1;
	if ((*s & 0xe0) == 0xc0 && *s >= 0xc2)
		n = 2;
	else if ((*s & 0xf0) == 0xe0)
		n = 3;
	else if ((*s & 0xf8) == 0xf0 && *s <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void nx_xml_text(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	while (*s) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\t':
			fputs("&#9;", f);
			break;
		case '\n':
			fputc(*s, f);
			break;
		default:
			n = *s < 0x20 ? 0 : utf8_len(s);
			if (!n) {
				fputc('?', f);
				break;
			}
			fwrite(s, 1, n, f);
			s += n;
			continue;
		}
		s++;
	}
}

/* "nx_recovery_ratio.hugetlb_2m.ratio_2": the suite (binary) and the case. */
static void split_name(const char *name, char *suite, size_t len,
		       const char **rest)
{
	const char *dot = strchr(name, '.');

	if (!dot || dot == name || !dot[1]) {
		snprintf(suite, len, "nx");
		*rest = name;
		return;
	}
	snprintf(suite, len, "%.*s", (int)(dot - name), name);
	*rest = dot + 1;
}

static void write_props(FILE *f, const struct nx_kv *props, int nr)
{
	int i;

	fputs("    <properties>\n", f);
	for (i = 0; i < nr; i++) {
		fputs("      <property name=\"", f);
		nx_xml_text(f, props[i].key);
		fputs("\" value=\"", f);
		nx_xml_text(f, props[i].val);
		fputs("\"/>\n", f);
	}
	fputs("    </properties>\n", f);
}

static void write_case(FILE *f, const struct nx_test_result *t)
{
	const char *out = t->output ? t->output : "";
	const char *rest;
	char suite[NX_NAME_LEN];

	split_name(t->name, suite, sizeof(suite), &rest);
	fputs("    <testcase classname=\"", f);
	nx_xml_text(f, suite);
	fputs("\" name=\"", f);
	nx_xml_text(f, rest);
	fputc('"', f);
	if (t->duration_ms >= 0)
		fprintf(f, " time=\"%.3f\"", t->duration_ms / 1000.0);
	fputs(">\n", f);
	switch (t->status) {
	case NX_FAIL:
	case NX_FLAKY:
		fprintf(f, "      <failure type=\"%s\" message=\"",
			nx_status_name(t->status));
		nx_xml_text(f, t->reason);
		fputs("\">", f);
		nx_xml_text(f, out);
		fputs("</failure>\n", f);
		break;
	case NX_SKIP:
		fputs("      <skipped message=\"", f);
		nx_xml_text(f, t->reason);
		fputs("\"/>\n", f);
		break;
	default:
		break;
	}
	if (!nx_failed(t->status) && *out) {
		fputs("      <system-out>", f);
		nx_xml_text(f, out);
		fputs("</system-out>\n", f);
	}
	fputs("    </testcase>\n", f);
}

static void write_head(FILE *f, const char *name, int tests, int failures,
		       int skipped, double time_s)
{
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites name=\"nx-selftests\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.3f\">\n",
		tests, failures, skipped, time_s);
	fputs("  <testsuite name=\"", f);
	nx_xml_text(f, name);
	fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.3f\">\n",
		tests, failures, skipped, time_s);
}

void nx_write_junit(const char *path, const char *name,
		    const struct nx_results *res, const char *infra,
		    const struct nx_kv *props, int nr_props)
{
	FILE *f = nx_fopen(path, "w");
	long ms = 0;
	int i, count[NX_NR_STATUS];

	if (infra) {
		/* No test ran: one failed case, so that a dashboard shows why. */
		write_head(f, name, 1, 1, 0, 0);
		write_props(f, props, nr_props);
		fputs("    <testcase classname=\"nx-selftests\" name=\"infrastructure\">\n"
		      "      <failure type=\"infrastructure\" message=\"", f);
		nx_xml_text(f, infra);
		fputs("\">run failed before any test: ", f);
		nx_xml_text(f, infra);
		fputs("</failure>\n    </testcase>\n", f);
	} else {
		nx_count_status(res, count);
		for (i = 0; i < res->nr_tests; i++)
			ms += res->tests[i].duration_ms > 0 ?
			      res->tests[i].duration_ms : 0;
		write_head(f, name, res->nr_tests,
			   count[NX_FAIL] + count[NX_FLAKY],
			   count[NX_SKIP], ms / 1000.0);
		write_props(f, props, nr_props);
		for (i = 0; i < res->nr_tests; i++)
			write_case(f, &res->tests[i]);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	nx_fclose(f, path);
}

/*
 * The output lines of a case as the binary printed them: run_cases.sh
 * nests each line under one "# ", which comes off again here.
 */
static void write_output(FILE *f, const char *out)
{
	const char *eol;

	for (; *out; out = eol) {
		eol = strchr(out, '\n');
		eol = eol ? eol + 1 : out + strlen(out);
		if (!strncmp(out, "# ", 2))
			out += 2;
		else if (*out == '#')
			out++;
		fwrite(out, 1, eol - out, f);
	}
}

/*
 * DIR/<name>.log per case: its output and its result line.  A name
 * repeated (several results of one case) appends to the same log.
 */
void nx_write_case_logs(const char *dir, const struct nx_results *res)
{
	char path[4096], file[NX_NAME_LEN];
	int i, j;
	char *p;
	FILE *f;

	if (mkdir(dir, 0755) && errno != EEXIST) {
		perror(dir);
		exit(2);
	}
	for (i = 0; i < res->nr_tests; i++) {
		const struct nx_test_result *t = &res->tests[i];

		/* KTAP names are ASCII words and dots; anything else is not a path. */
		snprintf(file, sizeof(file), "%s", t->name);
		for (p = file; *p; p++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *p))
				*p = '_';
		if (file[0] == '.')
			file[0] = '_';
		for (j = 0; j < i && strcmp(res->tests[j].name, t->name); j++)
			;
		snprintf(path, sizeof(path), "%s/%s.log", dir, file);
		f = nx_fopen(path, j < i ? "a" : "w");
		if (t->output)
			write_output(f, t->output);
		fprintf(f, "%s %s%s%s\n", nx_status_name(t->status), t->name,
			t->reason[0] ? ": " : "", t->reason);
		nx_fclose(f, path);
	}
}
