/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A fake sysfs tree for the unit tests: a directory made with mkdtemp under
 * /tmp, exported as NX_SYSFS_ROOT, in which plain files stand in for sysfs
 * files.  The tests read and write the files directly to check what
 * lib/nx_params.c did, independently of its own read path.
 */
#ifndef FAKE_SYSFS_H
#define FAKE_SYSFS_H

#include <stddef.h>

#define FAKE_SYSFS_ROOT_LEN 64

/* Make the tree and point NX_SYSFS_ROOT at it; 0 or -errno. */
int fake_sysfs_create(char *root, size_t len);
/* Write @content to @rel, creating missing directories; 0 or -errno. */
int fake_sysfs_put(const char *root, const char *rel, const char *content);
/* The raw content of @rel, newline and all; 0 or -errno. */
int fake_sysfs_get(const char *root, const char *rel, char *buf, size_t len);
/* Remove the tree and everything in it. */
void fake_sysfs_remove(const char *root);

#endif /* FAKE_SYSFS_H */
