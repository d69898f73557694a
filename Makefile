# SPDX-License-Identifier: GPL-2.0-only
#
# make                 build the suite (static binaries in build/)
# make SERIES=6.1      ... against Debian's 6.1 framework, into build/6.1/
# make SERIES=7.3     ... against Debian's 7.3 framework, into build/7.3/
# make KSRC=/path      ... against that kernel tree's KVM selftest framework
# make KSRC=/path install-tree    put the suite into that tree's KVM selftests
# make KSRC=/path uninstall-tree  ... and take it out again
# make upstream-series  the finding's fix and its regression test as a git
#                      format-patch series for Debian's 7.3 tree, into
#                      build/upstream/ (OUT=DIR: there)
# make check           the project's own tests (see README.md)
# make check-quick     ... those that boot no VM: build, unit, bats, lint
# make durations      configs/durations.txt from the newest run (--jobs hint)
# make refresh-versions  lock the newest Debian builds (.cache/versions.lock)
#
# Without KSRC, the newest build of Debian's linux-source package of SERIES
# (6.12 by default, series in versions.env; scripts/debian_version.sh) is
# fetched and prepared once under .cache/ (git ignores it); 7.3's comes
# from trixie-backports, through the project's own apt lists
# (scripts/debian_apt.sh).  A kernel runs
# binaries built against its own series' framework: the 6.12 one needs
# KVM_SET_USER_MEMORY_REGION2 (6.8+).

include versions.env

# Only a tree the user names is ever modified.
NX_USER_KSRC := $(KSRC)
TOP := $(CURDIR)
CACHE ?= $(TOP)/.cache
SERIES ?= 6.12

ifeq ($(filter $(SERIES),6.12 6.1 7.3),)
$(error SERIES=$(SERIES): expected 6.12, 6.1 or 7.3)
endif

# The build of SERIES to fetch (words NX_..._KVER=... and
# NX_..._DEB_VERSION=...): the one locked in .cache/versions.lock, which
# the first resolution writes and `make refresh-versions` moves to the
# newest; a locked build the archive has dropped is replaced by the newest.
# Goals that need no tree skip it (the archive is asked, about 1 s).
ifeq ($(KSRC),)
# upstream-series asks again with SERIES=7.3, which is the one it needs.
NX_NO_TREE_GOALS := clean distclean check check-quick refresh-versions report \
	$(if $(filter 7.3,$(SERIES)),,upstream-series)
ifneq ($(filter-out $(NX_NO_TREE_GOALS),$(or $(MAKECMDGOALS),all)),)
NX_RESOLVED := $(shell scripts/debian_version.sh $(SERIES))
ifneq ($(.SHELLSTATUS),0)
$(error scripts/debian_version.sh $(SERIES) failed)
endif
$(foreach a,$(NX_RESOLVED),$(eval $(a)))
endif
endif

ifeq ($(SERIES),6.12)
BUILD ?= $(TOP)/build
SRC_KVER := $(NX_KVER)
SRC_DEB_VERSION := $(NX_DEB_VERSION)
SRC_SERIES := $(NX_SRC_SERIES)
else ifeq ($(SERIES),7.3)
BUILD ?= $(TOP)/build/7.3
SRC_KVER := $(NX_73_KVER)
SRC_DEB_VERSION := $(NX_73_DEB_VERSION)
SRC_SERIES := $(NX_73_SRC_SERIES)
else
BUILD ?= $(TOP)/build/6.1
SRC_KVER := $(NX_61_KVER)
SRC_DEB_VERSION := $(NX_61_DEB_VERSION)
SRC_SERIES := $(NX_61_SRC_SERIES)
endif

# The tree of a Debian build; its stamp names that build, so a tree of an
# older build of the same Linux version is prepared again.
ifeq ($(KSRC),)
KSRC := $(CACHE)/linux-$(SRC_KVER)
KSRC_DEP := $(KSRC)/.prepared
ifneq ($(file <$(KSRC_DEP)),$(SRC_DEB_VERSION))
.PHONY: $(KSRC_DEP)
endif
endif
override KSRC := $(abspath $(KSRC))
KVM_DIR := $(KSRC)/tools/testing/selftests/kvm
HOSTCC ?= gcc
HOST_CFLAGS := -O2 -g -Wall -Wextra -Wno-unused-parameter -std=gnu11 -Iinclude

.PHONY: all tests tools check check-quick durations refresh-versions clean distclean ksrc report
all: tests tools

ksrc: $(KSRC_DEP)

$(CACHE)/linux-$(SRC_KVER)/.prepared:
	scripts/prepare_ksrc.sh "$(CACHE)" "$(SRC_SERIES)" "$(SRC_DEB_VERSION)" "$@"

tests: $(KSRC_DEP)
	@test -f $(KVM_DIR)/Makefile || \
		{ echo "KSRC=$(KSRC) has no KVM selftests"; exit 1; }
	@test -f $(KSRC)/usr/include/linux/kvm.h || \
		{ echo "KSRC=$(KSRC): run 'make headers' there first"; exit 1; }
	@# Objects of another tree are stale whatever their times say.
	@mkdir -p $(BUILD)
	@test "$$(cat $(BUILD)/.ksrc 2>/dev/null)" = "$(KSRC) $(SRC_DEB_VERSION)" || \
		{ rm -rf $(BUILD)/kvm $(BUILD)/lib $(BUILD)/x86_64; \
		  echo "$(KSRC) $(SRC_DEB_VERSION)" >$(BUILD)/.ksrc; }
	@# The Debian build the tests come from, for run_nx_tests.sh's summary.json.
	@$(if $(KSRC_DEP),echo "linux-source-$(SRC_SERIES)=$(SRC_DEB_VERSION)",:) \
		>$(BUILD)/.debian-source
	$(MAKE) -C $(KVM_DIR) -f Makefile -f $(TOP)/mk/framework.mk \
		NX_TOP=$(TOP) NX_OUT=$(BUILD) OUTPUT=$(BUILD)/kvm nx-tests
	@# A test whose source is gone must not stay in the runner's catalogue.
	@for b in $(BUILD)/*_test; do \
		test -e "$(TOP)/x86_64/$${b##*/}.c" || rm -f "$$b"; \
	done

# Host-side tools (no KVM, no framework).
tools: $(BUILD)/nx_summary

NX_SUMMARY_SRCS := tools/nx_summary.c tools/nx_query.c tools/nx_junit.c \
	tools/nx_compare.c tools/nx_stream.c lib/nx_results.c
# Static: the test VM's initramfs carries it for run_cases.sh, with no
# C library of its own.
$(BUILD)/nx_summary: $(NX_SUMMARY_SRCS) tools/nx_query.h include/nx_results.h
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -static -Itools $(NX_SUMMARY_SRCS) -o $@ -lm

# Unit tests of the lib/ code that needs no KVM, on the kernel's kselftest
# harness.  tools/include has the linux/compiler.h that nx_harness.h uses.
# -Wclobbered flags the harness's own setjmp() in TEST_F(); the fixtures use
# FIXTURE_TEARDOWN_PARENT, which that does not affect.
UNIT_TESTS := $(addprefix $(BUILD)/unit/,test_poll test_params test_results test_harness \
	test_traits test_passtrace)
UNIT_CFLAGS := $(HOST_CFLAGS) -Wno-clobbered \
	-I$(KSRC)/tools/testing/selftests -I$(KSRC)/tools/include

.PHONY: unit unit-run
unit: $(KSRC_DEP) $(UNIT_TESTS)

unit-run: unit
	@rc=0; for t in $(UNIT_TESTS); do echo "# $$t"; $$t || rc=1; done; exit $$rc

$(BUILD)/unit/test_poll: lib/nx_poll.c
$(BUILD)/unit/test_traits: lib/nx_traits.c
$(BUILD)/unit/test_passtrace: lib/nx_passtrace.c $(wildcard tests/unit/fixtures/*)
$(BUILD)/unit/test_passtrace: UNIT_CFLAGS += -DNX_FIXTURES='"$(TOP)/tests/unit/fixtures"'
$(BUILD)/unit/test_params: lib/nx_params.c lib/nx_signal.c tests/unit/fake_sysfs.c
$(BUILD)/unit/test_results: lib/nx_results.c
$(BUILD)/unit/test_harness: lib/nx_harness.c lib/nx_params.c lib/nx_poll.c \
	lib/nx_signal.c lib/nx_skip.c lib/nx_needs.c lib/nx_traits.c \
	tests/unit/fake_sysfs.c

$(BUILD)/unit/%: tests/unit/%.c $(wildcard include/*.h tests/unit/*.h) | $(KSRC_DEP)
	@mkdir -p $(@D)
	$(HOSTCC) $(UNIT_CFLAGS) $(filter %.c,$^) -o $@

# See scripts/install_tree.sh and mk/tree.mk.
.PHONY: install-tree uninstall-tree
install-tree uninstall-tree:
	$(if $(NX_USER_KSRC),,$(error $@ needs KSRC=/path/to/linux))
	scripts/install_tree.sh $(@:-tree=) $(KSRC)

# The finding's series (scripts/upstream_series.sh), made on the 7.3 tree;
# OUT=DIR writes it there instead, and leaves DIR's other files alone.
.PHONY: upstream-series
ifeq ($(SERIES),7.3)
upstream-series: $(KSRC_DEP)
	$(if $(OUT),,@rm -rf $(TOP)/build/upstream)
	@scripts/upstream_series.sh $(KSRC) $(or $(OUT),$(TOP)/build/upstream)
else
upstream-series:
	@$(MAKE) -s SERIES=7.3 upstream-series
endif

# The report page over every run under RESULTS (tools/nx_report.py).
RESULTS ?= results
report:
	@mkdir -p $(BUILD)
	tools/nx_report.py $(RESULTS) $(BUILD)/report.html

check:
	tests/run_checks.sh

check-quick:
	tests/run_checks.sh --quick

# configs/durations.txt, the --jobs scheduling hint of a first run: the
# durations of the newest run under results/.
durations: tools
	@f=$$(find results -name ktap.log -printf '%T@ %p\n' | sort -n | \
		tail -n 1 | cut -d' ' -f2-); \
	[ -n "$$f" ] || { echo "make durations: no run under results/" >&2; exit 1; }; \
	{ echo "# How long each case took in $$f, $$(date -u +%F)."; \
	  echo "# The runner's --jobs deals cases by it when it has no run of its own"; \
	  echo "# (scripts/cells.sh). A scheduling hint, never a threshold: make durations."; \
	  $(BUILD)/nx_summary --ktap "$$f" --durations | sort; } >configs/durations.txt

refresh-versions:
	NX_REFRESH_VERSIONS=1 NX_CACHE=$(CACHE) scripts/debian_version.sh 6.12 6.1 7.3 perf busybox

clean:
	rm -rf $(BUILD)

distclean: clean
	rm -rf $(CACHE)
