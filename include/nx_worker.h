/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The NX recovery worker of a VMM, seen from /proc, and the cgroup v2 it
 * runs in.  On vhost_task kernels (NX_TRAIT_VHOST_WORKER) the worker is a
 * thread of the VMM process whose comm starts with NX_WORKER_COMM; on
 * older ones a kthread named "kvm-nx-lpage-recovery-<tid>" after the thread
 * that created the VM.  Either way there is one per VM.
 */
#ifndef NX_WORKER_H
#define NX_WORKER_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A vhost_task's comm: "kvm-nx-lpage-recovery" cut to 15 characters. */
#define NX_WORKER_COMM		"kvm-nx-lpage-re"
#define NX_WORKER_KTHREAD	"kvm-nx-lpage-recovery-%d"
#define NX_WORKER_MAX		16

/*
 * The workers of the VMs that process @pid created (thread @creator
 * created them, for a kthread's name; usually @pid): their tids into
 * @tids (up to @max), returns how many there are.
 */
int nx_workers(pid_t pid, pid_t creator, pid_t *tids, int max);

/* Threads of process @pid, workers included. */
int nx_thread_count(pid_t pid);

/*
 * Wait up to @timeout_ms for process @pid to have exactly @n workers;
 * returns the last count seen.
 */
int nx_workers_wait(pid_t pid, pid_t creator, int n, uint64_t timeout_ms);

/* The scheduler state letter of task @tid ('R', 'S', 'T', ...); 0: gone. */
char nx_task_state(pid_t tid);

/* Task @tid's voluntary_ctxt_switches (times it went to sleep); -1: gone. */
long nx_task_sleeps(pid_t tid);

/*
 * The cgroup v2 path of task @tid ("0::" line of /proc/TID/cgroup) into
 * @buf; false if it has none.
 */
bool nx_task_cgroup(pid_t tid, char *buf, size_t len);

/* A cgroup v2 made for a test, below the cgroup of this process. */
struct nx_cgroup {
	char path[512];
	size_t root_len;	/* of the cgroup v2 mount point in path */
};

/*
 * Create @cg named @name; skips the case when there is no cgroup v2
 * mounted or the cgroup cannot be made.  It is removed at exit.
 */
void nx_cgroup_create(struct nx_cgroup *cg, const char *name);

/* Move process @pid (all its threads) into @cg. */
void nx_cgroup_enter(const struct nx_cgroup *cg, pid_t pid);

void nx_cgroup_freeze(const struct nx_cgroup *cg, bool frozen);

/* The "frozen" field of @cg's cgroup.events. */
bool nx_cgroup_frozen(const struct nx_cgroup *cg);

/* @cg's path relative to the cgroup v2 root, as /proc/PID/cgroup has it. */
const char *nx_cgroup_rel(const struct nx_cgroup *cg);

/* Remove @cg (thawed first); its processes must be gone. */
void nx_cgroup_remove(struct nx_cgroup *cg);

#endif /* NX_WORKER_H */
