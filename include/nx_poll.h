/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Waiting for KVM to do something asynchronous (the NX recovery worker) is
 * done by polling a condition against a deadline, never by sleeping a fixed
 * time: the wait ends as soon as the condition holds, a miss is reported
 * with how long was waited, and the time taken is a metric.
 */
#ifndef NX_POLL_H
#define NX_POLL_H

#include <stdbool.h>
#include <stdint.h>

typedef bool (*nx_cond_fn)(void *arg);

struct nx_poll_result {
	bool met;		/* the condition held before the deadline */
	uint64_t elapsed_us;	/* from the first check to the last */
	unsigned int checks;	/* how often the condition was evaluated */
};

uint64_t nx_now_us(void);

/*
 * Evaluate @cond every @interval_us until it returns true or @timeout_ms has
 * passed.  The condition is always checked once more after the deadline, so
 * a slow last interval cannot turn a met condition into a miss.
 */
bool nx_poll_until(nx_cond_fn cond, void *arg, uint64_t timeout_ms,
		   uint64_t interval_us, struct nx_poll_result *res);

#endif /* NX_POLL_H */
