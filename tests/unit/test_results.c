// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of lib/nx_results.c: what tools/nx_summary reads out of a
 * KTAP log (metric lines, top-level results with their SKIP or failure
 * reasons) and the JSON string escaping it writes summary.json with.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "nx_results.h"

TEST(metric_line)
{
	struct nx_metric_val m;

	ASSERT_TRUE(nx_parse_metric_line("# nx_metric: recovery_ms=12.500 ms\n",
					 &m));
	EXPECT_STREQ("recovery_ms", m.name);
	EXPECT_EQ(12.5, m.value);
	EXPECT_STREQ("ms", m.unit);

	/* The tag is found anywhere in the line, e.g. re-indented. */
	ASSERT_TRUE(nx_parse_metric_line("#   nx_metric: splits=-3 pages", &m));
	EXPECT_STREQ("splits", m.name);
	EXPECT_EQ(-3.0, m.value);
	EXPECT_STREQ("pages", m.unit);

	ASSERT_TRUE(nx_parse_metric_line("nx_metric: n=1e3", &m));
	EXPECT_STREQ("n", m.name);
	EXPECT_EQ(1000.0, m.value);
	EXPECT_STREQ("", m.unit);
}

TEST(metric_unit_truncated)
{
	struct nx_metric_val m;

	ASSERT_TRUE(nx_parse_metric_line("nx_metric: x=1 abcdefghijklmnopqrst",
					 &m));
	EXPECT_EQ(sizeof(m.unit) - 1, strlen(m.unit));
	EXPECT_EQ(0, strncmp(m.unit, "abcdefghijklmnopqrst", strlen(m.unit)));
}

TEST(metric_line_rejects)
{
	static const char * const bad[] = {
		"",
		"# RUN nx.a",
		"# nx_metric recovery_ms=1 ms",	/* no colon */
		"# nx_metric: recovery_ms 1 ms",	/* no '=' */
		"# nx_metric: =1 ms",		/* no name */
		"# nx_metric: a b=1 ms",		/* space in the name */
		"# nx_metric: a= ms",		/* no number */
		"# nx_metric: a=ms",
	};
	struct nx_metric_val m;
	unsigned int i;

	/* Braces: EXPECT_*() TH_LOG() is two statements. */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_FALSE(nx_parse_metric_line(bad[i], &m))
			TH_LOG("'%s'", bad[i]);
	}
}

TEST(metric_name_too_long)
{
	char line[NX_NAME_LEN + 32];
	struct nx_metric_val m;

	snprintf(line, sizeof(line), NX_METRIC_TAG "%0*d=1 ms",
		 NX_NAME_LEN - 1, 0);
	EXPECT_TRUE(nx_parse_metric_line(line, &m));
	EXPECT_EQ((size_t)NX_NAME_LEN - 1, strlen(m.name));
	snprintf(line, sizeof(line), NX_METRIC_TAG "%0*d=1 ms", NX_NAME_LEN, 0);
	EXPECT_FALSE(nx_parse_metric_line(line, &m));
}

/* What nx_metric() prints, nx_parse_metric_line() reads back. */
TEST(metric_round_trip)
{
	FILE *f = tmpfile();
	struct nx_metric_val m;
	char line[256];
	int saved;

	ASSERT_NE(NULL, f);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	ASSERT_LE(0, saved);
	ASSERT_LE(0, dup2(fileno(f), STDOUT_FILENO));
	nx_metric("recovery_ms", 1.2345, "ms");
	ASSERT_LE(0, dup2(saved, STDOUT_FILENO));
	close(saved);

	rewind(f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	fclose(f);
	EXPECT_STREQ(NX_METRIC_TAG "recovery_ms=1.234 ms\n", line);
	ASSERT_TRUE(nx_parse_metric_line(line, &m));
	EXPECT_STREQ("recovery_ms", m.name);
	EXPECT_EQ(1.234, m.value);
	EXPECT_STREQ("ms", m.unit);
}

#define EXPECT_RESULT(line, want_status, want_name, want_reason) do {	\
	struct nx_test_result __r;					\
									\
	memset(&__r, 0x55, sizeof(__r));				\
	ASSERT_TRUE(nx_parse_result_line(line, &__r)) TH_LOG("'%s'", line); \
	EXPECT_EQ((int)(want_status), (int)__r.status) TH_LOG("'%s'", line); \
	EXPECT_STREQ(want_name, __r.name);				\
	EXPECT_STREQ(want_reason, __r.reason);				\
} while (0)

TEST(result_pass)
{
	EXPECT_RESULT("ok 1 nx.hugetlb_2m.split", NX_PASS,
		      "nx.hugetlb_2m.split", "");
	EXPECT_RESULT("ok 12 nx.thp.split\n", NX_PASS, "nx.thp.split", "");
	EXPECT_RESULT("ok 3 spaced  \r\n", NX_PASS, "spaced", "");
}

TEST(result_skip)
{
	EXPECT_RESULT("ok 2 nx.thp.split # SKIP no /dev/kvm", NX_SKIP,
		      "nx.thp.split", "no /dev/kvm");
	EXPECT_RESULT("ok 2 nx.thp.split # SKIP   needs 4 free 2M hugepages\n",
		      NX_SKIP, "nx.thp.split", "needs 4 free 2M hugepages");
	EXPECT_RESULT("ok 2 nx.thp.split # SKIP", NX_SKIP, "nx.thp.split", "");
	/* A reason on a passing line is kept, but it is still a pass. */
	EXPECT_RESULT("ok 5 nx.a # took 3s", NX_PASS, "nx.a", "took 3s");
}

TEST(result_fail)
{
	EXPECT_RESULT("not ok 4 nx.hugetlb_2m.split_and_recover # exit 1: boom",
		      NX_FAIL, "nx.hugetlb_2m.split_and_recover",
		      "exit 1: boom");
	EXPECT_RESULT("not ok 7 nx.a # TIMEOUT: no result after 1s (last output: none)\n",
		      NX_FAIL, "nx.a",
		      "TIMEOUT: no result after 1s (last output: none)");
	/* The first " # " ends the name, the reason keeps the rest. */
	EXPECT_RESULT("not ok 8 nx.a # exit 1: x # y", NX_FAIL, "nx.a",
		      "exit 1: x # y");
	EXPECT_RESULT("not ok 9 nx.a", NX_FAIL, "nx.a", "");
	/* Only an "ok" line can be a skip. */
	EXPECT_RESULT("not ok 6 nx.a # SKIP why", NX_FAIL, "nx.a", "SKIP why");
}

TEST(result_flaky)
{
	EXPECT_RESULT("not ok 3 nx.a # FLAKY passed 2 of 3: exit 1: boom",
		      NX_FLAKY, "nx.a", "passed 2 of 3: exit 1: boom");
	/* Only a "not ok" line can be flaky: a flake is never a pass. */
	EXPECT_RESULT("ok 3 nx.a # FLAKY passed 2 of 3", NX_PASS, "nx.a",
		      "FLAKY passed 2 of 3");
	EXPECT_RESULT("not ok 3 nx.a # FLAKYish", NX_FAIL, "nx.a", "FLAKYish");
}

TEST(result_rejects)
{
	static const char * const bad[] = {
		"",
		"TAP version 13",
		"1..3",
		"# RUN nx.a",
		"# ok 1 nx.a",
		"    ok 1 nested.subtest",	/* not top level */
		"ok nx.a",			/* no number */
		"ok 1",
		"ok 1 ",
		"okay 1 nx.a",
		"not ok x nx.a",
	};
	struct nx_test_result r;
	unsigned int i;

	/* Braces: EXPECT_*() TH_LOG() is two statements. */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_FALSE(nx_parse_result_line(bad[i], &r))
			TH_LOG("'%s'", bad[i]);
	}
}

TEST(result_long_fields_truncated)
{
	struct nx_test_result r;
	char line[8192];

	/* Both longer than their fields. */
	snprintf(line, sizeof(line), "not ok 1 %0*d # %0*d", 300, 0, 5000, 0);
	ASSERT_TRUE(nx_parse_result_line(line, &r));
	EXPECT_EQ(sizeof(r.name) - 1, strlen(r.name));
	EXPECT_EQ(sizeof(r.reason) - 1, strlen(r.reason));
}

/* nx_json_string(@s) as a C string. */
static char *json(const char *s)
{
	size_t len;
	char *buf;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	nx_json_string(f, s);
	fclose(f);
	return buf;
}

#define EXPECT_JSON(want, s) do {					\
	char *__j = json(s);						\
									\
	ASSERT_NE(NULL, __j);						\
	EXPECT_STREQ(want, __j);					\
	free(__j);							\
} while (0)

TEST(json_string)
{
	EXPECT_JSON("\"\"", "");
	EXPECT_JSON("\"plain text 1.5 ms\"", "plain text 1.5 ms");
	EXPECT_JSON("\"say \\\"hi\\\"\"", "say \"hi\"");
	EXPECT_JSON("\"C:\\\\dir\"", "C:\\dir");
	EXPECT_JSON("\"a\\nb\\tc\"", "a\nb\tc");
	EXPECT_JSON("\"\\u000d\\u0001\\u001f\"", "\r\x01\x1f");
	/* Everything from space up, UTF-8 included, is written as it is. */
	EXPECT_JSON("\" ~\x7f\xc3\xa9\"", " ~\x7f\xc3\xa9");
}

/* Each result gets the "#" lines since the previous one, and only those. */
TEST(read_output_per_case)
{
	struct nx_results res = NX_RESULTS_INIT;
	char path[] = "/tmp/nx_test_results.XXXXXX";
	int fd = mkstemp(path);
	FILE *f;

	ASSERT_LE(0, fd);
	f = fdopen(fd, "w");
	ASSERT_NE(NULL, f);
	fputs("TAP version 13\n1..3\n# a1\n# # a2\nok 1 x.a\nok 2 x.b\n"
	      "# c1\nnot ok 3 x.c # why\n# trailing\n", f);
	fclose(f);
	ASSERT_TRUE(nx_results_read(path, &res));
	unlink(path);
	ASSERT_EQ(3, res.nr_tests);
	EXPECT_STREQ("# a1\n# # a2\n", res.tests[0].output);
	EXPECT_EQ(NULL, res.tests[1].output);
	EXPECT_STREQ("# c1\n", res.tests[2].output);
	EXPECT_STREQ("why", res.tests[2].reason);
}

/*
 * A case run several times (--repeat): each metric's samples, their mean
 * as the value, and the time of all runs.
 */
TEST(read_repeated_case)
{
	struct nx_results res = NX_RESULTS_INIT;
	char path[] = "/tmp/nx_test_results.XXXXXX";
	int fd = mkstemp(path);
	const struct nx_metric_val *m;
	FILE *f;

	ASSERT_LE(0, fd);
	f = fdopen(fd, "w");
	ASSERT_NE(NULL, f);
	fputs("1..1\n# # nx_metric: t_ms=10 ms\n# # nx_duration_ms: 5\n"
	      "# nx_repeat: run 1 of 3: pass\n# # nx_metric: t_ms=12 ms\n"
	      "# # nx_duration_ms: 6\n# nx_repeat: run 2 of 3: fail: x\n"
	      "# # nx_metric: t_ms=14 ms\n# # nx_duration_ms: 7\n"
	      "# nx_repeat: run 3 of 3: pass\n"
	      "not ok 1 x.a # FLAKY passed 2 of 3: x\n", f);
	fclose(f);
	ASSERT_TRUE(nx_results_read(path, &res));
	unlink(path);
	ASSERT_EQ(1, res.nr_tests);
	EXPECT_EQ(NX_FLAKY, res.tests[0].status);
	EXPECT_EQ(18, res.tests[0].duration_ms);
	ASSERT_EQ(1, res.tests[0].nr_metrics);
	m = &res.tests[0].metrics[0];
	EXPECT_EQ(3, m->n);
	EXPECT_EQ(12.0, m->value);
	EXPECT_EQ(10.0, m->min);
	EXPECT_EQ(14.0, m->max);
	EXPECT_EQ(10.0 * 10 + 12 * 12 + 14 * 14, m->sumsq);
}

TEST_HARNESS_MAIN
