// SPDX-License-Identifier: GPL-2.0-only
/* L1 running L2 under nested paging over the regions; see nx_nested.h. */
#include <string.h>

#include "nx_compat.h"
#include "nx_nested.h"
#include "nx_skip.h"
#include "svm_util.h"

/* x86 page-table bits; an NPT entry is an ordinary long-mode entry. */
#define NX_PTE_P	(1ULL << 0)
#define NX_PTE_RW	(1ULL << 1)
/* Nested page walks are user accesses. */
#define NX_PTE_US	(1ULL << 2)
#define NX_PTE_PS	(1ULL << 7)
#define NX_PTE_ADDR	0x000ffffffffff000ULL

/* One NPT level maps 9 bits; level 1 maps 4K pages. */
#define NX_LEVEL_SHIFT(level)	(12 + 9 * ((level) - 1))

/* Slot 0 (the guest's code, data and page tables) lies below this. */
#define NX_LOW_MEM	(4ULL << 30)

#define NX_VMMCALL_LEN	3

#ifndef NX_FW_SVM_OWN_STACK
/* L2's stack, where the framework does not allocate one. */
static uint8_t nx_l2_stack[16384] __aligned(16);
#endif

/*
 * L2 runs the steps for level 2 and leaves every other one to L1: it exits
 * with VMMCALL, and L1 enters it again when a step for level 2 comes.
 */
static void nx_l2_main(void)
{
	for (;;) {
		if (nx_guest_cmd_level() == NX_L2)
			nx_guest_step();
		else
			__asm__ __volatile__("vmmcall" : : : "memory");
	}
}

void nx_nested_l1_main(void *data, uint64_t npt_root)
{
	struct svm_test_data *svm = data;
	struct vmcb *vmcb = svm->vmcb;

#ifdef NX_FW_SVM_OWN_STACK
	generic_svm_setup(svm, nx_l2_main);
#else
	generic_svm_setup(svm, nx_l2_main, &nx_l2_stack[sizeof(nx_l2_stack)]);
#endif
#ifdef SVM_MISC_ENABLE_NP
	vmcb->control.misc_ctl |= SVM_MISC_ENABLE_NP;
#else
	vmcb->control.nested_ctl |= SVM_NESTED_CTL_NP_ENABLE;
#endif
	vmcb->control.nested_cr3 = npt_root;
	GUEST_SYNC(0);
	for (;;) {
		if (nx_guest_cmd_level() != NX_L2) {
			nx_guest_step();
			continue;
		}
		run_guest(vmcb, svm->vmcb_gpa);
		if (vmcb->control.exit_code != SVM_EXIT_VMMCALL)
			nx_guest_fail_u64("L2 exit code, expected VMMCALL",
					  vmcb->control.exit_code);
		vmcb->save.rip += NX_VMMCALL_LEN;
	}
}

void nx_nested_require(void)
{
	if (!kvm_cpu_has(X86_FEATURE_SVM))
		nx_skip("KVM offers L1 no SVM (kvm_amd nested=1 on an AMD host; nested VMX is not covered)");
	if (!kvm_cpu_has(X86_FEATURE_NPT))
		nx_skip("KVM offers L1 no nested paging (kvm_amd npt=0)");
}

static uint64_t nx_npt_table(struct kvm_vm *vm)
{
	uint64_t gpa = vm_alloc_page_table(vm);

	memset(addr_gpa2hva(vm, gpa), 0, vm->page_size);
	return gpa;
}

static uint64_t *nx_npt_entry(struct kvm_vm *vm, uint64_t table, uint64_t gpa,
			      int level)
{
	uint64_t *t = addr_gpa2hva(vm, table);

	return &t[(gpa >> NX_LEVEL_SHIFT(level)) & 511];
}

/* Map [@gpa, @gpa + @size) one to one with entries of @leaf_level. */
static void nx_npt_map(struct kvm_vm *vm, uint64_t root, uint64_t gpa,
		       uint64_t size, int leaf_level)
{
	uint64_t leaf = 1ULL << NX_LEVEL_SHIFT(leaf_level), end = gpa + size;
	uint64_t table, *e;
	int level;

	for (; gpa < end; gpa += leaf) {
		table = root;
		for (level = nx_vm_pgtable_levels(vm); level > leaf_level; level--) {
			e = nx_npt_entry(vm, table, gpa, level);
			if (!(*e & NX_PTE_P))
				*e = nx_npt_table(vm) | NX_PTE_P | NX_PTE_RW |
				     NX_PTE_US;
			TEST_ASSERT(!(*e & NX_PTE_PS),
				    "NPT: 0x%lx already mapped by a level %d leaf",
				    gpa, level);
			table = *e & NX_PTE_ADDR;
		}
		*nx_npt_entry(vm, table, gpa, leaf_level) =
			gpa | NX_PTE_P | NX_PTE_RW | NX_PTE_US | NX_PTE_PS;
	}
}

void nx_nested_setup(struct kvm_vcpu *vcpu, const struct nx_regions *r)
{
	struct kvm_vm *vm = vcpu->vm;
	uint64_t root, svm_gva, size = r->nr * NX_REGION_SIZE;
	bool gb = r->src == VM_MEM_SRC_ANONYMOUS_HUGETLB_1GB;

	vcpu_alloc_svm(vm, &svm_gva);
	root = nx_npt_table(vm);
	TEST_ASSERT(r->gpa >= NX_LOW_MEM,
		    "regions at 0x%lx: expected above the low 4G that L2 shares",
		    r->gpa);
	nx_npt_map(vm, root, 0, NX_LOW_MEM, 3);
	nx_npt_map(vm, root, r->gpa,
		   gb ? align_up(size, 1ULL << 30) : size, gb ? 3 : 2);
	vcpu_args_set(vcpu, 2, svm_gva, root);
}
