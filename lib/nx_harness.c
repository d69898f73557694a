// SPDX-License-Identifier: GPL-2.0-only
/* Case runner with the kselftest contract; see include/nx_harness.h. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nx_harness.h"
#include "nx_params.h"
#include "nx_poll.h"
#include "nx_results.h"
#include "nx_signal.h"

#define NX_EXIT_PASS	0
#define NX_EXIT_FAIL	1
#define NX_EXIT_USAGE	2
#define NX_MAX_PICKS	64

struct nx_outcome {
	int status;		/* NX_EXIT_* */
	char reason[512];	/* skip or failure reason, one line */
	uint64_t duration_ms;
};

/* Line assembly of a child's output, echoed as KTAP diagnostics. */
struct nx_lines {
	char buf[4096];
	size_t len;
	char last[256];		/* last non-empty line */
	char skip[256];		/* reason given by nx_skip() or ksft_exit_skip() */
};

static void nx_copy_line(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src);
}

static void nx_line_done(struct nx_lines *l, char *line)
{
	const char *p;

	printf("# %s\n", line);
	if (!strncmp(line, NX_SKIP_TAG, strlen(NX_SKIP_TAG)))
		nx_copy_line(l->skip, sizeof(l->skip), line + strlen(NX_SKIP_TAG));
	/* The framework's __TEST_REQUIRE prints "... # SKIP <reason>". */
	p = strstr(line, "# SKIP ");
	if (p)
		nx_copy_line(l->skip, sizeof(l->skip), p + strlen("# SKIP "));
	/*
	 * The reason of a failure is the last line before the exit, but not
	 * the library's own notes ("nx: could not restore ..." from the exit
	 * handlers), which would hide the assertion that failed.
	 */
	line += strspn(line, " \t");
	if (*line && strncmp(line, "nx: ", 4))
		nx_copy_line(l->last, sizeof(l->last), line);
}

static void nx_lines_feed(struct nx_lines *l, const char *data, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (data[i] == '\n' || l->len == sizeof(l->buf) - 1) {
			l->buf[l->len] = '\0';
			nx_line_done(l, l->buf);
			l->len = 0;
			if (data[i] == '\n')
				continue;
		}
		l->buf[l->len++] = data[i];
	}
}

static void nx_lines_flush(struct nx_lines *l)
{
	if (l->len) {
		l->buf[l->len] = '\0';
		nx_line_done(l, l->buf);
		l->len = 0;
	}
}

static pid_t running_case;

static void nx_kill_running_case(void)
{
	if (running_case > 0)
		kill(-running_case, SIGKILL);
}

static pid_t nx_spawn(const struct nx_case *c, int *out_fd)
{
	int fds[2];
	pid_t parent = getpid(), pid;

	if (pipe(fds))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* Own process group: a timeout kills the vCPU threads too. */
		setpgid(0, 0);
		/*
		 * Outside the runner's group, a case would outlive a runner
		 * killed with SIGKILL and keep changing the host under the
		 * restore of its journal: it goes with its harness.
		 */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(NX_EXIT_FAIL);
		close(fds[0]);
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		close(fds[1]);
		setvbuf(stdout, NULL, _IOLBF, 0);
		c->fn(c);
		fflush(stdout);
		exit(NX_EXIT_PASS);
	}
	close(fds[1]);
	*out_fd = fds[0];
	running_case = pid;
	return pid;
}

enum nx_drained { NX_PIPE_IDLE, NX_PIPE_DATA, NX_PIPE_CLOSED };

/* Echo what the case wrote, waiting up to @timeout_ms for it. */
static enum nx_drained nx_drain(int fd, int timeout_ms, struct nx_lines *l)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char data[1024];
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return NX_PIPE_IDLE;
	n = read(fd, data, sizeof(data));
	if (n < 0)
		return NX_PIPE_IDLE;
	if (!n)
		return NX_PIPE_CLOSED;
	nx_lines_feed(l, data, n);
	return NX_PIPE_DATA;
}

/*
 * Echo the case's output until the case process exits or the deadline
 * passes; true if it exited in time.  The exit, not the end of its output,
 * ends a case: a case may close its output and hang, or leave a process
 * behind that holds the pipe open.
 */
static bool nx_pump(pid_t pid, int fd, uint64_t deadline_us,
		    struct nx_lines *l, int *wstatus)
{
	bool open = true;

	while (nx_now_us() < deadline_us) {
		if (waitpid(pid, wstatus, WNOHANG) == pid) {
			/* What it wrote before it exited, and no more. */
			while (open && nx_drain(fd, 0, l) == NX_PIPE_DATA)
				;
			return true;
		}
		if (!open)
			poll(NULL, 0, 10);
		else if (nx_drain(fd, 10, l) == NX_PIPE_CLOSED)
			open = false;
	}
	return false;
}

static void nx_judge(int wstatus, const struct nx_lines *l,
		     struct nx_outcome *o)
{
	if (WIFSIGNALED(wstatus)) {
		o->status = NX_EXIT_FAIL;
		snprintf(o->reason, sizeof(o->reason), "killed by signal %d (%s)",
			 WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
	} else if (WEXITSTATUS(wstatus) == NX_EXIT_PASS) {
		o->status = NX_EXIT_PASS;
	} else if (WEXITSTATUS(wstatus) == NX_EXIT_SKIP) {
		o->status = NX_EXIT_SKIP;
		nx_copy_line(o->reason, sizeof(o->reason),
			     l->skip[0] ? l->skip : "skipped, no reason given");
	} else {
		o->status = NX_EXIT_FAIL;
		snprintf(o->reason, sizeof(o->reason), "exit %d: %s",
			 WEXITSTATUS(wstatus), l->last);
	}
}

static void nx_run_case(const struct nx_case *c, unsigned int timeout_s,
			struct nx_outcome *o)
{
	static struct nx_lines lines;
	uint64_t start = nx_now_us();
	int fd, wstatus;
	pid_t pid;

	memset(&lines, 0, sizeof(lines));
	memset(o, 0, sizeof(*o));
	pid = nx_spawn(c, &fd);
	if (pid < 0) {
		o->status = NX_EXIT_FAIL;
		snprintf(o->reason, sizeof(o->reason), "fork: %s", strerror(errno));
		return;
	}
	if (!nx_pump(pid, fd, start + timeout_s * 1000000ULL, &lines,
		     &wstatus)) {
		kill(-pid, SIGKILL);
		waitpid(pid, &wstatus, 0);
		nx_lines_flush(&lines);
		o->status = NX_EXIT_FAIL;
		snprintf(o->reason, sizeof(o->reason),
			 "TIMEOUT: no result after %us (last output: %s)",
			 timeout_s, lines.last[0] ? lines.last : "none");
	} else {
		nx_lines_flush(&lines);
		nx_judge(wstatus, &lines, o);
	}
	/* Nothing the case started may outlive it. */
	kill(-pid, SIGKILL);
	running_case = 0;
	close(fd);
	o->duration_ms = (nx_now_us() - start) / 1000;
	/* Whatever the case changed and could not put back itself. */
	nx_restore_all();
	nx_forget_saved();
}

static void nx_full_name(const struct nx_suite *s, const struct nx_case *c,
			 char *buf, size_t len)
{
	snprintf(buf, len, "%s.%s", s->name, c->name);
}

static bool nx_picked(const struct nx_suite *s, const struct nx_case *c,
		      char **picks, int nr_picks)
{
	char full[256];
	int i;

	if (!nr_picks)
		return true;
	nx_full_name(s, c, full, sizeof(full));
	for (i = 0; i < nr_picks; i++)
		if (!strcmp(picks[i], full) || !strcmp(picks[i], c->name))
			return true;
	return false;
}

/*
 * A vm_only case on a host not declared disposable, or a case whose
 * declared needs the host does not meet: skipped before it starts, with
 * what it would do or what it lacks.  False then, @o holding the skip.
 */
static bool nx_may_run(const struct nx_case *c, struct nx_outcome *o)
{
	const char *env = getenv(NX_DISPOSABLE_ENV);

	memset(o, 0, sizeof(*o));
	o->status = NX_EXIT_SKIP;
	if (c->vm_only && !(env && !strcmp(env, "1"))) {
		snprintf(o->reason, sizeof(o->reason),
			 "%s: vm_only, runs only where the host is declared disposable (%s=1, the suite's VM)",
			 c->vm_only, NX_DISPOSABLE_ENV);
		return false;
	}
	return nx_needs_met(&c->needs, o->reason, sizeof(o->reason));
}

static void nx_usage(const struct nx_suite *s, const char *prog)
{
	fprintf(stderr,
		"usage: %s [-l] [-r NAME]... [-t SECONDS] %s\n"
		"  -l          list the cases, one a line: full name # needs; risks\n"
		"  -r NAME     run only this case (repeatable)\n"
		"  -t SECONDS  per-case timeout (default %u)\n",
		prog, s->usage ? s->usage : "", NX_CASE_TIMEOUT_S);
}

static int nx_report(const struct nx_suite *s, char **picks, int nr_picks,
		     unsigned int timeout_s)
{
	int i, n = 0, pass = 0, fail = 0, skip = 0;
	struct nx_outcome o;
	char full[256];

	for (i = 0; i < s->nr_cases; i++)
		n += nx_picked(s, &s->cases[i], picks, nr_picks);
	printf("TAP version 13\n1..%d\n", n);
	nx_install_restore_handlers();
	nx_on_signal(nx_kill_running_case);
	for (i = 0, n = 0; i < s->nr_cases; i++) {
		const struct nx_case *c = &s->cases[i];

		if (!nx_picked(s, c, picks, nr_picks))
			continue;
		nx_full_name(s, c, full, sizeof(full));
		printf("# RUN %s\n", full);
		if (nx_may_run(c, &o))
			nx_run_case(c, timeout_s, &o);
		printf("# " NX_DURATION_TAG "%llu\n",
		       (unsigned long long)o.duration_ms);
		n++;
		if (o.status == NX_EXIT_PASS) {
			pass++;
			printf("ok %d %s\n", n, full);
		} else if (o.status == NX_EXIT_SKIP) {
			skip++;
			printf("ok %d %s # SKIP %s\n", n, full, o.reason);
		} else {
			fail++;
			printf("not ok %d %s # %s\n", n, full, o.reason);
		}
		fflush(stdout);
	}
	printf("# Totals: pass:%d fail:%d xfail:0 xpass:0 skip:%d error:0\n",
	       pass, fail, skip);
	if (fail)
		return NX_EXIT_FAIL;
	return n && skip == n ? NX_EXIT_SKIP : NX_EXIT_PASS;
}

static void nx_optstring(const struct nx_suite *s, char *buf, size_t len)
{
	snprintf(buf, len, "hlr:t:%s", s->optstring ? s->optstring : "");
}

/*
 * One case a line: its full name, then, after " # ", what it needs and
 * what it risks (vm_only), so a lab can read them without running it.
 * Runners take the first word.
 */
static void nx_list(const struct nx_suite *s)
{
	const struct nx_case *c;
	char needs[256];
	int i;

	for (i = 0; i < s->nr_cases; i++) {
		c = &s->cases[i];
		nx_needs_describe(&c->needs, needs, sizeof(needs));
		printf("%s.%s", s->name, c->name);
		if (needs[0] || c->vm_only)
			printf(" # ");
		if (needs[0])
			printf("needs %s%s", needs, c->vm_only ? "; " : "");
		if (c->vm_only)
			printf("risks: %s (vm_only)", c->vm_only);
		printf("\n");
	}
}

/*
 * -l from a constructor (NX_SUITE_MAIN): only the option letters are
 * looked at, no option is acted on, and getopt() starts again for main.
 */
void nx_suite_list_early(const struct nx_suite *s, int argc, char **argv)
{
	char optstring[64];
	bool list = false;
	int opt, opterr_was = opterr;

	if (argc < 2 || !argv)
		return;
	nx_optstring(s, optstring, sizeof(optstring));
	opterr = 0;
	while ((opt = getopt(argc, argv, optstring)) != -1)
		list |= opt == 'l';
	opterr = opterr_was;
	/* 0, not 1: glibc then also resets its internal state. */
	optind = 0;
	if (!list)
		return;
	nx_list(s);
	/*
	 * _exit(), not exit(): the C runtime's own constructors (frame_dummy)
	 * have not run yet, and its destructors abort without them.
	 */
	_exit(fflush(stdout) ? NX_EXIT_FAIL : NX_EXIT_PASS);
}

int nx_suite_main(const struct nx_suite *s, int argc, char **argv)
{
	unsigned int timeout_s = NX_CASE_TIMEOUT_S;
	char *picks[NX_MAX_PICKS];
	char optstring[64];
	int i, opt, nr_picks = 0;
	bool list = false;

	nx_optstring(s, optstring, sizeof(optstring));
	while ((opt = getopt(argc, argv, optstring)) != -1) {
		switch (opt) {
		case 'l':
			list = true;
			break;
		case 'r':
			if (nr_picks == NX_MAX_PICKS)
				return NX_EXIT_USAGE;
			picks[nr_picks++] = optarg;
			break;
		case 't':
			timeout_s = atoi(optarg);
			if (!timeout_s) {
				nx_usage(s, argv[0]);
				return NX_EXIT_USAGE;
			}
			break;
		case 'h':
			nx_usage(s, argv[0]);
			return NX_EXIT_PASS;
		default:
			if (s->parse_opt && s->parse_opt(opt, optarg))
				break;
			nx_usage(s, argv[0]);
			return NX_EXIT_USAGE;
		}
	}
	if (list) {
		nx_list(s);
		return NX_EXIT_PASS;
	}
	for (i = 0; i < nr_picks; i++) {
		int j;

		for (j = 0; j < s->nr_cases; j++)
			if (nx_picked(s, &s->cases[j], &picks[i], 1))
				break;
		if (j == s->nr_cases) {
			fprintf(stderr, "%s: no case named '%s' (see -l)\n",
				argv[0], picks[i]);
			return NX_EXIT_USAGE;
		}
	}
	return nx_report(s, picks, nr_picks, timeout_s);
}
