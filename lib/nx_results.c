// SPDX-License-Identifier: GPL-2.0-only
/* Metric lines and KTAP result parsing; see include/nx_results.h. */
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
