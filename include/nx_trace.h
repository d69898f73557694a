/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracing what a kernel thread does, in order and with timestamps, through
 * tracefs kprobe events.  The probes live in their own event group and are
 * enabled only in a private trace instance, so the global trace and anyone
 * else's probes are left alone.  The instance uses the "mono" trace clock:
 * its timestamps are CLOCK_MONOTONIC, comparable with nx_now_us().
 *
 * Probe targets differ between kernels (names, inlining), so each probe
 * names candidate symbols and the first one /proc/kallsyms lists is used; a
 * required probe with none present ends the case as a skip naming them.
 *
 * Everything set up here (instance, probes, a tracefs mount) is removed at
 * exit, on SIGINT/SIGTERM/SIGHUP, and, since a case killed with SIGKILL
 * cannot clean up, left-overs of the group are removed when tracing starts.
 */
#ifndef NX_TRACE_H
#define NX_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NX_TRACEFS		"/sys/kernel/tracing"
#define NX_TRACE_GROUP		"nxtest"
#define NX_TRACE_INSTANCE	"nxtest"

struct nx_probe {
	const char *event;	/* event name inside NX_TRACE_GROUP */
	bool is_return;		/* a kretprobe */
	const char *const *syms; /* candidates, NULL-terminated */
	bool required;
	const char *fetch;	/* fetch args, e.g. "ret=$retval", or NULL */
	const char *sym;	/* set when added: the symbol probed, or NULL */
};

struct nx_trace_rec {
	uint64_t t_us;		/* CLOCK_MONOTONIC */
	pid_t pid;
	int probe;		/* index in the probe table */
	int64_t ret;		/* "ret=" of the event, 0 if none */
};

/* A function symbol to look up, and where /proc/kallsyms has it. */
struct nx_ksym_want {
	const char *name;
	bool found;
	char mod[128];		/* its module, "" for the core kernel */
};

/*
 * Look every name of @w up in one read of /proc/kallsyms.  The kernel
 * generates that file symbol by symbol on each read, which takes most of
 * a second under emulation: read once per symbol, it made setting up
 * probes and deciding traits the longest steps of some cases.
 */
void nx_ksyms_lookup(struct nx_ksym_want *w, int n);

/* The entry of @w (@n of them) for symbol @name, or NULL. */
const struct nx_ksym_want *nx_ksym_in(const struct nx_ksym_want *w, int n,
				      const char *name);

/*
 * Is @sym a function symbol in /proc/kallsyms?  @mod (may be NULL) gets its
 * module name, "" for the core kernel.
 */
bool nx_ksym_find(const char *sym, char *mod, size_t len);

/*
 * Get tracefs ready (mount it if needed), remove stale state of the group,
 * create the instance and register the cleanup.  Skips the case with a
 * reason if tracefs or kprobe events are missing.
 */
void nx_trace_open(void);

/* Add the probes (all disabled); skips naming a missing required symbol. */
void nx_trace_add_probes(struct nx_probe *p, int n);

/* Record only what thread @pid does. */
void nx_trace_filter_pid(pid_t pid);

void nx_trace_enable(bool on);
void nx_trace_clear(void);

/*
 * Parse the instance's trace into @recs (oldest first, at most @max) and
 * return how many there were; asserts the buffer lost nothing.
 */
int nx_trace_read(const struct nx_probe *p, int n, struct nx_trace_rec *recs,
		  int max);

/* Remove the instance, the group's probes and our mount.  Idempotent. */
void nx_trace_cleanup(void);

#endif /* NX_TRACE_H */
