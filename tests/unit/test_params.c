// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of lib/nx_params.c: the parsers, sysfs reads and writes, and
 * the promise that every knob a run changes is put back, whichever process
 * changed it and however the run ends.
 *
 * NX_SYSFS_ROOT points at a fake tree under /tmp (see fake_sysfs.h); the
 * host's /sys is never touched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fake_sysfs.h"
#include "nx_params.h"
#include "nx_signal.h"

#define RATIO		"module/kvm/parameters/nx_huge_pages_recovery_ratio"
#define NX_HUGE		"module/kvm/parameters/nx_huge_pages"
#define THP		"kernel/mm/transparent_hugepage/enabled"
#define NR_2M		"kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"

TEST(parse_u64_accepts)
{
	static const struct {
		const char *s;
		uint64_t val;
	} ok[] = {
		{ "0", 0 },
		{ "42", 42 },
		{ " 7 ", 7 },
		{ "\t12\n", 12 },
		{ "007", 7 },
		{ "18446744073709551615", UINT64_MAX },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		uint64_t v = 1234;

		EXPECT_TRUE(nx_parse_u64(ok[i].s, &v)) TH_LOG("'%s'", ok[i].s);
		EXPECT_EQ(ok[i].val, v) TH_LOG("'%s'", ok[i].s);
	}
}

TEST(parse_u64_rejects)
{
	static const char * const bad[] = {
		"", " ", "-1", "+5", "abc", "12a", "1 2", "0x10", "1.5",
		"18446744073709551616",		/* UINT64_MAX + 1 */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		uint64_t v = 1234;

		EXPECT_FALSE(nx_parse_u64(bad[i], &v)) TH_LOG("'%s'", bad[i]);
		/* A rejected string leaves the output alone. */
		EXPECT_EQ(1234ULL, v) TH_LOG("'%s'", bad[i]);
	}
}

TEST(parse_bool)
{
	static const char * const yes[] = { "Y", "y", "1" };
	static const char * const no[] = { "N", "n", "0" };
	static const char * const bad[] = { "", "yes", "no", "2", "YN", "Y\n" };
	unsigned int i;
	bool v;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		v = false;
		EXPECT_TRUE(nx_parse_bool(yes[i], &v)) TH_LOG("'%s'", yes[i]);
		EXPECT_TRUE(v) TH_LOG("'%s'", yes[i]);
	}
	for (i = 0; i < ARRAY_SIZE(no); i++) {
		v = true;
		EXPECT_TRUE(nx_parse_bool(no[i], &v)) TH_LOG("'%s'", no[i]);
		EXPECT_FALSE(v) TH_LOG("'%s'", no[i]);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		v = true;
		EXPECT_FALSE(nx_parse_bool(bad[i], &v)) TH_LOG("'%s'", bad[i]);
		EXPECT_TRUE(v) TH_LOG("'%s'", bad[i]);
	}
}

TEST(parse_selected)
{
	char word[8];

	ASSERT_TRUE(nx_parse_selected("always [madvise] never", word,
				      sizeof(word)));
	EXPECT_STREQ("madvise", word);
	ASSERT_TRUE(nx_parse_selected("[always] madvise never", word,
				      sizeof(word)));
	EXPECT_STREQ("always", word);
	ASSERT_TRUE(nx_parse_selected("always madvise [never]\n", word,
				      sizeof(word)));
	EXPECT_STREQ("never", word);

	EXPECT_FALSE(nx_parse_selected("always madvise never", word,
				       sizeof(word)));
	EXPECT_FALSE(nx_parse_selected("a [] b", word, sizeof(word)));
	EXPECT_FALSE(nx_parse_selected("a [b c", word, sizeof(word)));
	EXPECT_FALSE(nx_parse_selected("", word, sizeof(word)));
	/* Seven characters fit in eight bytes, eight do not. */
	EXPECT_TRUE(nx_parse_selected("[1234567]", word, sizeof(word)));
	EXPECT_STREQ("1234567", word);
	EXPECT_FALSE(nx_parse_selected("[12345678]", word, sizeof(word)));
}

FIXTURE(fake) {
	char root[FAKE_SYSFS_ROOT_LEN];
};

FIXTURE_SETUP(fake)
{
	ASSERT_EQ(0, fake_sysfs_create(self->root, sizeof(self->root)));
	ASSERT_EQ(0, fake_sysfs_put(self->root, RATIO, "60\n"));
	ASSERT_EQ(0, fake_sysfs_put(self->root, NX_HUGE, "N\n"));
	ASSERT_EQ(0, fake_sysfs_put(self->root, THP,
				    "always [madvise] never\n"));
	ASSERT_EQ(0, fake_sysfs_put(self->root, NR_2M, "0\n"));
	/*
	 * Map the saved table now, before any test forks: it is shared only
	 * with children forked after it exists.
	 */
	nx_forget_saved();
}

/*
 * In the parent: in the test's own process, a failed ASSERT can skip the
 * teardown (TEST_F()'s child pid does not survive its longjmp at -O2).
 */
FIXTURE_TEARDOWN_PARENT(fake)
{
	fake_sysfs_remove(self->root);
}

/* The raw content of a fake file, for comparing with what it must be. */
#define EXPECT_FILE(want, rel) do {					\
	char __buf[256];						\
									\
	ASSERT_EQ(0, fake_sysfs_get(self->root, rel, __buf, sizeof(__buf))); \
	EXPECT_STREQ(want, __buf) TH_LOG("in %s", rel);			\
} while (0)

TEST_F(fake, read_strips_trailing_newline)
{
	char buf[64];

	ASSERT_EQ(0, nx_sysfs_read(THP, buf, sizeof(buf)));
	EXPECT_STREQ("always [madvise] never", buf);
	ASSERT_EQ(0, fake_sysfs_put(self->root, "x", "6\n\n"));
	ASSERT_EQ(0, nx_sysfs_read("x", buf, sizeof(buf)));
	EXPECT_STREQ("6", buf);
	ASSERT_EQ(0, fake_sysfs_put(self->root, "x", "  5  "));
	ASSERT_EQ(0, nx_sysfs_read("x", buf, sizeof(buf)));
	EXPECT_STREQ("  5", buf);
	ASSERT_EQ(0, fake_sysfs_put(self->root, "x", ""));
	ASSERT_EQ(0, nx_sysfs_read("x", buf, sizeof(buf)));
	EXPECT_STREQ("", buf);
}

TEST_F(fake, read_truncates_to_buffer)
{
	char buf[4];

	ASSERT_EQ(0, nx_sysfs_read(THP, buf, sizeof(buf)));
	EXPECT_STREQ("alw", buf);
}

TEST_F(fake, read_missing_file)
{
	char buf[64];
	uint64_t v;

	EXPECT_EQ(-ENOENT, nx_sysfs_read("no/such/file", buf, sizeof(buf)));
	EXPECT_EQ(-ENOENT, nx_sysfs_read_u64("no/such/file", &v));
}

TEST_F(fake, write_replaces_content)
{
	ASSERT_EQ(0, fake_sysfs_put(self->root, NR_2M, "1024\n"));
	ASSERT_EQ(0, nx_sysfs_write(NR_2M, "5"));
	EXPECT_FILE("5", NR_2M);
}

TEST_F(fake, write_missing_file)
{
	char buf[64];

	/* Like sysfs: a file that is not there is not created. */
	EXPECT_EQ(-ENOENT, nx_sysfs_write("module/kvm/parameters/nope", "1"));
	EXPECT_EQ(-ENOENT, fake_sysfs_get(self->root,
					  "module/kvm/parameters/nope",
					  buf, sizeof(buf)));
}

TEST_F(fake, read_u64)
{
	uint64_t v = 0;

	ASSERT_EQ(0, nx_sysfs_read_u64(RATIO, &v));
	EXPECT_EQ(60ULL, v);
	EXPECT_EQ(-EINVAL, nx_sysfs_read_u64(NX_HUGE, &v));
	EXPECT_EQ(60ULL, v);
}

TEST_F(fake, set_saves_original_once)
{
	ASSERT_EQ(0, nx_sysfs_set(RATIO, "10"));
	EXPECT_FILE("10", RATIO);
	ASSERT_EQ(0, nx_sysfs_set(RATIO, "20"));
	EXPECT_FILE("20", RATIO);
	/* Back to the value before the first change, not the second. */
	nx_restore_all();
	EXPECT_FILE("60", RATIO);
}

TEST_F(fake, set_u64_and_kvm_param)
{
	char buf[16];

	ASSERT_EQ(0, nx_sysfs_set_u64(NR_2M, 512));
	EXPECT_FILE("512", NR_2M);
	ASSERT_EQ(0, nx_kvm_param_read("nx_huge_pages", buf, sizeof(buf)));
	EXPECT_STREQ("N", buf);
	ASSERT_EQ(0, nx_kvm_param_set("nx_huge_pages", "Y"));
	EXPECT_FILE("Y", NX_HUGE);
	nx_restore_all();
	EXPECT_FILE("0", NR_2M);
	EXPECT_FILE("N", NX_HUGE);
}

/*
 * "b" is a second name for "a", so the value saved for "b" is the one the
 * change through "a" wrote.  Only newest-first ends with a's original:
 * oldest-first would write "1" through "a", then "2" through "b".
 */
TEST_F(fake, restore_newest_first)
{
	char path[PATH_MAX];

	ASSERT_EQ(0, fake_sysfs_put(self->root, "a", "1\n"));
	snprintf(path, sizeof(path), "%s/b", self->root);
	ASSERT_EQ(0, symlink("a", path));

	ASSERT_EQ(0, nx_sysfs_set("a", "2"));
	ASSERT_EQ(0, nx_sysfs_set("b", "3"));
	EXPECT_FILE("3", "a");
	nx_restore_all();
	EXPECT_FILE("1", "a");
}

/* Choice files read "a [b] c" but take only a word: save the selected one. */
TEST_F(fake, choice_restored_as_selected_word)
{
	ASSERT_EQ(0, nx_sysfs_set(THP, "never"));
	EXPECT_FILE("never", THP);
	nx_restore_all();
	EXPECT_FILE("madvise", THP);

	nx_forget_saved();
	ASSERT_EQ(0, fake_sysfs_put(self->root, THP, "[always] madvise never\n"));
	ASSERT_EQ(0, nx_sysfs_set(THP, "madvise"));
	nx_restore_all();
	EXPECT_FILE("always", THP);
}

/* Number of files closed after writing since the last call. */
static int writes_seen(int ifd)
{
	union {
		struct inotify_event align;
		char buf[4096];
	} u;
	const struct inotify_event *ev;
	int n = 0;
	ssize_t len;
	char *p;

	while ((len = read(ifd, u.buf, sizeof(u.buf))) > 0) {
		for (p = u.buf; p < u.buf + len; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			n += !!(ev->mask & IN_CLOSE_WRITE);
		}
	}
	return n;
}

TEST_F(fake, restore_is_idempotent)
{
	char path[PATH_MAX];
	int ifd;

	snprintf(path, sizeof(path), "%s/%s", self->root, RATIO);
	ifd = inotify_init1(IN_NONBLOCK);
	ASSERT_LE(0, ifd);
	ASSERT_LE(0, inotify_add_watch(ifd, path, IN_CLOSE_WRITE));

	ASSERT_EQ(0, nx_sysfs_set(RATIO, "10"));
	EXPECT_EQ(1, writes_seen(ifd));
	nx_restore_all();
	EXPECT_FILE("60", RATIO);
	EXPECT_EQ(1, writes_seen(ifd));

	/* Nothing differs any more, so nothing is written. */
	nx_restore_all();
	nx_restore_all();
	EXPECT_FILE("60", RATIO);
	EXPECT_EQ(0, writes_seen(ifd));

	/* The saved value stays until forgotten. */
	ASSERT_EQ(0, fake_sysfs_put(self->root, RATIO, "99\n"));
	EXPECT_EQ(1, writes_seen(ifd));
	nx_restore_all();
	EXPECT_FILE("60", RATIO);
	close(ifd);
}

TEST_F(fake, forget_saved)
{
	ASSERT_EQ(0, nx_sysfs_set(RATIO, "10"));
	nx_forget_saved();
	nx_restore_all();
	EXPECT_FILE("10", RATIO);
}

TEST_F(fake, set_missing_file_saves_nothing)
{
	char buf[16];

	EXPECT_EQ(-ENOENT, nx_sysfs_set("module/kvm/parameters/nope", "1"));
	nx_restore_all();
	EXPECT_EQ(-ENOENT, fake_sysfs_get(self->root,
					  "module/kvm/parameters/nope",
					  buf, sizeof(buf)));
}

TEST_F(fake, table_full)
{
	char rel[32];
	int i;

	for (i = 0; i <= NX_PARAM_MAX; i++) {
		snprintf(rel, sizeof(rel), "many/f%d", i);
		ASSERT_EQ(0, fake_sysfs_put(self->root, rel, "old\n"));
	}
	for (i = 0; i < NX_PARAM_MAX; i++) {
		snprintf(rel, sizeof(rel), "many/f%d", i);
		ASSERT_EQ(0, nx_sysfs_set(rel, "new"));
	}
	/* One more than can be saved is refused, not written unsaved. */
	snprintf(rel, sizeof(rel), "many/f%d", NX_PARAM_MAX);
	EXPECT_EQ(-ENOSPC, nx_sysfs_set(rel, "new"));
	EXPECT_FILE("old\n", rel);
	/* A knob already saved can still be changed again. */
	ASSERT_EQ(0, nx_sysfs_set("many/f0", "newer"));

	nx_restore_all();
	for (i = 0; i < NX_PARAM_MAX; i++) {
		snprintf(rel, sizeof(rel), "many/f%d", i);
		EXPECT_FILE("old", rel);
	}
}

/* The harness's case child changes a knob; its parent puts it back. */
TEST_F(fake, child_change_restored_by_parent)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(nx_sysfs_set(RATIO, "7") ? 1 : 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_FILE("7", RATIO);

	nx_restore_all();
	EXPECT_FILE("60", RATIO);
}

TEST_F(fake, restore_on_exit)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		nx_install_restore_handlers();
		if (nx_sysfs_set(RATIO, "7") || nx_sysfs_set(THP, "never"))
			_exit(1);
		exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* Put back by the child's exit, before the parent did anything. */
	EXPECT_FILE("60", RATIO);
	EXPECT_FILE("madvise", THP);
}

static int hook_fd = -1;

static void write_hook_mark(void)
{
	if (write(hook_fd, "h", 1) != 1)
		_exit(3);
}

/*
 * Child: install the handlers, change two knobs, say so on @ready_fd and
 * wait to be killed; never returns.
 */
static void knob_changer(int ready_fd)
{
	nx_install_restore_handlers();
	nx_on_signal(write_hook_mark);
	if (nx_sysfs_set(RATIO, "7") || nx_sysfs_set(NX_HUGE, "Y"))
		_exit(1);
	if (write(ready_fd, "r", 1) != 1)
		_exit(2);
	for (;;)
		pause();
}

TEST_F(fake, restore_on_signal)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sigs); i++) {
		int ready[2], hook[2], status;
		char c = 0;
		pid_t pid;

		ASSERT_EQ(0, pipe(ready));
		ASSERT_EQ(0, pipe(hook));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			close(ready[0]);
			close(hook[0]);
			hook_fd = hook[1];
			knob_changer(ready[1]);
		}
		close(ready[1]);
		close(hook[1]);
		/* EOF instead if the child died first. */
		ASSERT_EQ(1, read(ready[0], &c, 1));
		EXPECT_FILE("7", RATIO);
		ASSERT_EQ(0, kill(pid, sigs[i]));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));

		/* It died by the signal itself, after restoring. */
		ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("%s", strsignal(sigs[i]));
		EXPECT_EQ(sigs[i], WTERMSIG(status));
		EXPECT_EQ(1, read(hook[0], &c, 1));
		EXPECT_EQ('h', c);
		EXPECT_FILE("60", RATIO);
		EXPECT_FILE("N", NX_HUGE);

		close(ready[0]);
		close(hook[0]);
		nx_forget_saved();
		ASSERT_EQ(0, fake_sysfs_put(self->root, RATIO, "60\n"));
		ASSERT_EQ(0, fake_sysfs_put(self->root, NX_HUGE, "N\n"));
	}
}

TEST_HARNESS_MAIN
