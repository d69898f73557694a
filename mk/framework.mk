# SPDX-License-Identifier: GPL-2.0-only
#
# Read by make *after* a kernel tree's tools/testing/selftests/kvm/Makefile
# (make -C $(KVM_DIR) -f Makefile -f framework.mk ...), so that the suite is
# compiled with exactly the flags, include paths and library objects that the
# tree's own KVM selftests use.  Nothing of the framework is copied: its
# version differences stay in include/nx_compat.h.  The same file builds the
# suite installed inside a kernel tree (mk/tree.mk).
#
# Inputs: NX_TOP (the suite's sources), NX_OUT (object folder), OUTPUT
# (where the framework's own objects go); optional NX_BIN (binary folder,
# default NX_OUT; it may refer to NX_ARCH_DIR, set below) and NX_LINK_FLAGS
# (default -static).

# The tree's folder of x86 tests, x86_64/ (6.1, 6.12) or x86/ (mainline),
# as its Makefile names it: UNAME_M (6.1), ARCH_DIR (6.12) or ARCH
# (mainline, which turns x86_64 into x86).
NX_ARCH_DIR := $(firstword $(foreach d,$(ARCH_DIR) $(UNAME_M) $(ARCH), \
		 $(if $(wildcard $(d)/*.c),$(d))))
ifeq ($(NX_ARCH_DIR),)
$(error $(CURDIR) has no x86 test folder (ARCH_DIR, UNAME_M, ARCH))
endif

NX_BIN ?= $(NX_OUT)
NX_LINK_FLAGS ?= -static

NX_TESTS := $(basename $(notdir $(wildcard $(NX_TOP)/x86_64/*_test.c)))
NX_LIB_OBJS := $(patsubst $(NX_TOP)/lib/%.c,$(NX_OUT)/lib/%.o, \
		 $(wildcard $(NX_TOP)/lib/*.c))
NX_TEST_OBJS := $(patsubst %,$(NX_OUT)/x86_64/%.o,$(NX_TESTS))
NX_TEST_BINS := $(addprefix $(NX_BIN)/,$(NX_TESTS))
NX_HDRS := $(wildcard $(NX_TOP)/include/*.h)

# Framework flavour, for include/nx_compat.h.
NX_FW_FLAGS := $(if $(shell grep -s 'define vm_get_stat' include/kvm_util.h), \
		  -DNX_FW_BARE_STAT_NAMES) \
	       $(if $(shell grep -s 'atoi_positive' include/test_util.h),, \
		  -DNX_FW_NO_ATOI_POSITIVE) \
	       $(if $(shell grep -sw 'vm_alloc_page' include/kvm_util.h), \
		  -DNX_FW_VM_ALLOC_PAGE) \
	       $(if $(shell grep -s 'struct kvm_mmu mmu;' include/kvm_util.h), \
		  -DNX_FW_VM_MMU) \
	       $(if $(shell grep -sE 'generic_svm_setup\(struct svm_test_data \*svm, void \*guest_rip\);' \
			   include/x86/svm_util.h include/x86_64/svm_util.h), \
		  -DNX_FW_SVM_OWN_STACK) \
	       $(if $(shell grep -sw 'pin_self_to_cpu' include/kvm_util.h), \
		  -DNX_FW_PIN_SELF_TO_CPU) \
	       $(if $(shell grep -sw 'kvm_pin_this_task_to_pcpu' \
			   include/kvm_util.h include/kvm_util_base.h), \
		  -DNX_FW_PIN_THIS_TASK) \
	       $(if $(shell grep -sw 'get_kvm_param_bool' \
			   include/kvm_util.h include/kvm_util_base.h), \
		  -DNX_FW_KVM_PARAM_BOOL)
# 6.12's lib.mk builds everything with _GNU_SOURCE (CPU_SET, ...); 6.1's
# only where a framework file asks for it.
NX_FW_FLAGS += $(if $(filter -D_GNU_SOURCE%,$(CFLAGS)),,-D_GNU_SOURCE)

NX_CFLAGS = $(CFLAGS) $(NX_FW_FLAGS) -I$(NX_TOP)/include

.PHONY: nx-tests nx-print-cflags
nx-tests: $(NX_TEST_BINS)

nx-print-cflags:
	@echo $(CFLAGS)

$(NX_LIB_OBJS): $(NX_OUT)/lib/%.o: $(NX_TOP)/lib/%.c $(NX_HDRS)
	@mkdir -p $(@D)
	$(call msg,CC,nx,$@)
	$(Q)$(CC) $(NX_CFLAGS) $(CPPFLAGS) -c $< -o $@

$(NX_TEST_OBJS): $(NX_OUT)/x86_64/%.o: $(NX_TOP)/x86_64/%.c $(NX_HDRS)
	@mkdir -p $(@D)
	$(call msg,CC,nx,$@)
	$(Q)$(CC) $(NX_CFLAGS) $(CPPFLAGS) -c $< -o $@

# Static by default, so that the binaries run in a busybox initramfs as
# they are.
$(NX_TEST_BINS): $(NX_BIN)/%: $(NX_OUT)/x86_64/%.o $(NX_LIB_OBJS) $(LIBKVM_OBJS)
	@mkdir -p $(@D)
	$(call msg,LINK,nx,$@)
	$(Q)$(CC) $(NX_CFLAGS) $(NX_LINK_FLAGS) $(LDFLAGS) $^ $(LDLIBS) \
		$(call nx_extra_libs,$@) -o $@

# libnuma for the NUMA placement test only.  Chosen in the recipe: a
# target-specific variable would name the binary before a kernel tree's
# make has set OUTPUT (mk/tree.mk).
nx_extra_libs = $(if $(filter %/nx_numa_test,$(1)),-lnuma)

# Keep the objects: an edit to one file recompiles that file only.
.SECONDARY: $(NX_TEST_OBJS) $(NX_LIB_OBJS)
