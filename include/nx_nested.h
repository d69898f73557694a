/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A nested guest over the regions: the VM's guest (L1) runs a guest of its
 * own (L2) under nested paging, and both serve nx_guest_do_level() steps.
 *
 * L1's nested page table maps L2's physical memory one to one: the low 4G
 * (slot 0: code, stack, page tables) with 1G entries, the regions with
 * entries of their backing's size (2M, or 1G for 1G hugetlb).  KVM maps an
 * L2 access through the shadow MMU that shadows L1's nested page table,
 * huge where L1's entry and the host's page both are, while L1's own
 * accesses go through the MMU of the VM (the TDP MMU by default): a VM
 * whose two levels execute in different regions fills both of KVM's NX
 * lists at once.  L2 shares L1's page tables (the same CR3), so a region
 * has the same address at both levels.
 *
 * AMD (SVM with NPT) only: a host without it skips.  The nested page table
 * is built here rather than with the framework's helpers, which only the
 * 7.x framework has (vm_enable_npt(), tdp_map()): the same code then runs
 * on every kernel series the suite builds for.
 */
#ifndef NX_NESTED_H
#define NX_NESTED_H

#include "nx_guest.h"

/* The steps' levels (nx_guest_do_level()). */
#define NX_L1	1
#define NX_L2	2

/* L1's entry point, for the vCPU of a nested VM. */
void nx_nested_l1_main(void *svm, uint64_t npt_root);

/*
 * Skip unless KVM offers L1 SVM with nested paging (kvm_amd nested=1 and
 * npt=1).
 */
void nx_nested_require(void);

/*
 * Give L1 (@vcpu, created at nx_nested_l1_main) its SVM pages and the
 * nested page table over slot 0 and the regions @r, so that it enters L2
 * at the first step for level 2.
 */
void nx_nested_setup(struct kvm_vcpu *vcpu, const struct nx_regions *r);

#endif /* NX_NESTED_H */
