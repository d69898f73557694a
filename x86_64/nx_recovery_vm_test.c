// SPDX-License-Identifier: GPL-2.0-only
/*
 * NX huge pages per VM.
 *
 * KVM_CAP_VM_DISABLE_NX_HUGE_PAGES lets a VM opt out of the mitigation, but
 * only for a process with CAP_SYS_BOOT (it could otherwise bring the iTLB
 * multihit erratum back to a host).  A VM that opted out must neither split
 * nor be touched by recovery while a VM beside it, in the same process, is;
 * and recovery of one VM must not change the counters of another.
 */
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_poll.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_vm.h"

#define NR_REGIONS		8

/* Raise or drop CAP_SYS_BOOT in this thread's effective set. */
static void set_cap_sys_boot(bool on)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	int r;

	r = syscall(SYS_capget, &hdr, data);
	TEST_ASSERT(!r, "capget");
	if (on)
		data[0].effective |= 1U << CAP_SYS_BOOT;
	else
		data[0].effective &= ~(1U << CAP_SYS_BOOT);
	r = syscall(SYS_capset, &hdr, data);
	TEST_ASSERT(!r, "capset");
}

static void run_needs_cap_sys_boot(const struct nx_case *c)
{
	struct kvm_vm *vm;
	int r;

	nx_require_root();
	vm = vm_create(1);
	__TEST_REQUIRE(kvm_has_cap(KVM_CAP_VM_DISABLE_NX_HUGE_PAGES),
		       "KVM lacks KVM_CAP_VM_DISABLE_NX_HUGE_PAGES");
	set_cap_sys_boot(false);
	r = __vm_disable_nx_huge_pages(vm);
	TEST_ASSERT(r == -1 && errno == EPERM,
		    "KVM_CAP_VM_DISABLE_NX_HUGE_PAGES without CAP_SYS_BOOT: expected -1 and errno EPERM, got %d",
		    r);
	set_cap_sys_boot(true);
	r = __vm_disable_nx_huge_pages(vm);
	TEST_ASSERT(!r,
		    "KVM_CAP_VM_DISABLE_NX_HUGE_PAGES with CAP_SYS_BOOT: expected 0, got %d",
		    r);
	kvm_vm_free(vm);
}

/*
 * @other_disabled: the second VM opted out and executes in its regions too;
 * otherwise it only reads them.  Either way recovery of the first VM must
 * leave every counter of the second as it was.
 */
static void run_two_vms(const struct nx_case *c)
{
	bool other_disabled = c->arg;
	struct nx_vm split, other;

	nx_prepare_split_host(2 * NR_REGIONS, NX_PERIOD_MS);
	nx_vm_create(&other, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, NR_REGIONS,
		     true, other_disabled);
	nx_vm_create(&split, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, NR_REGIONS,
		     true, false);
	nx_vm_read_all(&other);
	if (other_disabled)
		nx_vm_exec_all(&other);
	nx_vm_read_all(&split);
	nx_vm_exec_all(&split);
	nx_vm_recover_all(&split, NX_PERIOD_MS, "recovery", "recovery_ms");
	nx_vm_expect(&other, "recovery of the other VM");
	nx_vm_read_all(&split);
	nx_vm_expect(&other, "the other VM mapping huge again");
	nx_vm_free(&split);
	nx_vm_free(&other);
}

static const struct nx_case cases[] = {
	{ "disable_needs_cap_sys_boot", run_needs_cap_sys_boot,
	  .needs = { .flags = NX_NEEDS_ROOT } },
	{ "hugetlb_2m.disabled_vm_untouched", run_two_vms, (void *)1,
	  .needs = NX_SPLIT_HOST_NEEDS(2 * NR_REGIONS) },
	{ "hugetlb_2m.other_vm_undisturbed", run_two_vms, NULL,
	  .needs = NX_SPLIT_HOST_NEEDS(2 * NR_REGIONS) },
};

static const struct nx_suite suite = {
	.name = "nx_recovery_vm",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
};

NX_SUITE_MAIN(suite)
