// SPDX-License-Identifier: GPL-2.0-only
/* Skipping the current case; see include/nx_skip.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "nx_skip.h"

void nx_skip(const char *fmt, ...)
{
	va_list ap;

	printf(NX_SKIP_TAG);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(NX_EXIT_SKIP);
}
