// SPDX-License-Identifier: GPL-2.0-only
/* Signal hooks of each layer, run newest first; see include/nx_signal.h. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nx_signal.h"

/* Registered before any signal can need them, never while one runs. */
static void (*hooks[NX_SIGNAL_HOOKS_MAX])(void);
static int nr_hooks;

static void nx_signal_run_hooks(int sig)
{
	int i;

	for (i = nr_hooks - 1; i >= 0; i--)
		hooks[i]();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void nx_signal_install(void)
{
	struct sigaction sa = { .sa_handler = nx_signal_run_hooks };

	/* No hook runs twice because of a second signal meanwhile. */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void nx_on_signal(void (*hook)(void))
{
	int i;

	for (i = 0; i < nr_hooks; i++)
		if (hooks[i] == hook)
			return;
	if (nr_hooks == NX_SIGNAL_HOOKS_MAX)
		abort();	/* a layer too many: a bug of the suite */
	if (!nr_hooks)
		nx_signal_install();
	hooks[nr_hooks++] = hook;
}

void nx_signal_say(const char *a, const char *b)
{
	ssize_t ignored;

	ignored = write(STDERR_FILENO, a, strlen(a));
	ignored = write(STDERR_FILENO, b, strlen(b));
	ignored = write(STDERR_FILENO, "\n", 1);
	(void)ignored;
}
