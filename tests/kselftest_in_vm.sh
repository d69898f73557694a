#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Inside the lab-host VM of tests/kselftest_vm_check.sh: what a lab does
# after kselftest's install of a tree with the suite in it.  Reserves a
# pool of POOL 2M pages (the runner's NX_HUGEPAGES), then runs each
# of the suite's tests with run_kselftest.sh, kselftest's own runner, with
# a timeout that fits the longest of them (kvm's settings file says 120 s).
#
# usage: kselftest_in_vm.sh KSFT_INSTALL_DIR POOL
set -uo pipefail

ksft=$1
echo "$2" >/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
args=()
while read -r t; do
	case $t in kvm:nx_*) args+=(-t "$t") ;; esac
done < <("$ksft/run_kselftest.sh" --list)
cd "$ksft" || exit 1
./run_kselftest.sh --override-timeout 900 "${args[@]}"
