// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of lib/nx_poll.c: nx_poll_until() ends as soon as the
 * condition holds, reports a miss only after the deadline, and counts
 * every evaluation of the condition.
 *
 * Timing bounds are derived from what nanosleep() and the monotonic clock
 * guarantee (a sleep is never shorter than asked), so they hold however
 * slow the machine is.
 */
#include <stdbool.h>
#include <stdint.h>

#include "kselftest_harness.h"
#include "nx_poll.h"

/* Long enough that no scheduling delay can reach it in a test that is met. */
#define NEVER_MS	(600 * 1000)

struct counter {
	unsigned int calls;
	unsigned int true_from;	/* the call that first returns true; 0: never */
};

static bool count_cond(void *arg)
{
	struct counter *c = arg;

	c->calls++;
	return c->true_from && c->calls >= c->true_from;
}

TEST(met_immediately)
{
	struct counter c = { .true_from = 1 };
	struct nx_poll_result res = { .checks = 99 };

	ASSERT_TRUE(nx_poll_until(count_cond, &c, NEVER_MS, 1000, &res));
	EXPECT_TRUE(res.met);
	EXPECT_EQ(1U, res.checks);
	EXPECT_EQ(1U, c.calls);
	EXPECT_LT(res.elapsed_us, (uint64_t)NEVER_MS * 1000);
}

TEST(met_after_k_checks)
{
	struct counter c = { .true_from = 5 };
	struct nx_poll_result res;

	ASSERT_TRUE(nx_poll_until(count_cond, &c, NEVER_MS, 200, &res));
	EXPECT_TRUE(res.met);
	EXPECT_EQ(5U, res.checks);
	EXPECT_EQ(5U, c.calls);
	/* Four sleeps of at least the interval came between the checks. */
	EXPECT_GE(res.elapsed_us, 4 * 200ULL);
	EXPECT_LT(res.elapsed_us, (uint64_t)NEVER_MS * 1000);
}

TEST(deadline_miss)
{
	struct counter c = { 0 };
	struct nx_poll_result res = { .met = true };
	uint64_t start = nx_now_us();

	ASSERT_FALSE(nx_poll_until(count_cond, &c, 50, 1000, &res));
	EXPECT_FALSE(res.met);
	EXPECT_GE(res.elapsed_us, 50 * 1000ULL);
	EXPECT_GE(nx_now_us() - start, res.elapsed_us);
	EXPECT_EQ(c.calls, res.checks);
	EXPECT_GE(res.checks, 2U);
	/*
	 * Check k starts at least (k - 1) intervals in, so at most
	 * timeout / interval checks come before the deadline, plus the one
	 * that finds it passed.
	 */
	EXPECT_LE(res.checks, 50U + 1);
}

TEST(zero_timeout_checks_once)
{
	struct counter c = { 0 };
	struct nx_poll_result res;

	ASSERT_FALSE(nx_poll_until(count_cond, &c, 0, 1000, &res));
	EXPECT_FALSE(res.met);
	EXPECT_EQ(1U, res.checks);
	EXPECT_EQ(1U, c.calls);
}

/*
 * The deadline passes while nx_poll_until() sleeps: the check after the
 * sleep still counts, so a slow last interval is not reported as a miss.
 */
TEST(checked_once_more_after_deadline)
{
	struct counter c = { .true_from = 2 };
	struct nx_poll_result res;

	ASSERT_TRUE(nx_poll_until(count_cond, &c, 500, 600 * 1000, &res));
	EXPECT_TRUE(res.met);
	EXPECT_EQ(2U, res.checks);
	EXPECT_GE(res.elapsed_us, 600 * 1000ULL);
}

TEST(result_is_optional)
{
	struct counter met = { .true_from = 1 }, never = { 0 };

	EXPECT_TRUE(nx_poll_until(count_cond, &met, NEVER_MS, 1000, NULL));
	EXPECT_FALSE(nx_poll_until(count_cond, &never, 0, 1000, NULL));
	EXPECT_EQ(1U, met.calls);
	EXPECT_EQ(1U, never.calls);
}

TEST(clock_is_monotonic)
{
	uint64_t a = nx_now_us(), b = nx_now_us();

	EXPECT_LE(a, b);
	EXPECT_GT(a, 0ULL);
}

TEST_HARNESS_MAIN
