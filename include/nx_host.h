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

#define NX_HUGEPAGES_2M "kernel/mm/hugepages/hugepages-2048kB"
#define NX_THP_ENABLED "kernel/mm/transparent_hugepage/enabled"

void nx_require_root(void);

/* At least @n free 2M hugetlb pages, growing the pool if needed. */
void nx_require_hugepages_2m(uint64_t n);

/*
 * THP only where asked for with MADV_HUGEPAGE: the suite's regions ask for
 * it, the framework's slot 0 (guest code, stack, page tables) does not, so
 * no stray huge page there can add NX splits to the counts.
 */
void nx_require_thp_madvise(void);

/* Bytes of [hva, hva+len) that the host backs with transparent huge pages. */
uint64_t nx_thp_backed_bytes(const void *hva, uint64_t len);

/* Set a KVM module parameter or skip saying why it could not be set. */
void nx_require_kvm_param(const char *name, const char *val);

/*
 * The MMU KVM gives guests, fixed when the modules load (run_nx_tests.sh
 * --mmu): the TDP MMU, the legacy (shadow) MMU over TDP (kvm.tdp_mmu=N),
 * or shadow paging (kvm_amd.npt=0 / kvm_intel.ept=0, also the shadow MMU).
 */
enum nx_mmu { NX_MMU_TDP, NX_MMU_LEGACY, NX_MMU_SHADOW };

enum nx_mmu nx_mmu_mode(void);
/* "mmu=tdp", "mmu=legacy" or "mmu=shadow", for messages and skip reasons. */
const char *nx_mmu_name(enum nx_mmu mmu);

#endif /* NX_HOST_H */
