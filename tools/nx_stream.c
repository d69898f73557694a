// SPDX-License-Identifier: GPL-2.0-only
/*
 * nx_summary's work on results streams as they come from the VMs
 * (nx_query.h): a VM's stream cut into its cells' KTAP documents, and the
 * streams of several VMs of one cell merged into one document, so that no
 * runner script takes KTAP lines apart.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "nx_query.h"

/* A line of a stream without its line end (a VM's serial port may add \r). */
static size_t bare_len(const char *line)
{
	return strcspn(line, "\r\n");
}

static bool is_header(const char *line)
{
	return !strncmp(line, "TAP version ", 12);
}

/* "1..N" alone on its line: the plan of one document. */
static bool is_plan(const char *line)
{
	size_t n = bare_len(line);

	return n > 3 && !strncmp(line, "1..", 3) &&
	       strspn(line + 3, "0123456789") == n - 3;
}

int nx_split(const char *raw, int nr_outs, char **outs)
{
	FILE *in = nx_fopen(raw, "r"), *out = nx_fopen(outs[0], "w");
	char *line = NULL;
	size_t cap = 0;
	bool begun = false;
	int k = 0, rc = 0;

	while (getline(&line, &cap, in) > 0) {
		if (is_header(line) && begun && k + 1 < nr_outs) {
			nx_fclose(out, outs[k]);
			out = nx_fopen(outs[++k], "w");
		} else if (is_header(line) && begun && !rc) {
			fprintf(stderr, "nx_summary: %s: more KTAP documents than the %d cells; the rest goes to the last\n",
				raw, nr_outs);
			rc = 1;
		}
		begun |= is_header(line);
		fputs(line, out);
	}
	nx_fclose(out, outs[k]);
	/*
	 * Every output is written, empty when its cell never began, so that
	 * a cell the guest did not reach fails for its missing results.
	 */
	while (++k < nr_outs)
		nx_fclose(nx_fopen(outs[k], "w"), outs[k]);
	free(line);
	fclose(in);
	return rc;
}

/* A case's lines in a merged stream: from its "# selftests:" line on. */
struct block {
	char *name, *text, *result;
	size_t len;
};

static struct block *blocks;
static int nr_blocks;

static struct block *block_of(const char *name)
{
	int i;

	for (i = 0; i < nr_blocks; i++)
		if (!strcmp(blocks[i].name, name))
			return &blocks[i];
	blocks = nx_realloc(blocks, (nr_blocks + 1) * sizeof(*blocks));
	blocks[nr_blocks] = (struct block){ .name = strdup(name) };
	if (!blocks[nr_blocks].name)
		nx_oom();
	return &blocks[nr_blocks++];
}

static void append(char **text, size_t *len, const char *line)
{
	size_t n = strlen(line);

	*text = nx_realloc(*text, *len + n + 1);
	memcpy(*text + *len, line, n + 1);
	*len += n;
}

/* "ok N REST" or "not ok N REST": the offset of REST, else 0. */
static size_t result_rest(const char *line)
{
	const char *p = line + (!strncmp(line, "not ", 4) ? 4 : 0);
	size_t digits;

	if (strncmp(p, "ok ", 3))
		return 0;
	p += 3;
	digits = strspn(p, "0123456789");
	if (!digits || p[digits] != ' ')
		return 0;
	return p + digits - line;
}

/* The name of "# selftests: nx: NAME", which run_cases.sh puts first. */
static char *block_name(const char *line)
{
	static const char tag[] = "# selftests: nx: ";
	size_t n;

	if (strncmp(line, tag, strlen(tag)))
		return NULL;
	line += strlen(tag);
	n = strcspn(line, " \t\r\n");
	return n ? strndup(line, n) : NULL;
}

static void read_stream(const char *path, char **head, size_t *head_len)
{
	FILE *f = nx_fopen(path, "r");
	struct block *cur = NULL;
	char *buf = NULL, *line = NULL, *name;
	size_t cap = 0;

	while (getline(&buf, &cap, f) > 0) {
		/* A line a dying guest cut short ends like any other. */
		free(line);
		if (asprintf(&line, "%s%s", buf,
			     buf[strlen(buf) - 1] == '\n' ? "" : "\n") < 0)
			nx_oom();
		if (is_header(line) || is_plan(line))
			continue;
		name = block_name(line);
		if (name) {
			cur = block_of(name);
			free(name);
			free(cur->text);
			cur->text = NULL;
			cur->len = 0;
			append(&cur->text, &cur->len, line);
		} else if (cur && result_rest(line)) {
			free(cur->result);
			cur->result = strdup(line);
			cur = NULL;
		} else if (cur) {
			append(&cur->text, &cur->len, line);
		} else {
			append(head, head_len, line);
		}
	}
	free(buf);
	free(line);
	fclose(f);
}

int nx_merge(const char *catalogue, int nr_streams, char **streams)
{
	FILE *cat = nx_fopen(catalogue, "r");
	char *line = NULL, *head = NULL, bin[4096], name[NX_NAME_LEN];
	char **order = NULL;
	size_t cap = 0, head_len = 0;
	int i, n = 0, k = 0;

	while (getline(&line, &cap, cat) > 0) {
		if (sscanf(line, "%4095s %127s", bin, name) != 2)
			continue;
		order = nx_realloc(order, (n + 1) * sizeof(*order));
		order[n] = strdup(name);
		if (!order[n++])
			nx_oom();
	}
	fclose(cat);
	for (i = 0; i < nr_streams; i++)
		read_stream(streams[i], &head, &head_len);
	/* What came before any case (a runner's last words) leads. */
	if (head)
		fputs(head, stdout);
	printf("TAP version 13\n1..%d\n", n);
	for (i = 0; i < n; i++) {
		struct block *b = block_of(order[i]);
		size_t rest;

		if (!b->result)
			continue;
		rest = result_rest(b->result);
		printf("%s%s %d%s", b->text ?: "",
		       strncmp(b->result, "not ", 4) ? "ok" : "not ok", ++k,
		       b->result + rest);
	}
	free(line);
	free(head);
	return 0;
}
