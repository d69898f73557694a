// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of lib/nx_harness.c: nx_suite_main() runs small suites of
 * cases that pass, skip, fail, crash, hang or change a knob, in a forked
 * child whose stdout and stderr go to temporary files; the tests check the
 * KTAP text and the exit code against the kselftest contract.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fake_sysfs.h"
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_params.h"
#include "nx_poll.h"
#include "nx_results.h"

#define KNOB "module/kvm/parameters/nx_huge_pages_recovery_ratio"

static void case_pass(const struct nx_case *c)
{
	printf("hello from %s\n", c->name);
	fprintf(stderr, "and from stderr\n");
}

static void case_skip(const struct nx_case *c)
{
	nx_skip("no %s here", "kvm");
}

static void case_fail(const struct nx_case *c)
{
	printf("boom\n");
	exit(1);
}

static void case_abort(const struct nx_case *c)
{
	/* A crash, without leaving a core file behind. */
	prctl(PR_SET_DUMPABLE, 0);
	abort();
}

/*
 * Meant to time out: the harness must kill it, and the helper process it
 * started, long before they wake.
 */
static void case_sleep(const struct nx_case *c)
{
	pid_t pid = fork();

	if (pid == 0) {
		sleep(30);
		_exit(0);
	}
	printf("helper %d\n", (int)pid);
	printf("sleeping\n");
	fflush(stdout);
	sleep(30);
}

/* Fails, then the exit handlers add a note of their own. */
static void case_fail_then_note(const struct nx_case *c)
{
	printf("expected 1, got 2\n");
	printf("nx: could not restore x to 'y'\n");
	exit(1);
}

/* Closes its output, then hangs: its exit, not EOF, ends the case. */
static void case_close_and_hang(const struct nx_case *c)
{
	fclose(stdout);
	fclose(stderr);
	sleep(30);
}

/* Passes, leaving a process behind that holds its output pipe open. */
static void case_pass_leave_helper(const struct nx_case *c)
{
	if (fork() == 0) {
		sleep(30);
		_exit(0);
	}
	printf("passing\n");
}

/* Changes the knob, then hangs until the timeout kills it. */
static void case_change_knob(const struct nx_case *c)
{
	if (nx_sysfs_set(KNOB, "0"))
		exit(1);
	printf("knob changed\n");
	fflush(stdout);
	for (;;)
		pause();
}

/* Fails unless the knob was put back after the case before it. */
static void case_check_knob(const struct nx_case *c)
{
	char buf[64] = "";

	if (nx_sysfs_read(KNOB, buf, sizeof(buf)) || strcmp(buf, "60")) {
		printf("knob is '%s'\n", buf);
		exit(1);
	}
}

static const struct nx_case demo_cases[] = {
	{ .name = "pass", .fn = case_pass },
	{ .name = "skip", .fn = case_skip },
	{ .name = "fail", .fn = case_fail },
	{ .name = "abort", .fn = case_abort },
};

static const struct nx_suite demo = {
	.name = "demo",
	.cases = demo_cases,
	.nr_cases = ARRAY_SIZE(demo_cases),
};

static const struct nx_case skip_cases[] = {
	{ .name = "a", .fn = case_skip },
	{ .name = "b", .fn = case_skip },
};

static const struct nx_suite skips = {
	.name = "skips",
	.cases = skip_cases,
	.nr_cases = ARRAY_SIZE(skip_cases),
};

static const struct nx_case slow_cases[] = {
	{ .name = "sleep", .fn = case_sleep },
	{ .name = "after", .fn = case_pass },
};

static const struct nx_suite slow = {
	.name = "slow",
	.cases = slow_cases,
	.nr_cases = ARRAY_SIZE(slow_cases),
};

static const struct nx_case exit_cases[] = {
	{ .name = "closed", .fn = case_close_and_hang },
	{ .name = "helper", .fn = case_pass_leave_helper },
	{ .name = "noted", .fn = case_fail_then_note },
};

static const struct nx_suite exits = {
	.name = "exits",
	.cases = exit_cases,
	.nr_cases = ARRAY_SIZE(exit_cases),
};

/*
 * The kernel as nx_needs.c asks about it, for cases that declare no trait
 * or MMU mode: the real answers read /proc/kallsyms and KVM's parameters.
 */
enum nx_mmu nx_mmu_mode(void)
{
	return NX_MMU_TDP;
}

const char *nx_mmu_name(enum nx_mmu mmu)
{
	return "mmu=tdp";
}

bool nx_kernel_has(enum nx_trait t)
{
	return false;
}

const char *nx_kernel_release(void)
{
	return "unit";
}

static const struct nx_case risky_cases[] = {
	{ .name = "safe", .fn = case_pass },
	{ .name = "risky", .fn = case_pass, .vm_only = "writes what sticks" },
};

static const struct nx_suite risky = {
	.name = "risky",
	.cases = risky_cases,
	.nr_cases = ARRAY_SIZE(risky_cases),
};

static const struct nx_case needy_cases[] = {
	{ .name = "thp", .fn = case_pass, .needs = { .flags = NX_NEEDS_THP } },
	{ .name = "debugfs", .fn = case_pass,
	  .needs = { .flags = NX_NEEDS_THP | NX_NEEDS_KVM_DEBUGFS } },
	{ .name = "risky", .fn = case_pass, .vm_only = "writes what sticks",
	  .needs = { .flags = NX_NEEDS_ROOT, .hugepages_2m = 8 } },
};

static const struct nx_suite needy = {
	.name = "needy",
	.cases = needy_cases,
	.nr_cases = ARRAY_SIZE(needy_cases),
};

static const struct nx_case knob_cases[] = {
	{ .name = "change", .fn = case_change_knob },
	{ .name = "check", .fn = case_check_knob },
};

static const struct nx_suite knob = {
	.name = "knob",
	.cases = knob_cases,
	.nr_cases = ARRAY_SIZE(knob_cases),
};

struct run {
	int status;		/* wait status of the process that ran the suite */
	char out[32768];
	char err[4096];
};

static int read_all(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	return ferror(f) ? -EIO : 0;
}

/*
 * What the 7.x KVM selftest framework's start-up does on a host without
 * /dev/kvm, after NX_SUITE_MAIN's early -l and before main().
 */
static void framework_start_without_kvm(void)
{
	printf("1..0 # SKIP - Cannot open '/dev/kvm': No such file or directory.\n");
	exit(4);
}

/*
 * @s run in a child as NX_SUITE_MAIN runs it (the early -l, then, with
 * @no_kvm, the framework's start-up stand-in, then nx_suite_main() with
 * @argv), its output caught in @r.
 */
static void run_suite(struct __test_metadata *_metadata,
		      const struct nx_suite *s, char **argv, struct run *r,
		      bool no_kvm)
{
	FILE *out = tmpfile(), *err = tmpfile();
	int argc = 0;
	pid_t pid;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, err);
	while (argv[argc])
		argc++;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (dup2(fileno(out), STDOUT_FILENO) < 0 ||
		    dup2(fileno(err), STDERR_FILENO) < 0)
			_exit(100);
		/* The kselftest harness ran getopt() in this process. */
		optind = 0;
		nx_suite_list_early(s, argc, argv);
		if (no_kvm)
			framework_start_without_kvm();
		/* exit(), not _exit(): the last KTAP lines are still buffered. */
		exit(nx_suite_main(s, argc, argv));
	}
	ASSERT_EQ(pid, waitpid(pid, &r->status, 0));
	ASSERT_EQ(0, read_all(out, r->out, sizeof(r->out)));
	ASSERT_EQ(0, read_all(err, r->err, sizeof(r->err)));
	fclose(out);
	fclose(err);
}

/* Run suite @s with the NULL-terminated argument list that follows. */
#define RUN_SUITE(r, s, ...) \
	run_suite(_metadata, s, (char *[]){ __VA_ARGS__, NULL }, r, false)

/* ... on a host without /dev/kvm. */
#define RUN_SUITE_NO_KVM(r, s, ...) \
	run_suite(_metadata, s, (char *[]){ __VA_ARGS__, NULL }, r, true)

/* @text with every line a diagnostic, so no KTAP line of it is taken for ours. */
static void log_text(const char *what, const char *text)
{
	const char *p, *nl;

	fprintf(TH_LOG_STREAM, "# %s:\n", what);
	for (p = text; *p; p = nl + 1) {
		nl = strchrnul(p, '\n');
		fprintf(TH_LOG_STREAM, "#   %.*s\n", (int)(nl - p), p);
		if (!*nl)
			break;
	}
}

static void log_run(const struct run *r)
{
	log_text("suite stdout", r->out);
	log_text("suite stderr", r->err);
}

/* On a mismatch, show what the suite printed. */
#define EXPECT_EXIT(want, r) do {					\
	ASSERT_TRUE(WIFEXITED((r)->status))				\
		TH_LOG("wait status %#x", (r)->status);			\
	EXPECT_EQ(want, WEXITSTATUS((r)->status))			\
		log_run(r);						\
} while (0)

/* The line of @text that starts with @prefix, or NULL. */
static const char *find_line(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, prefix, n))
			return p;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static bool has_line(const char *text, const char *line)
{
	const char *p = find_line(text, line);

	return p && (p[strlen(line)] == '\n' || !p[strlen(line)]);
}

static void expect_line(struct __test_metadata *_metadata,
			const struct run *r, const char *line)
{
	EXPECT_TRUE(has_line(r->out, line)) {
		TH_LOG("no line '%s'", line);
		log_run(r);
	}
}

#define EXPECT_LINE(r, line) expect_line(_metadata, r, line)

static bool is_result(const char *line)
{
	return !strncmp(line, "ok ", 3) || !strncmp(line, "not ok ", 7);
}

/*
 * A KTAP document of @nr results, each preceded by its duration line; the
 * duration before the result line @name_ms starts with is returned.
 */
static void check_ktap(struct __test_metadata *_metadata, const char *text,
		       int nr, const char *name_ms, long *ms)
{
	char plan[32], *copy = strdup(text), *line, *save;
	const char *prev = "";
	int results = 0;

	ASSERT_NE(NULL, copy);
	snprintf(plan, sizeof(plan), "1..%d", nr);
	EXPECT_EQ(0, strncmp(text, "TAP version 13\n", 15));
	EXPECT_TRUE(has_line(text, plan));
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (is_result(line)) {
			char *end;
			long v;

			results++;
			ASSERT_EQ(0, strncmp(prev, "# " NX_DURATION_TAG,
					     strlen("# " NX_DURATION_TAG)))
				TH_LOG("no duration before '%s'", line);
			v = strtol(prev + strlen("# " NX_DURATION_TAG), &end, 10);
			EXPECT_EQ('\0', *end) TH_LOG("'%s'", prev);
			EXPECT_LE(0, v);
			if (name_ms && !strncmp(line, name_ms, strlen(name_ms)))
				*ms = v;
		}
		prev = line;
	}
	EXPECT_EQ(nr, results);
	EXPECT_EQ(0, strncmp(prev, "# Totals: ", 10)) TH_LOG("last: '%s'", prev);
	free(copy);
}

TEST(list_full_names)
{
	struct run r;

	RUN_SUITE(&r, &demo, "demo", "-l");
	EXPECT_EXIT(0, &r);
	EXPECT_STREQ("demo.pass\ndemo.skip\ndemo.fail\ndemo.abort\n", r.out);
}

/* The cases are known on a host without /dev/kvm, whatever the framework. */
TEST(list_before_framework_start)
{
	struct run r;

	RUN_SUITE_NO_KVM(&r, &demo, "demo", "-t", "5", "-l");
	EXPECT_EXIT(0, &r);
	EXPECT_STREQ("demo.pass\ndemo.skip\ndemo.fail\ndemo.abort\n", r.out);

	/* Without -l the framework starts, and its skip stands. */
	RUN_SUITE_NO_KVM(&r, &demo, "demo", "-r", "pass");
	EXPECT_EXIT(4, &r);
	EXPECT_NE(NULL, strstr(r.out, "1..0 # SKIP")) log_run(&r);
}

/* A vm_only case runs only where the host is declared disposable. */
TEST(vm_only_needs_a_disposable_host)
{
	struct run r;

	unsetenv(NX_DISPOSABLE_ENV);
	RUN_SUITE(&r, &risky, "risky");
	EXPECT_EXIT(0, &r);
	EXPECT_LINE(&r, "ok 1 risky.safe");
	EXPECT_LINE(&r, "ok 2 risky.risky # SKIP writes what sticks: vm_only, runs only where the host is declared disposable (NX_DISPOSABLE_HOST=1, the suite's VM)");
	/* Skipped before it started: nothing of it ran. */
	EXPECT_EQ(NULL, strstr(r.out, "# hello from risky"));

	setenv(NX_DISPOSABLE_ENV, "0", 1);
	RUN_SUITE(&r, &risky, "risky", "-r", "risky");
	EXPECT_EXIT(4, &r);

	setenv(NX_DISPOSABLE_ENV, "1", 1);
	RUN_SUITE(&r, &risky, "risky", "-r", "risky");
	unsetenv(NX_DISPOSABLE_ENV);
	EXPECT_EXIT(0, &r);
	EXPECT_LINE(&r, "# hello from risky");
	EXPECT_LINE(&r, "ok 1 risky.risky");
}

TEST(pick_by_short_name)
{
	struct run r;

	RUN_SUITE(&r, &demo, "demo", "-r", "pass");
	EXPECT_EXIT(0, &r);
	check_ktap(_metadata, r.out, 1, NULL, NULL);
	EXPECT_LINE(&r, "# RUN demo.pass");
	/* The case's stdout and stderr become diagnostics. */
	EXPECT_LINE(&r, "# hello from pass");
	EXPECT_LINE(&r, "# and from stderr");
	EXPECT_LINE(&r, "ok 1 demo.pass");
}

TEST(pick_by_full_name)
{
	struct run r;

	RUN_SUITE(&r, &demo, "demo", "-r", "demo.fail");
	EXPECT_EXIT(1, &r);
	check_ktap(_metadata, r.out, 1, NULL, NULL);
	EXPECT_LINE(&r, "not ok 1 demo.fail # exit 1: boom");
}

TEST(pick_several_in_suite_order)
{
	struct run r;

	RUN_SUITE(&r, &demo, "demo", "-r", "skip", "-r", "demo.pass");
	/* One passed, so not everything was skipped. */
	EXPECT_EXIT(0, &r);
	check_ktap(_metadata, r.out, 2, NULL, NULL);
	EXPECT_LINE(&r, "ok 1 demo.pass");
	EXPECT_LINE(&r, "ok 2 demo.skip # SKIP no kvm here");
}

TEST(unknown_name)
{
	struct run r;

	RUN_SUITE(&r, &demo, "demo", "-r", "pass", "-r", "nope");
	EXPECT_EXIT(2, &r);
	/* Nothing ran. */
	EXPECT_STREQ("", r.out);
	EXPECT_NE(NULL, strstr(r.err, "no case named 'nope'"));
}

TEST(bad_options)
{
	struct run r;

	RUN_SUITE(&r, &demo, "demo", "-z");
	EXPECT_EXIT(2, &r);
	EXPECT_STREQ("", r.out);
	EXPECT_NE(NULL, strstr(r.err, "usage:"));
	/* One default limit for every case: run_nx_tests.sh's too. */
	EXPECT_NE(NULL, strstr(r.err, "per-case timeout (default 120)"));

	RUN_SUITE(&r, &demo, "demo", "-t", "0");
	EXPECT_EXIT(2, &r);
	EXPECT_STREQ("", r.out);
}

TEST(all_skipped)
{
	struct run r;

	RUN_SUITE(&r, &skips, "skips");
	EXPECT_EXIT(4, &r);
	check_ktap(_metadata, r.out, 2, NULL, NULL);
	EXPECT_LINE(&r, "ok 1 skips.a # SKIP no kvm here");
	EXPECT_LINE(&r, "ok 2 skips.b # SKIP no kvm here");
	EXPECT_LINE(&r, "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:2 error:0");
}

TEST(whole_suite)
{
	struct run r;

	RUN_SUITE(&r, &demo, "demo");
	EXPECT_EXIT(1, &r);
	check_ktap(_metadata, r.out, 4, NULL, NULL);
	EXPECT_LINE(&r, "ok 1 demo.pass");
	EXPECT_LINE(&r, "ok 2 demo.skip # SKIP no kvm here");
	EXPECT_LINE(&r, "not ok 3 demo.fail # exit 1: boom");
	EXPECT_NE(NULL, find_line(r.out,
		"not ok 4 demo.abort # killed by signal 6 "));
	EXPECT_LINE(&r, "# Totals: pass:1 fail:2 xfail:0 xpass:0 skip:1 error:0");
}

static bool killed_and_reaped(void *arg)
{
	pid_t pid = *(pid_t *)arg;
	int status;

	return waitpid(pid, &status, WNOHANG) == pid &&
	       WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

TEST(timeout)
{
	const char *helper_line;
	long ms = -1;
	struct run r;
	pid_t helper;

	/* The helper, orphaned, becomes our child to wait for. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	RUN_SUITE(&r, &slow, "slow", "-t", "1");
	EXPECT_EXIT(1, &r);
	check_ktap(_metadata, r.out, 2, "not ok 1 ", &ms);
	EXPECT_LINE(&r, "not ok 1 slow.sleep # TIMEOUT: no result after 1s (last output: sleeping)");
	EXPECT_LE(1000, ms);
	/* The next case runs as usual. */
	EXPECT_LINE(&r, "ok 2 slow.after");

	/* The whole process group was killed, not only the case. */
	helper_line = find_line(r.out, "# helper ");
	ASSERT_NE(NULL, helper_line);
	helper = atoi(helper_line + strlen("# helper "));
	ASSERT_LT(0, helper);
	EXPECT_TRUE(nx_poll_until(killed_and_reaped, &helper, 10 * 1000, 1000,
				  NULL));
}

TEST(case_exit_ends_case)
{
	struct run r;

	RUN_SUITE(&r, &exits, "exits", "-t", "1");
	EXPECT_EXIT(1, &r);
	EXPECT_LINE(&r, "not ok 1 exits.closed # TIMEOUT: no result after 1s (last output: none)");
	/* Not a timeout: the case exited, its helper does not count. */
	EXPECT_LINE(&r, "ok 2 exits.helper");
	/* The reason is the failure, not the exit handlers' note after it. */
	EXPECT_LINE(&r, "not ok 3 exits.noted # exit 1: expected 1, got 2");
}

FIXTURE(fake) {
	char root[FAKE_SYSFS_ROOT_LEN];
};

FIXTURE_SETUP(fake)
{
	ASSERT_EQ(0, fake_sysfs_create(self->root, sizeof(self->root)));
	ASSERT_EQ(0, fake_sysfs_put(self->root, KNOB, "60\n"));
}

/*
 * In the parent: in the test's own process, a failed ASSERT can skip the
 * teardown (TEST_F()'s child pid does not survive its longjmp at -O2).
 */
FIXTURE_TEARDOWN_PARENT(fake)
{
	fake_sysfs_remove(self->root);
}

/*
 * The case that changed the knob is killed by its timeout; the next case
 * sees the knob back, so the harness restored it between the two, not
 * merely when the suite process exited.
 */
TEST_F(fake, knob_restored_after_timeout)
{
	char buf[64];
	struct run r;

	RUN_SUITE(&r, &knob, "knob", "-t", "1");
	EXPECT_EXIT(1, &r);
	check_ktap(_metadata, r.out, 2, NULL, NULL);
	EXPECT_LINE(&r, "not ok 1 knob.change # TIMEOUT: no result after 1s (last output: knob changed)");
	EXPECT_LINE(&r, "ok 2 knob.check");
	ASSERT_EQ(0, fake_sysfs_get(self->root, KNOB, buf, sizeof(buf)));
	EXPECT_STREQ("60", buf);
}

/*
 * Declared needs are checked before a case starts: one the (fake) host
 * lacks skips it with the reason and none of it runs; -l prints them.
 */
TEST_F(fake, needs_checked_before_start)
{
	struct run r;

	ASSERT_EQ(0, fake_sysfs_put(self->root, NX_THP_ENABLED,
				    "always [madvise] never\n"));
	RUN_SUITE(&r, &needy, "needy", "-l");
	EXPECT_EXIT(0, &r);
	EXPECT_STREQ("needy.thp # needs transparent hugepages\n"
		     "needy.debugfs # needs transparent hugepages, KVM debugfs\n"
		     "needy.risky # needs root, 8 2M hugepages; risks: writes what sticks (vm_only)\n",
		     r.out);

	RUN_SUITE(&r, &needy, "needy", "-r", "thp", "-r", "debugfs");
	EXPECT_EXIT(0, &r);
	EXPECT_LINE(&r, "# hello from thp");
	EXPECT_LINE(&r, "ok 1 needy.thp");
	EXPECT_LINE(&r, "ok 2 needy.debugfs # SKIP needs KVM's debugfs (/sys/kernel/debug/kvm)");
	EXPECT_EQ(NULL, strstr(r.out, "# hello from debugfs"));

	/* A pool that is not there is a need not met, even for root. */
	setenv(NX_DISPOSABLE_ENV, "1", 1);
	RUN_SUITE(&r, &needy, "needy", "-r", "risky");
	unsetenv(NX_DISPOSABLE_ENV);
	EXPECT_EXIT(4, &r);
	EXPECT_LINE(&r, geteuid() ?
		    "ok 1 needy.risky # SKIP needs root (module parameters, hugepage pools)" :
		    "ok 1 needy.risky # SKIP needs 8 2M hugepages: no 2M pool");
}

TEST_HARNESS_MAIN
