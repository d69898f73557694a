/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host prerequisites a case declares before it builds a VM.  Each either
 * makes the host ready (saving what it changes, see nx_params.h) or ends the
 * case as a KSFT skip with a one-line reason: never a failure, never a
 * silent pass.
 */
#ifndef NX_HOST_H
#define NX_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nx_traits.h"

#define NX_HUGEPAGES_2M "kernel/mm/hugepages/hugepages-2048kB"
#define NX_HUGEPAGES_1G "kernel/mm/hugepages/hugepages-1048576kB"
#define NX_THP_ENABLED "kernel/mm/transparent_hugepage/enabled"
/* Relative to /sys like every saved knob, so that it is restored too. */
#define NX_NUMA_BALANCING "../proc/sys/kernel/numa_balancing"

void nx_require_root(void);

/*
 * At least @n free hugetlb pages in @pool (NX_HUGEPAGES_*), growing the
 * pool if needed; @what names the size in the skip reason.
 */
void nx_require_hugepages(const char *pool, const char *what, uint64_t n);

/* At least @n free 2M hugetlb pages, growing the pool if needed. */
void nx_require_hugepages_2m(uint64_t n);

/*
 * At least @n free 1G hugetlb pages.  A 1G page needs 1G of contiguous
 * free memory, which a running system rarely has: reserve them at boot
 * (hugepagesz=1G hugepages=N; the VM does, see NX_HUGEPAGES_1G).
 */
void nx_require_hugepages_1g(uint64_t n);

/*
 * THP only where asked for with MADV_HUGEPAGE: the suite's regions ask for
 * it, the framework's slot 0 (guest code, stack, page tables) does not, so
 * no stray huge page there can add NX splits to the counts.
 */
void nx_require_thp_madvise(void);

/*
 * No automatic NUMA balancing: on a NUMA host it periodically unmaps the
 * test's memory to sample accesses, and KVM zaps the 4K mappings behind it
 * (MMU notifier), which moves pages_4k while the test counts exactly.
 */
void nx_require_no_numa_balancing(void);

/* Bytes of [hva, hva+len) that the host backs with transparent huge pages. */
uint64_t nx_thp_backed_bytes(const void *hva, uint64_t len);

/* KVM uses the TDP MMU: nested paging on and kvm.tdp_mmu=Y. */
bool nx_tdp_mmu_on(void);

/* Set a KVM module parameter or skip saying why it could not be set. */
void nx_require_kvm_param(const char *name, const char *val);

/*
 * The MMU KVM gives guests, fixed when the modules load (run_nx_tests.sh
 * --mmu): the TDP MMU, the legacy (shadow) MMU over TDP (kvm.tdp_mmu=N),
 * or shadow paging (kvm_amd.npt=0 / kvm_intel.ept=0, also the shadow MMU).
 */
enum nx_mmu { NX_MMU_TDP, NX_MMU_LEGACY, NX_MMU_SHADOW };

enum nx_mmu nx_mmu_mode(void);
/*
 * nx_kernel_has() for the MMU that maps a nested guest's memory, which is
 * the shadow MMU whatever mode the VM runs in.
 */
bool nx_kernel_has_in(enum nx_trait t, enum nx_mmu mmu);
/* "mmu=tdp", "mmu=legacy" or "mmu=shadow", for messages and skip reasons. */
const char *nx_mmu_name(enum nx_mmu mmu);

#endif /* NX_HOST_H */
