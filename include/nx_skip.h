/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ending the current case as skipped, with a one-line reason.  Below the
 * case runner (nx_harness.h), so that the helpers in lib/ that find a
 * prerequisite missing need not know the runner: it reads the reason from
 * the case's output (NX_SKIP_TAG) and its exit status (NX_EXIT_SKIP).
 */
#ifndef NX_SKIP_H
#define NX_SKIP_H

#include <linux/compiler.h>

#define NX_EXIT_SKIP	4
#define NX_SKIP_TAG	"SKIP: "

__printf(1, 2) __noreturn void nx_skip(const char *fmt, ...);

#endif /* NX_SKIP_H */
