// SPDX-License-Identifier: GPL-2.0-only
/* Deadline-bounded polling; see include/nx_poll.h. */
#include <time.h>

#include "nx_poll.h"

uint64_t nx_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void nx_sleep_us(uint64_t us)
{
	struct timespec ts = {
		.tv_sec = us / 1000000,
		.tv_nsec = (us % 1000000) * 1000,
	};

	while (nanosleep(&ts, &ts))
		;
}

bool nx_poll_until(nx_cond_fn cond, void *arg, uint64_t timeout_ms,
		   uint64_t interval_us, struct nx_poll_result *res)
{
	uint64_t start = nx_now_us();
	uint64_t deadline = start + timeout_ms * 1000;
	struct nx_poll_result r = { 0 };
	uint64_t now;

	for (;;) {
		r.checks++;
		r.met = cond(arg);
		now = nx_now_us();
		if (r.met || now >= deadline)
			break;
		nx_sleep_us(interval_us);
	}
	r.elapsed_us = now - start;
	if (res)
		*res = r;
	return r.met;
}
