/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What each layer must undo when the process is told to stop (SIGINT,
 * SIGTERM, SIGHUP): the case runner kills the case it runs, tracing
 * removes its probes, the saved host knobs are written back.  Each layer
 * registers its hook; on such a signal they run newest first, then the
 * process dies of the signal.  A hook runs in a signal handler: only
 * async-signal-safe calls (open, read, write, kill, rmdir...), no stdio,
 * no allocation, no formatting.
 */
#ifndef NX_SIGNAL_H
#define NX_SIGNAL_H

#define NX_SIGNAL_HOOKS_MAX	8

/* Register @hook (once; a second registration of it is ignored). */
void nx_on_signal(void (*hook)(void));

/* A message to stderr from a hook: write(2), nothing else. */
void nx_signal_say(const char *a, const char *b);

#endif /* NX_SIGNAL_H */
