// SPDX-License-Identifier: GPL-2.0-only
/* Saved and restored host knobs; see include/nx_params.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nx_params.h"
#include "nx_signal.h"

struct nx_saved {
	char rel[PATH_MAX];
	char path[PATH_MAX];	/* under NX_SYSFS_ROOT as it was when saved */
	char val[128];
};

/*
 * Shared with forked children (the harness runs each case in one), so the
 * parent knows what a case changed even when the case had to be killed.
 */
struct nx_saved_table {
	int nr;
	struct nx_saved ent[NX_PARAM_MAX];
};

static struct nx_saved_table *table;

static struct nx_saved_table *nx_table(void)
{
	void *p;

	if (table)
		return table;
	p = mmap(NULL, sizeof(*table), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("nx: mmap of the saved-parameter table");
		abort();
	}
	table = p;
	return table;
}

static void nx_path(const char *rel, char *path, size_t len)
{
	const char *root = getenv("NX_SYSFS_ROOT");

	snprintf(path, len, "%s/%s", root && *root ? root : "/sys", rel);
}

bool nx_parse_selected(const char *s, char *word, size_t len)
{
	const char *open = strchr(s, '['), *close;
	size_t n;

	if (!open)
		return false;
	close = strchr(open, ']');
	n = close ? (size_t)(close - open - 1) : 0;
	if (!n || n >= len)
		return false;
	memcpy(word, open + 1, n);
	word[n] = '\0';
	return true;
}

/* A bounded copy that a signal handler may make (no snprintf). */
static void nx_copy(char *dst, const char *src, size_t len)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * @path's contents without trailing newlines and blanks; open, read and
 * close only, so that the restore on a signal can use it too.
 */
static int nx_read_path(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/*
 * The value to write back: sysfs choice files read as "a [b] c" but take
 * only the selected word.
 */
static int nx_read_value(const char *path, char *buf, size_t len)
{
	char raw[128];
	int r = nx_read_path(path, raw, sizeof(raw));

	if (r)
		return r;
	if (!nx_parse_selected(raw, buf, len))
		nx_copy(buf, raw, len);
	return 0;
}

int nx_sysfs_read(const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];

	nx_path(rel, path, sizeof(path));
	return nx_read_path(path, buf, len);
}

bool nx_sysfs_access(const char *rel, int mode)
{
	char path[PATH_MAX];

	nx_path(rel, path, sizeof(path));
	return !access(path, mode);
}

int nx_write_path(const char *path, const char *val, int flags)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | flags);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	return (size_t)n == len ? 0 : -EIO;
}

int nx_sysfs_write(const char *rel, const char *val)
{
	char path[PATH_MAX];

	nx_path(rel, path, sizeof(path));
	return nx_write_path(path, val, O_TRUNC);
}

bool nx_parse_u64(const char *s, uint64_t *val)
{
	unsigned long long v;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	if (*end)
		return false;
	*val = v;
	return true;
}

bool nx_parse_bool(const char *s, bool *val)
{
	if (!strcmp(s, "Y") || !strcmp(s, "y") || !strcmp(s, "1")) {
		*val = true;
		return true;
	}
	if (!strcmp(s, "N") || !strcmp(s, "n") || !strcmp(s, "0")) {
		*val = false;
		return true;
	}
	return false;
}

int nx_sysfs_read_u64(const char *rel, uint64_t *val)
{
	char buf[64];
	int r = nx_sysfs_read(rel, buf, sizeof(buf));

	if (r)
		return r;
	return nx_parse_u64(buf, val) ? 0 : -EINVAL;
}

static int nx_save(const char *rel)
{
	struct nx_saved_table *t = nx_table();
	struct nx_saved *s;
	int i, r;

	for (i = 0; i < t->nr; i++)
		if (!strcmp(t->ent[i].rel, rel))
			return 0;
	if (t->nr == NX_PARAM_MAX)
		return -ENOSPC;
	s = &t->ent[t->nr];
	nx_path(rel, s->path, sizeof(s->path));
	r = nx_read_value(s->path, s->val, sizeof(s->val));
	if (r)
		return r;
	snprintf(s->rel, sizeof(s->rel), "%s", rel);
	t->nr++;
	return 0;
}

int nx_sysfs_set(const char *rel, const char *val)
{
	int r = nx_save(rel);

	return r ? r : nx_sysfs_write(rel, val);
}

int nx_sysfs_set_u64(const char *rel, uint64_t val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, val);
	return nx_sysfs_set(rel, buf);
}

static void nx_kvm_param_rel(const char *name, char *rel, size_t len)
{
	snprintf(rel, len, "module/kvm/parameters/%s", name);
}

int nx_kvm_param_read(const char *name, char *buf, size_t len)
{
	char rel[128];

	nx_kvm_param_rel(name, rel, sizeof(rel));
	return nx_sysfs_read(rel, buf, len);
}

int nx_kvm_param_set(const char *name, const char *val)
{
	char rel[128];

	nx_kvm_param_rel(name, rel, sizeof(rel));
	return nx_sysfs_set(rel, val);
}

/*
 * Whether @s still holds its saved value, and writing it back if not:
 * open, read and write only, for the signal path too.
 */
static int nx_restore_one(const struct nx_saved *s)
{
	char now[128];

	if (!nx_read_value(s->path, now, sizeof(now)) && !strcmp(now, s->val))
		return 0;
	return nx_write_path(s->path, s->val, O_TRUNC);
}

/* Newest first: a later change may depend on an earlier one. */
static void nx_restore_table(bool in_signal)
{
	struct nx_saved_table *t = nx_table();
	int i;

	for (i = t->nr - 1; i >= 0; i--) {
		struct nx_saved *s = &t->ent[i];

		if (!nx_restore_one(s))
			continue;
		if (in_signal)
			nx_signal_say("nx: could not restore ", s->path);
		else
			fprintf(stderr, "nx: could not restore %s to '%s'\n",
				s->rel, s->val);
	}
}

void nx_restore_all(void)
{
	nx_restore_table(false);
}

void nx_forget_saved(void)
{
	nx_table()->nr = 0;
}

static void nx_restore_on_signal(void)
{
	nx_restore_table(true);
}

void nx_install_restore_handlers(void)
{
	static bool installed;

	if (installed)
		return;
	installed = true;
	nx_table();
	atexit(nx_restore_all);
	nx_on_signal(nx_restore_on_signal);
}
