// SPDX-License-Identifier: GPL-2.0-only
/* Host prerequisites; see include/nx_host.h. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "nx_compat.h"
#include "nx_host.h"
#include "nx_params.h"
#include "nx_skip.h"

void nx_require_root(void)
{
	if (geteuid())
		nx_skip("needs root (module parameters, hugepage pools)");
}

void nx_require_hugepages(const char *pool, const char *what, uint64_t n)
{
	uint64_t free_pages, nr;
	char rel[128];

	snprintf(rel, sizeof(rel), "%s/free_hugepages", pool);
	if (nx_sysfs_read_u64(rel, &free_pages))
		nx_skip("no %s hugetlb pool (%s)", what, pool);
	if (free_pages >= n)
		return;
	snprintf(rel, sizeof(rel), "%s/nr_hugepages", pool);
	if (!nx_sysfs_read_u64(rel, &nr))
		nx_sysfs_set_u64(rel, nr + n - free_pages);
	snprintf(rel, sizeof(rel), "%s/free_hugepages", pool);
	nx_sysfs_read_u64(rel, &free_pages);
	if (free_pages < n)
		nx_skip("needs %" PRIu64 " free %s hugepages, the host could provide %" PRIu64,
			n, what, free_pages);
}

void nx_require_hugepages_2m(uint64_t n)
{
	nx_require_hugepages(NX_HUGEPAGES_2M, "2M", n);
}

void nx_require_hugepages_1g(uint64_t n)
{
	nx_require_hugepages(NX_HUGEPAGES_1G, "1G", n);
}

void nx_require_thp_madvise(void)
{
	char buf[128], mode[32];

	if (nx_sysfs_read(NX_THP_ENABLED, buf, sizeof(buf)) ||
	    !nx_parse_selected(buf, mode, sizeof(mode)))
		nx_skip("no transparent hugepage support (" NX_THP_ENABLED ")");
	if (!strcmp(mode, "madvise"))
		return;
	if (nx_sysfs_set(NX_THP_ENABLED, "madvise"))
		nx_skip("could not set " NX_THP_ENABLED " to madvise (was %s)", mode);
}

void nx_require_no_numa_balancing(void)
{
	uint64_t mode;

	/* Absent: a kernel without NUMA balancing. */
	if (nx_sysfs_read_u64(NX_NUMA_BALANCING, &mode) || !mode)
		return;
	if (nx_sysfs_set(NX_NUMA_BALANCING, "0"))
		nx_skip("could not turn off NUMA balancing (/proc/sys/kernel/numa_balancing is %" PRIu64 ")",
			mode);
}

uint64_t nx_thp_backed_bytes(const void *hva, uint64_t len)
{
	uintptr_t start = (uintptr_t)hva, end = start + len;
	FILE *f = fopen("/proc/self/smaps", "r");
	uintptr_t lo = 0, hi = 0;
	uint64_t total = 0, kb;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2)
			continue;
		if (lo < end && hi > start &&
		    sscanf(line, "AnonHugePages: %" SCNu64 " kB", &kb) == 1)
			total += kb * 1024;
	}
	fclose(f);
	return total;
}

bool nx_tdp_mmu_on(void)
{
	return nx_mmu_mode() == NX_MMU_TDP;
}

void nx_require_kvm_param(const char *name, const char *val)
{
	char buf[64];

	if (nx_kvm_param_read(name, buf, sizeof(buf)))
		nx_skip("kvm module has no parameter %s", name);
	if (nx_kvm_param_set(name, val))
		nx_skip("could not set kvm.%s=%s (it is %s)", name, val, buf);
}

enum nx_mmu nx_mmu_mode(void)
{
	/*
	 * The framework's readers end the process where a parameter is
	 * absent, and the harness asks before a case runs: without a vendor
	 * module the mode is the default, and each case skips on its own.
	 */
	if (!nx_sysfs_access("module/kvm_amd/parameters", F_OK) &&
	    !nx_sysfs_access("module/kvm_intel/parameters", F_OK))
		return NX_MMU_TDP;
	if (!kvm_is_tdp_enabled())
		return NX_MMU_SHADOW;
	/* 6.3+ read back the TDP MMU in use, 6.1 the one asked for. */
	return nx_kvm_param_bool("tdp_mmu") ? NX_MMU_TDP : NX_MMU_LEGACY;
}

const char *nx_mmu_name(enum nx_mmu mmu)
{
	switch (mmu) {
	case NX_MMU_TDP:
		return "mmu=tdp";
	case NX_MMU_LEGACY:
		return "mmu=legacy";
	default:
		return "mmu=shadow";
	}
}
