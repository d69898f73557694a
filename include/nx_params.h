/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host knobs the tests change: KVM module parameters and sysfs values such
 * as hugepage pools.  Every value is saved before its first change and put
 * back on every exit path (normal exit, a failed TEST_ASSERT, SIGINT,
 * SIGTERM, SIGHUP), so a run leaves the host as it found it.
 *
 * Paths are relative to the sysfs root, "/sys" unless NX_SYSFS_ROOT is set
 * (the project's own tests point it at a fake tree).
 */
#ifndef NX_PARAMS_H
#define NX_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NX_PARAM_MAX 64

/* Read a sysfs file (relative path) into @buf, trailing newline removed. */
int nx_sysfs_read(const char *rel, char *buf, size_t len);
/*
 * Write @val to @path (an absolute path, opened O_WRONLY | @flags) in one
 * write; returns 0 or -errno, -EIO for a short write.
 */
int nx_write_path(const char *path, const char *val, int flags);
/* Write @val to a sysfs file; returns 0 or -errno. */
int nx_sysfs_write(const char *rel, const char *val);

int nx_sysfs_read_u64(const char *rel, uint64_t *val);
/* Whether a sysfs file or directory exists and @mode (access()) is allowed. */
bool nx_sysfs_access(const char *rel, int mode);

/* "Y", "N", "1", "0", "y", "n" as the kernel prints bool parameters. */
bool nx_parse_bool(const char *s, bool *val);
/* The word in brackets of "always [madvise] never"; false if none. */
bool nx_parse_selected(const char *s, char *word, size_t len);
/* A whole decimal number, surrounding white space allowed. */
bool nx_parse_u64(const char *s, uint64_t *val);

/*
 * Save the current value (once) and write @val.  Returns 0 or -errno; a
 * refused write leaves the saved value registered, which is harmless.
 */
int nx_sysfs_set(const char *rel, const char *val);
int nx_sysfs_set_u64(const char *rel, uint64_t val);

/* Shorthands for /sys/module/kvm/parameters/<name>. */
int nx_kvm_param_read(const char *name, char *buf, size_t len);
int nx_kvm_param_set(const char *name, const char *val);

/* Put every saved value back, newest first; safe to call repeatedly. */
void nx_restore_all(void);
/* Forget the saved values without writing them (after a restore). */
void nx_forget_saved(void);

/*
 * Restore on exit() and on SIGINT/SIGTERM/SIGHUP (a hook of nx_signal.h,
 * registered first, so that it runs after the layers above have stopped
 * what they run).  It also creates the saved-value table shared with
 * forked children: call it before forking, or each child saves into a
 * private table of its own.
 */
void nx_install_restore_handlers(void);

#endif /* NX_PARAMS_H */
