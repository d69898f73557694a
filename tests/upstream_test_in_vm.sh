#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Inside the lab-host VM of tests/upstream_series_check.sh: run the series'
# regression test from the kernel tree TREE as `make run_tests` of the KVM
# selftests runs it (kselftest's runner.sh, run_many, the KVM folder's 120 s
# timeout from its settings file), without make, whose run_tests would build
# every KVM selftest first.  Prints the runner's KTAP, then how long the
# test took.  (runner.sh is not written for set -u.)
#
# usage: upstream_test_in_vm.sh TREE TEST   (TEST: x86/nx_huge_pages_test.sh)

sel=$1/tools/testing/selftests
cd "$sel/kvm" || exit 1
export BASE_DIR=$sel
# shellcheck source=/dev/null # the tree's
. "$sel/kselftest/runner.sh"
t0=$(date +%s%N)
run_many "$2"
echo "# $2 took $((($(date +%s%N) - t0) / 1000000)) ms"
