# SPDX-License-Identifier: GPL-2.0-only
#
# The suite installed inside a kernel tree (scripts/install_tree.sh): this
# file and the suite's sources are copied to tools/testing/selftests/kvm/nx/
# and one line appended to that folder's Makefile includes this file.  Being
# read after the tree's lib.mk, it registers the tests itself: the binaries
# join TEST_GEN_PROGS (run_tests, install, emit_tests, clean) and `all`.
# They are built with mk/framework.mk, as in the suite's own build, but
# linked like the tree's tests (dynamically), next to them in x86_64/ (6.1,
# 6.12) or x86/ (mainline).  `make nx-tests` builds only these.

ifneq ($(filter x86 x86_64,$(ARCH)),)
NX_TOP := $(patsubst %/,%,$(abspath $(dir $(lastword $(MAKEFILE_LIST)))))
NX_OUT := $(OUTPUT)/nx/obj
NX_BIN = $(OUTPUT)/$(NX_ARCH_DIR)
NX_LINK_FLAGS :=

include $(NX_TOP)/framework.mk

TEST_GEN_PROGS += $(NX_TEST_BINS)
EXTRA_CLEAN += $(NX_OUT)
all: $(NX_TEST_BINS)
endif
