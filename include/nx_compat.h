/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one place where differences between KVM selftest framework versions
 * (Debian 6.1, Debian 6.12, mainline) are absorbed.  Tests and lib/ code use
 * only the nx_* spellings below for anything that differs.
 *
 * mk/framework.mk detects the framework flavour from the tree and passes:
 *   NX_FW_BARE_STAT_NAMES  vm_get_stat(vm, pages_2m) takes a bare name
 *                          (mainline, 2025+) instead of a string.
 */
#ifndef NX_COMPAT_H
#define NX_COMPAT_H

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "ucall_common.h"

#ifdef NX_FW_BARE_STAT_NAMES
#define nx_vm_stat(vm, name)	vm_get_stat(vm, name)
#else
#define nx_vm_stat(vm, name)	vm_get_stat(vm, #name)
#endif

#endif /* NX_COMPAT_H */
