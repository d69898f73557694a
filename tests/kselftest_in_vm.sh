#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Inside the lab-host VM of tests/kselftest_vm_check.sh: what a lab does
# after kselftest's install of a tree with the suite in it.  Reserves a
# pool of POOL 2M pages (the runner's NX_HUGEPAGES, the lab's own set-up),
# then runs the suite's tests with run_kselftest.sh, kselftest's own
# runner, with a timeout that fits the longest of them (kvm's settings
# file says 120 s), as on a host nobody declared disposable.  Around the
# run it dumps the host state (scripts/host_state.sh): the two must be
# equal, and every vm_only case (from each binary's -l) must have been
# skipped, never run.  Prints run_kselftest.sh's output and one
# "nx-in-tree:" line per check; exits non-zero if a test or a check failed.
#
# usage: kselftest_in_vm.sh KSFT_INSTALL_DIR POOL [TEST...]
#   TEST: a test binary's name (default: every nx_* test of the install)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/host_state.sh
. "$top/scripts/host_state.sh"
ksft=$1
echo "$2" >/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
shift 2
tests=("$@")
if [ ${#tests[@]} = 0 ]; then
	while read -r t; do
		case $t in kvm:nx_*) tests+=("${t#kvm:}") ;; esac
	done < <("$ksft/run_kselftest.sh" --list)
fi
args=()
for t in "${tests[@]}"; do
	args+=(-t "kvm:$t")
done
work=$(mktemp -d)
nx_state_dump >"$work/state.before"
(cd "$ksft" && ./run_kselftest.sh --override-timeout 900 "${args[@]}") |
	tee "$work/ksft.out"
rc=${PIPESTATUS[0]}
nx_state_dump >"$work/state.after"
nx_state_same "$work/state.before" "$work/state.after" ||
	{ echo "nx-in-tree: FAIL: the host state changed"; rc=1; }
# A vm_only case's -l line ends in "(vm_only)"; in kselftest's output its
# result is the binary's KTAP line behind "# ".
for t in "${tests[@]}"; do
	while read -r name; do
		line=$(grep -m1 "^# ok [0-9]* $name # SKIP .*vm_only" "$work/ksft.out")
		if [ -n "$line" ]; then
			echo "nx-in-tree: vm_only case skipped: ${line#\# }"
		else
			echo "nx-in-tree: FAIL: vm_only case $name was not skipped"
			rc=1
		fi
	done < <("$ksft/kvm/$t" -l | sed -n 's/^\([^ ]*\) # .*(vm_only)$/\1/p')
done
rm -rf "$work"
exit "$rc"
