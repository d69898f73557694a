// SPDX-License-Identifier: GPL-2.0-only
/* kprobe tracing in a private tracefs instance; see include/nx_trace.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

#include "nx_params.h"
#include "nx_signal.h"
#include "nx_skip.h"
#include "nx_trace.h"

#define NX_INSTANCE_DIR	NX_TRACEFS "/instances/" NX_TRACE_INSTANCE
#define NX_KPROBE_EVENTS NX_TRACEFS "/kprobe_events"
/* Per CPU; a traced pass of 512 zaps needs about 100 KB. */
#define NX_TRACE_BUF_KB	"4096"
#define NX_TRACE_MAX_FILE (16 << 20)
/* Candidate symbols of one nx_trace_add_probes() call, all probes. */
#define NX_TRACE_MAX_CANDIDATES 32

static bool nx_trace_mounted;

static int nx_instance_write(const char *rel, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), NX_INSTANCE_DIR "/%s", rel);
	return nx_write_path(path, val, O_TRUNC);
}

/* Whole file into a malloc()ed, NUL-terminated buffer; NULL on error. */
static char *nx_slurp(const char *path)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len > 1)
			continue;
		TEST_ASSERT(cap < NX_TRACE_MAX_FILE, "%s: larger than %d bytes",
			    path, NX_TRACE_MAX_FILE);
		cap *= 2;
		buf = realloc(buf, cap);
		TEST_ASSERT(buf, "out of memory reading %s", path);
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

void nx_ksyms_lookup(struct nx_ksym_want *w, int n)
{
	char line[512], name[256], m[128], type;
	int i, left = n;
	FILE *f;

	for (i = 0; i < n; i++)
		w[i].found = false;
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return;
	while (left && fgets(line, sizeof(line), f)) {
		m[0] = '\0';
		if (sscanf(line, "%*s %c %255s [%127[^]]]", &type, name, m) < 2 ||
		    (type != 't' && type != 'T'))
			continue;
		for (i = 0; i < n; i++) {
			if (w[i].found || strcmp(name, w[i].name))
				continue;
			w[i].found = true;
			snprintf(w[i].mod, sizeof(w[i].mod), "%s", m);
			left--;
		}
	}
	fclose(f);
}

const struct nx_ksym_want *nx_ksym_in(const struct nx_ksym_want *w, int n,
				      const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(w[i].name, name))
			return &w[i];
	return NULL;
}

bool nx_ksym_find(const char *sym, char *mod, size_t len)
{
	struct nx_ksym_want w = { .name = sym };

	nx_ksyms_lookup(&w, 1);
	if (w.found && mod)
		snprintf(mod, len, "%s", w.mod);
	return w.found;
}

/* kprobe_events as read for the cleanup: a static buffer, no malloc. */
static char nx_events_buf[1 << 16];

/* Delete event @ev ("nxtest/zap", @n bytes) with "-:nxtest/zap". */
static void nx_delete_probe(const char *ev, size_t n)
{
	char del[160];

	if (n + 4 > sizeof(del))
		return;
	del[0] = '-';
	del[1] = ':';
	memcpy(del + 2, ev, n);
	del[n + 2] = '\n';
	del[n + 3] = '\0';
	nx_write_path(NX_KPROBE_EVENTS, del, O_APPEND);
}

/*
 * Remove the probes of our group, whatever left them: lines of
 * kprobe_events read "p:nxtest/zap sym" or "r16:nxtest/ret sym".  Only
 * syscalls and string scanning: this also runs from a signal handler.
 */
static void nx_remove_group_probes(void)
{
	const char *group = NX_TRACE_GROUP "/", *line, *ev, *end;
	ssize_t n;
	int fd;

	fd = open(NX_KPROBE_EVENTS, O_RDONLY);
	if (fd < 0)
		return;
	n = read(fd, nx_events_buf, sizeof(nx_events_buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	nx_events_buf[n] = '\0';
	for (line = nx_events_buf; *line; line = end + (*end == '\n')) {
		end = strchrnul(line, '\n');
		ev = memchr(line, ':', end - line);
		if (!ev || strncmp(ev + 1, group, strlen(group)))
			continue;
		ev++;
		nx_delete_probe(ev, strcspn(ev, "\t\n "));
	}
}

/*
 * Only syscalls and no allocation on the way in: this also runs from a
 * signal handler.  Events must be off before the instance can go, and the
 * instance gone before its probes can be deleted.
 */
void nx_trace_cleanup(void)
{
	if (!access(NX_INSTANCE_DIR, F_OK)) {
		nx_write_path(NX_INSTANCE_DIR "/events/enable", "0", O_TRUNC);
		nx_write_path(NX_INSTANCE_DIR "/tracing_on", "0", O_TRUNC);
		rmdir(NX_INSTANCE_DIR);
	}
	if (!access(NX_KPROBE_EVENTS, F_OK))
		nx_remove_group_probes();
	if (nx_trace_mounted && !umount(NX_TRACEFS))
		nx_trace_mounted = false;
}

static void nx_trace_on_signal(void)
{
	nx_trace_cleanup();
}

static void nx_trace_register_cleanup(void)
{
	static bool registered;

	if (registered)
		return;
	registered = true;
	atexit(nx_trace_cleanup);
	/*
	 * The case runs in a child of the harness: on a signal, this hook
	 * runs first (it is the newest), then the restore of the sysfs
	 * values.  The parent's hooks are its own.
	 */
	nx_install_restore_handlers();
	nx_on_signal(nx_trace_on_signal);
}

static void nx_trace_mount(void)
{
	if (!access(NX_KPROBE_EVENTS, F_OK))
		return;
	if (access(NX_TRACEFS "/instances", F_OK) &&
	    !mount("tracefs", NX_TRACEFS, "tracefs", 0, NULL))
		nx_trace_mounted = true;
	if (access(NX_TRACEFS "/instances", F_OK))
		nx_skip("no tracefs at " NX_TRACEFS " (could not mount it)");
	if (access(NX_KPROBE_EVENTS, F_OK))
		nx_skip("tracefs has no kprobe_events (kernel without CONFIG_KPROBE_EVENTS)");
}

void nx_trace_open(void)
{
	int r;

	nx_trace_register_cleanup();
	nx_trace_mount();
	/* A case killed by the harness (SIGKILL) could not clean up. */
	nx_trace_cleanup();
	if (mkdir(NX_INSTANCE_DIR, 0755))
		nx_skip("cannot create trace instance " NX_INSTANCE_DIR ": %s",
			strerror(errno));
	nx_instance_write("tracing_on", "0");
	r = nx_instance_write("trace_clock", "mono");
	TEST_ASSERT(!r, "trace instance: cannot select the mono clock: %s",
		    strerror(-r));
	r = nx_instance_write("buffer_size_kb", NX_TRACE_BUF_KB);
	TEST_ASSERT(!r, "trace instance: cannot size the buffer: %s",
		    strerror(-r));
}

/* The first candidate of @p that @w found, as MOD:SYM into @target. */
static const char *nx_probe_target(const struct nx_probe *p,
				   const struct nx_ksym_want *w, int nw,
				   char *target, size_t len)
{
	const struct nx_ksym_want *k;
	const char *const *s;

	for (s = p->syms; *s; s++) {
		k = nx_ksym_in(w, nw, *s);
		if (!k || !k->found)
			continue;
		/* MOD:SYM: a static name may exist in more than one place. */
		snprintf(target, len, "%s%s%s", k->mod, *k->mod ? ":" : "", *s);
		return *s;
	}
	return NULL;
}

static void nx_probe_missing(const struct nx_probe *p)
{
	char names[256] = "";
	const char *const *s;

	for (s = p->syms; *s; s++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names),
			 "%s%s", s == p->syms ? "" : " or ", *s);
	nx_skip("no %s in /proc/kallsyms to probe (%s)", names, p->event);
}

void nx_trace_add_probes(struct nx_probe *p, int n)
{
	struct nx_ksym_want w[NX_TRACE_MAX_CANDIDATES];
	char target[256], def[512];
	const char *const *s;
	int i, nw = 0, r;

	/* Every candidate of every probe, each once, looked up in one read. */
	for (i = 0; i < n; i++) {
		for (s = p[i].syms; *s; s++) {
			if (nx_ksym_in(w, nw, *s))
				continue;
			TEST_ASSERT(nw < NX_TRACE_MAX_CANDIDATES,
				    "more than %d candidate symbols to probe",
				    NX_TRACE_MAX_CANDIDATES);
			w[nw++].name = *s;
		}
	}
	nx_ksyms_lookup(w, nw);
	for (i = 0; i < n; i++) {
		p[i].sym = nx_probe_target(&p[i], w, nw, target, sizeof(target));
		if (!p[i].sym && p[i].required)
			nx_probe_missing(&p[i]);
		if (!p[i].sym)
			continue;
		snprintf(def, sizeof(def), "%c:%s/%s %s %s\n",
			 p[i].is_return ? 'r' : 'p', NX_TRACE_GROUP,
			 p[i].event, target, p[i].fetch ? p[i].fetch : "");
		r = nx_write_path(NX_KPROBE_EVENTS, def, O_APPEND);
		TEST_ASSERT(!r, "adding kprobe event '%s' failed: %s", def,
			    strerror(-r));
	}
}

void nx_trace_filter_pid(pid_t pid)
{
	char f[64];
	int r;

	snprintf(f, sizeof(f), "common_pid == %d", pid);
	r = nx_instance_write("events/" NX_TRACE_GROUP "/filter", f);
	TEST_ASSERT(!r, "trace filter '%s' refused: %s", f, strerror(-r));
}

void nx_trace_enable(bool on)
{
	int r = nx_instance_write("events/" NX_TRACE_GROUP "/enable",
				  on ? "1" : "0");

	TEST_ASSERT(!r, "cannot %s the " NX_TRACE_GROUP " events: %s",
		    on ? "enable" : "disable", strerror(-r));
	nx_instance_write("tracing_on", on ? "1" : "0");
}

void nx_trace_clear(void)
{
	nx_instance_write("trace", "");
}

/* "overrun: N" of every CPU's buffer stats: events the ring dropped. */
static uint64_t nx_trace_overruns(void)
{
	uint64_t total = 0, v;
	char path[PATH_MAX], *buf, *p;
	long cpu, ncpus = sysconf(_SC_NPROCESSORS_CONF);

	for (cpu = 0; cpu < ncpus; cpu++) {
		snprintf(path, sizeof(path),
			 NX_INSTANCE_DIR "/per_cpu/cpu%ld/stats", cpu);
		buf = nx_slurp(path);
		p = buf ? strstr(buf, "overrun:") : NULL;
		if (p && sscanf(p, "overrun: %" SCNu64, &v) == 1)
			total += v;
		free(buf);
	}
	return total;
}

/*
 * One line: "<comm>-<pid> [cpu] <flags> <sec>.<usec>: <event>: <args>".
 * The comm may contain '-', so the pid follows the last one before " [";
 * the timestamp is the token before the first ": " after the CPU.
 */
static bool nx_parse_line(const char *line, const struct nx_probe *p, int n,
			  struct nx_trace_rec *r)
{
	const char *cpu = strstr(line, " ["), *dash, *colon, *ts, *ret;
	unsigned long long sec, usec;
	char ev[64];
	int i;

	if (line[0] == '#' || !cpu)
		return false;
	for (dash = cpu; dash > line && *dash != '-'; dash--)
		;
	colon = strstr(cpu, ": ");
	if (!colon)
		return false;
	for (ts = colon; ts > cpu && ts[-1] != ' '; ts--)
		;
	if (sscanf(ts, "%llu.%llu: %63[^:]:", &sec, &usec, ev) != 3)
		return false;
	r->pid = atoi(dash + 1);
	r->t_us = sec * 1000000ULL + usec;
	ret = strstr(colon, " ret=");
	r->ret = ret ? strtoll(ret + 5, NULL, 0) : 0;
	for (i = 0; i < n; i++)
		if (p[i].sym && !strcmp(ev, p[i].event))
			break;
	r->probe = i;
	return i < n;
}

int nx_trace_read(const struct nx_probe *p, int n, struct nx_trace_rec *recs,
		  int max)
{
	char *buf = nx_slurp(NX_INSTANCE_DIR "/trace"), *line, *save;
	uint64_t lost = nx_trace_overruns();
	int nr = 0;

	TEST_ASSERT(buf, "cannot read " NX_INSTANCE_DIR "/trace");
	TEST_ASSERT(!lost, "the trace buffer overran (%lu events lost): enlarge buffer_size_kb",
		    lost);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!nx_parse_line(line, p, n, &recs[nr]))
			continue;
		TEST_ASSERT(++nr < max, "more than %d trace events", max);
	}
	free(buf);
	return nr;
}
