// SPDX-License-Identifier: GPL-2.0-only
/* The NX recovery worker of a VMM and its cgroup (see nx_worker.h). */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nx_compat.h"
#include "nx_params.h"
#include "nx_poll.h"
#include "nx_skip.h"
#include "nx_worker.h"

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

static bool read_comm(const char *dir, const char *id, char *buf, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/comm", dir, id);
	if (read_small(path, buf, len) < 0)
		return false;
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

/* Tasks under @dir whose comm matches @comm (a prefix unless @exact). */
static int find_tasks(const char *dir, const char *comm, bool exact,
		      pid_t *tids, int max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char name[128];
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		if (!read_comm(dir, e->d_name, name, sizeof(name)))
			continue;
		if (exact ? strcmp(name, comm) :
			    strncmp(name, comm, strlen(comm)))
			continue;
		if (n < max)
			tids[n] = atoi(e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

int nx_workers(pid_t pid, pid_t creator, pid_t *tids, int max)
{
	char dir[64], kthread[64];
	int n;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	n = find_tasks(dir, NX_WORKER_COMM, false, tids, max);
	if (n)
		return n;
	snprintf(kthread, sizeof(kthread), NX_WORKER_KTHREAD, creator);
	return find_tasks("/proc", kthread, true, tids, max);
}

int nx_thread_count(pid_t pid)
{
	char dir[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	d = opendir(dir);
	TEST_ASSERT(d, "opendir(%s)", dir);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

struct count_query {
	pid_t pid, creator;
	int want, seen;
};

static bool count_is(void *arg)
{
	struct count_query *q = arg;
	pid_t tids[NX_WORKER_MAX];

	q->seen = nx_workers(q->pid, q->creator, tids, NX_WORKER_MAX);
	return q->seen == q->want;
}

int nx_workers_wait(pid_t pid, pid_t creator, int n, uint64_t timeout_ms)
{
	struct count_query q = { pid, creator, n, -1 };

	nx_poll_until(count_is, &q, timeout_ms, 1000, NULL);
	return q.seen;
}

char nx_task_state(pid_t tid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	/* "pid (comm) S ...": comm may hold spaces and parentheses. */
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

long nx_task_sleeps(pid_t tid)
{
	char path[64], buf[2048], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, "\nvoluntary_ctxt_switches:");
	return p ? strtol(p + strlen("\nvoluntary_ctxt_switches:"), NULL, 10) :
		   -1;
}

bool nx_task_cgroup(pid_t tid, char *buf, size_t len)
{
	char path[64], all[4096], *line;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", tid);
	if (read_small(path, all, sizeof(all)) <= 0)
		return false;
	for (line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, "0::", 3))
			continue;
		snprintf(buf, len, "%s", line + 3);
		return true;
	}
	return false;
}

/* Where cgroup v2 is mounted; false if it is not. */
static bool cgroup2_root(char *buf, size_t len)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	bool found = false;

	if (!f)
		return false;
	while (!found && (m = getmntent(f))) {
		if (strcmp(m->mnt_type, "cgroup2"))
			continue;
		snprintf(buf, len, "%s", m->mnt_dir);
		found = true;
	}
	endmntent(f);
	return found;
}

static struct nx_cgroup *nx_cgroup_made;

static void nx_cgroup_cleanup(void)
{
	if (nx_cgroup_made && nx_cgroup_made->path[0])
		nx_cgroup_remove(nx_cgroup_made);
}

void nx_cgroup_create(struct nx_cgroup *cg, const char *name)
{
	char root[256], self[256];

	if (!cgroup2_root(root, sizeof(root)))
		nx_skip("no cgroup v2 mounted (/proc/self/mounts)");
	if (!nx_task_cgroup(getpid(), self, sizeof(self)))
		nx_skip("this process has no cgroup v2 (/proc/self/cgroup)");
	if (!strcmp(self, "/"))
		self[0] = '\0';
	cg->root_len = strlen(root);
	snprintf(cg->path, sizeof(cg->path), "%s%s/%s-%d", root, self, name,
		 getpid());
	if (mkdir(cg->path, 0755) && errno != EEXIST)
		nx_skip("cannot create cgroup %s: %s", cg->path,
			strerror(errno));
	nx_cgroup_made = cg;
	atexit(nx_cgroup_cleanup);
}

static int cgroup_write(const struct nx_cgroup *cg, const char *file,
			const char *val)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", cg->path, file);
	return nx_write_path(path, val, 0);
}

void nx_cgroup_enter(const struct nx_cgroup *cg, pid_t pid)
{
	char val[16];
	int r;

	snprintf(val, sizeof(val), "%d", pid);
	r = cgroup_write(cg, "cgroup.procs", val);
	TEST_ASSERT(!r, "moving %d into %s: expected success, got %s", pid,
		    cg->path, strerror(-r));
}

void nx_cgroup_freeze(const struct nx_cgroup *cg, bool frozen)
{
	int r = cgroup_write(cg, "cgroup.freeze", frozen ? "1" : "0");

	TEST_ASSERT(!r, "writing %d to %s/cgroup.freeze: expected success, got %s",
		    frozen, cg->path, strerror(-r));
}

bool nx_cgroup_frozen(const struct nx_cgroup *cg)
{
	char path[600], buf[512], *p;

	snprintf(path, sizeof(path), "%s/cgroup.events", cg->path);
	TEST_ASSERT(read_small(path, buf, sizeof(buf)) > 0, "cannot read %s",
		    path);
	p = strstr(buf, "frozen ");
	return p && p[7] == '1';
}

const char *nx_cgroup_rel(const struct nx_cgroup *cg)
{
	return cg->path + cg->root_len;
}

void nx_cgroup_remove(struct nx_cgroup *cg)
{
	cgroup_write(cg, "cgroup.freeze", "0");
	rmdir(cg->path);
	cg->path[0] = '\0';
}
