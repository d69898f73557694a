/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel warnings during a test.  A KVM bug under load often shows only as
 * a WARN_ON splat in the kernel log while every counter still looks right,
 * so a stress test reads the records the kernel logged since it started
 * (/dev/kmsg) and fails on any warning, BUG or oops among them.
 */
#ifndef NX_KMSG_H
#define NX_KMSG_H

/*
 * Start watching: returns a /dev/kmsg descriptor positioned after the
 * records logged so far.  Skips the case if the log cannot be read.
 */
int nx_kmsg_open(void);

/*
 * Fail, quoting the first offending record, if the kernel logged a
 * warning, BUG or oops since nx_kmsg_open(); @what says during what.
 * Returns the number of records read; closes @fd.
 */
int nx_kmsg_expect_clean(int fd, const char *what);

#endif /* NX_KMSG_H */
