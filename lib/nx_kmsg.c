// SPDX-License-Identifier: GPL-2.0-only
/* Kernel warnings since a point in time; see include/nx_kmsg.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "nx_compat.h"
#include "nx_kmsg.h"
#include "nx_skip.h"

/* What the kernel prints at the start of a WARN, BUG or oops splat. */
static const char *const nx_splats[] = {
	"WARNING:", "BUG:", "Oops:", "general protection fault",
	"kernel BUG at", NULL
};

int nx_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd < 0)
		nx_skip("cannot read the kernel log (/dev/kmsg: %s)",
			strerror(errno));
	if (lseek(fd, 0, SEEK_END) < 0)
		nx_skip("cannot seek /dev/kmsg: %s", strerror(errno));
	return fd;
}

/* The message of a record "prio,seq,time,flags;message\n...". */
static const char *nx_kmsg_text(char *rec)
{
	char *text = strchr(rec, ';'), *nl;

	text = text ? text + 1 : rec;
	nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	return text;
}

int nx_kmsg_expect_clean(int fd, const char *what)
{
	char rec[2048];
	int i, n = 0;
	ssize_t len;

	for (;;) {
		len = read(fd, rec, sizeof(rec) - 1);
		/* EPIPE: records were overwritten before we read them. */
		if (len < 0 && errno == EPIPE)
			continue;
		if (len <= 0)
			break;
		rec[len] = '\0';
		n++;
		for (i = 0; nx_splats[i]; i++)
			TEST_ASSERT(!strstr(rec, nx_splats[i]),
				    "%s: expected no kernel warning in the log, got: %s",
				    what, nx_kmsg_text(rec));
	}
	close(fd);
	return n;
}
