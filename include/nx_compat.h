/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one place where differences between KVM selftest framework versions
 * (Debian 6.1, Debian 6.12, mainline as in Debian 7.3) are absorbed.  Tests
 * and lib/ code use only the nx_* spellings below for anything that differs.
 *
 * mk/framework.mk detects the framework flavour from the tree and passes:
 *   NX_FW_BARE_STAT_NAMES  vm_get_stat(vm, pages_2m) takes a bare name
 *                          (mainline, 2025+) instead of a string.
 *   NX_FW_NO_ATOI_POSITIVE test_util.h has no atoi_positive() (6.1).
 *   NX_FW_VM_ALLOC_PAGE    a guest page comes from vm_alloc_page()
 *                          (mainline, Debian 7.3) instead of
 *                          vm_vaddr_alloc_page().
 *   NX_FW_VM_MMU           the guest's paging is vm->mmu (mainline, with
 *                          a second stage for nested TDP), not fields of
 *                          the VM.
 *   NX_FW_SVM_OWN_STACK    vcpu_alloc_svm() allocates L2's stack and
 *                          generic_svm_setup() takes none (mainline).
 *   NX_FW_PIN_SELF_TO_CPU  pin_self_to_cpu() pins the calling thread
 *                          (mainline, Debian 7.3).
 *   NX_FW_PIN_THIS_TASK    kvm_pin_this_task_to_pcpu() does (6.12).
 *   NX_FW_KVM_PARAM_BOOL   get_kvm_param_bool() reads a bool parameter of
 *                          kvm.ko (6.12, mainline; 6.1 has only the
 *                          kvm_intel and kvm_amd ones).
 * and -D_GNU_SOURCE where the framework's CFLAGS lack it (6.1).
 * Guest asserts are told apart here by GUEST_FAIL, a macro of 6.6+.
 */
#ifndef NX_COMPAT_H
#define NX_COMPAT_H

#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "ucall_common.h"

#include "nx_params.h"

#ifdef NX_FW_BARE_STAT_NAMES
#define nx_vm_stat(vm, name)	vm_get_stat(vm, name)
#else
#define nx_vm_stat(vm, name)	vm_get_stat(vm, #name)
#endif

/*
 * A guest failure with one value, and the host's report of it.  6.6+
 * guests format the message themselves (GUEST_FAIL); older ones pass a
 * fixed string and raw values, which the host formats.
 */
#ifdef GUEST_FAIL
#define nx_guest_fail_u64(msg, val)	GUEST_FAIL(msg ": %lu", (uint64_t)(val))
#define nx_report_guest_assert(uc)	REPORT_GUEST_ASSERT(uc)
#else
#define nx_guest_fail_u64(msg, val)	\
	__GUEST_ASSERT(false, msg, 1, (uint64_t)(val))
#define nx_report_guest_assert(uc)	\
	REPORT_GUEST_ASSERT_1(uc, "value: %lu")
#endif

/*
 * One guest page, mapped, and its guest virtual address:
 * vm_vaddr_alloc_page() in 6.1 and 6.12, vm_alloc_page() in mainline (7.3).
 */
#ifdef NX_FW_VM_ALLOC_PAGE
#define nx_vm_alloc_page(vm)	vm_alloc_page(vm)
#else
#define nx_vm_alloc_page(vm)	vm_vaddr_alloc_page(vm)
#endif

/* Levels of the guest's page tables (4, or 5 with LA57). */
#ifdef NX_FW_VM_MMU
#define nx_vm_pgtable_levels(vm)	((vm)->mmu.pgtable_levels)
#else
#define nx_vm_pgtable_levels(vm)	((vm)->pgtable_levels)
#endif

#ifdef NX_FW_NO_ATOI_POSITIVE
static inline uint32_t nx_atoi_positive(const char *name, const char *num_str)
{
	char *end;
	long num;

	errno = 0;
	num = strtol(num_str, &end, 0);
	TEST_ASSERT(!errno && end != num_str && !*end && num > 0 &&
		    num <= INT32_MAX,
		    "%s must be a positive integer, got '%s'", name, num_str);
	return num;
}
#else
#define nx_atoi_positive(name, num_str)	atoi_positive(name, num_str)
#endif

/* Pin the calling thread to @cpu, or fail the test. */
#if defined(NX_FW_PIN_SELF_TO_CPU)
#define nx_pin_self_to_cpu(cpu)	pin_self_to_cpu(cpu)
#elif defined(NX_FW_PIN_THIS_TASK)
#define nx_pin_self_to_cpu(cpu)	kvm_pin_this_task_to_pcpu(cpu)
#else
static inline void nx_pin_self_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	TEST_ASSERT(!sched_setaffinity(0, sizeof(set), &set),
		    "sched_setaffinity(CPU %d)", cpu);
}
#endif

/*
 * A bool parameter of kvm.ko; as with the framework's reader, the test ends
 * (a skip) where it is absent and fails where it is no bool.
 */
#ifdef NX_FW_KVM_PARAM_BOOL
#define nx_kvm_param_bool(param)	get_kvm_param_bool(param)
#else
static inline bool nx_kvm_param_bool(const char *param)
{
	char buf[16];
	bool val;

	__TEST_REQUIRE(!nx_kvm_param_read(param, buf, sizeof(buf)),
		       "kvm.%s not available", param);
	TEST_ASSERT(nx_parse_bool(buf, &val),
		    "kvm.%s: expected Y or N, reads '%s'", param, buf);
	return val;
}
#endif

#endif /* NX_COMPAT_H */
