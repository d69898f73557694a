// SPDX-License-Identifier: GPL-2.0-only
/* A fake sysfs tree for the unit tests; see fake_sysfs.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_sysfs.h"

int fake_sysfs_create(char *root, size_t len)
{
	if (snprintf(root, len, "/tmp/nx-unit-XXXXXX") >= (int)len)
		return -ENAMETOOLONG;
	if (!mkdtemp(root))
		return -errno;
	return setenv("NX_SYSFS_ROOT", root, 1) ? -errno : 0;
}

/* mkdir -p of the directories above @path, which starts with the root. */
static int fake_sysfs_mkdirs(char *path, size_t root_len)
{
	char *slash;

	for (slash = strchr(path + root_len + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			*slash = '/';
			return -errno;
		}
		*slash = '/';
	}
	return 0;
}

int fake_sysfs_put(const char *root, const char *rel, const char *content)
{
	size_t len = strlen(content);
	char path[PATH_MAX];
	ssize_t n;
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	r = fake_sysfs_mkdirs(path, strlen(root));
	if (r)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	n = write(fd, content, len);
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r)
		return r;
	return (size_t)n == len ? 0 : -EIO;
}

int fake_sysfs_get(const char *root, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

static int fake_sysfs_unlink(const char *path, const struct stat *st,
			     int type, struct FTW *ftw)
{
	remove(path);
	return 0;
}

void fake_sysfs_remove(const char *root)
{
	if (root[0])
		nftw(root, fake_sysfs_unlink, 16, FTW_DEPTH | FTW_PHYS);
}
