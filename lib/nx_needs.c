// SPDX-License-Identifier: GPL-2.0-only
/* A case's declared needs, checked and described; see include/nx_needs.h. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <linux/kernel.h>

#include "nx_host.h"
#include "nx_needs.h"
#include "nx_params.h"
#include "nx_traits.h"

#define TRACEFS			"kernel/tracing"
#define KPROBE_EVENTS		TRACEFS "/kprobe_events"

static const struct {
	unsigned int flag;
	const char *name;
} flag_names[] = {
	{ NX_NEEDS_ROOT, "root" },
	{ NX_NEEDS_KPROBES, "kprobes" },
	{ NX_NEEDS_CGROUP2, "cgroup v2" },
	{ NX_NEEDS_NESTED, "nested SVM with NPT" },
	{ NX_NEEDS_NUMA, "2 NUMA nodes" },
	{ NX_NEEDS_THP, "transparent hugepages" },
	{ NX_NEEDS_KVM_DEBUGFS, "KVM debugfs" },
};

static const char *const mmu_names[] = { "tdp", "legacy", "shadow" };

static bool module_bool(const char *rel)
{
	char buf[16];
	bool val;

	return !nx_sysfs_read(rel, buf, sizeof(buf)) &&
	       nx_parse_bool(buf, &val) && val;
}

/* The flag's condition; false with the reason in @why. */
static bool flag_met(unsigned int flag, char *why, size_t len)
{
	switch (flag) {
	case NX_NEEDS_ROOT:
		if (!geteuid())
			return true;
		snprintf(why, len, "needs root (module parameters, hugepage pools)");
		return false;
	case NX_NEEDS_KPROBES:
		/* An unmounted tracefs: the case mounts it and looks again. */
		if (nx_sysfs_access(KPROBE_EVENTS, W_OK) ||
		    (nx_sysfs_access(TRACEFS, F_OK) &&
		     !nx_sysfs_access(TRACEFS "/instances", F_OK)))
			return true;
		snprintf(why, len, "needs kprobes: no writable /sys/" KPROBE_EVENTS " (root, CONFIG_KPROBE_EVENTS)");
		return false;
	case NX_NEEDS_CGROUP2:
		if (nx_sysfs_access("fs/cgroup/cgroup.controllers", R_OK))
			return true;
		snprintf(why, len, "needs cgroup v2 mounted at /sys/fs/cgroup");
		return false;
	case NX_NEEDS_NESTED:
		if (module_bool("module/kvm_amd/parameters/nested") &&
		    module_bool("module/kvm_amd/parameters/npt"))
			return true;
		snprintf(why, len, "needs nested SVM with NPT (kvm_amd nested=1 npt=1; nested VMX is not covered)");
		return false;
	case NX_NEEDS_NUMA:
		if (nx_sysfs_access("devices/system/node/node1", F_OK))
			return true;
		snprintf(why, len, "needs 2 NUMA nodes, the host has 1");
		return false;
	case NX_NEEDS_THP:
		if (nx_sysfs_access(NX_THP_ENABLED, R_OK))
			return true;
		snprintf(why, len, "needs transparent hugepages (/sys/" NX_THP_ENABLED ")");
		return false;
	case NX_NEEDS_KVM_DEBUGFS:
		if (nx_sysfs_access("kernel/debug/kvm", R_OK))
			return true;
		snprintf(why, len, "needs KVM's debugfs (/sys/kernel/debug/kvm)");
		return false;
	}
	return true;
}

/*
 * @n pages of pool @pool: free already, or a pool that root can grow (the
 * case grows it and puts it back).
 */
static bool hugepages_met(const char *pool, const char *size, unsigned int n,
			  char *why, size_t len)
{
	char rel[128];
	uint64_t free_pages;

	if (!n)
		return true;
	snprintf(rel, sizeof(rel), "%s/free_hugepages", pool);
	if (nx_sysfs_read_u64(rel, &free_pages)) {
		snprintf(why, len, "needs %u %s hugepages: no %s pool", n, size, size);
		return false;
	}
	if (free_pages >= n || !geteuid())
		return true;
	snprintf(why, len, "needs %u free %s hugepages, the host has %lu and only root can grow the pool",
		 n, size, (unsigned long)free_pages);
	return false;
}

static void append(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*at >= len)
		return;
	if (*at)
		*at += snprintf(buf + *at, len - *at, ", ");
	if (*at >= len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	*at += w > 0 ? w : 0;
}

bool nx_needs_met(const struct nx_needs *n, char *why, size_t len)
{
	enum nx_mmu mmu;
	size_t i;
	int t;

	for (i = 0; i < ARRAY_SIZE(flag_names); i++)
		if ((n->flags & flag_names[i].flag) &&
		    !flag_met(flag_names[i].flag, why, len))
			return false;
	if (!hugepages_met(NX_HUGEPAGES_2M, "2M", n->hugepages_2m, why, len) ||
	    !hugepages_met(NX_HUGEPAGES_1G, "1G", n->hugepages_1g, why, len))
		return false;
	if (!n->mmus && !n->traits)
		return true;
	mmu = nx_mmu_mode();
	if (n->mmus && !(n->mmus & (1U << mmu))) {
		char modes[64] = "";
		size_t at = 0;

		for (i = 0; i < 3; i++)
			if (n->mmus & (1U << i))
				append(modes, sizeof(modes), &at, "mmu=%s", mmu_names[i]);
		snprintf(why, len, "runs under %s only, KVM has %s", modes,
			 nx_mmu_name(mmu));
		return false;
	}
	for (t = 0; t < NR_NX_TRAITS; t++) {
		if (!(n->traits & (1U << t)) || nx_kernel_has(t))
			continue;
		snprintf(why, len, "needs a KVM where %s; %s (%s) does not",
			 nx_trait_info(t)->name, nx_kernel_release(),
			 nx_mmu_name(mmu));
		return false;
	}
	return true;
}

void nx_needs_describe(const struct nx_needs *n, char *buf, size_t len)
{
	size_t i, at = 0;
	int t;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(flag_names); i++)
		if (n->flags & flag_names[i].flag)
			append(buf, len, &at, "%s", flag_names[i].name);
	if (n->hugepages_2m)
		append(buf, len, &at, "%u 2M hugepages", n->hugepages_2m);
	if (n->hugepages_1g)
		append(buf, len, &at, "%u 1G hugepages", n->hugepages_1g);
	for (i = 0; i < 3; i++)
		if (n->mmus & (1U << i))
			append(buf, len, &at, "mmu=%s", mmu_names[i]);
	for (t = 0; t < NR_NX_TRAITS; t++)
		if (n->traits & (1U << t))
			append(buf, len, &at, "trait: %s", nx_trait_info(t)->name);
}
