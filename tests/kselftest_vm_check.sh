#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The suite as a lab runs it from a kernel tree: installed into a copy of
# TREE and built there by the tree's own make (tests/install_tree_check.sh
# --full: every KVM selftest), installed with kselftest's install, then run
# by the tree's run_kselftest.sh in a VM booting Debian's kernel SPEC as a
# lab host (scripts/vm/hostroot-init, tests/kselftest_in_vm.sh), with the
# host state dumped before and after.  Prints run_kselftest.sh's KTAP and
# exits 0 when every one of the suite's tests asked for passed or skipped,
# the host state was the same after, and no vm_only case ran.  make check
# runs it on the 6.12 tree with the tests that have vm_only cases and one
# more; with every test (no TEST) it takes about 20 minutes here.
#
# usage: kselftest_vm_check.sh TREE SPEC OUT [TEST...]
#   SPEC: as --kernel debian:SPEC; TEST: a test binary (default: all of ours)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=run_nx_tests.sh
. "$top/run_nx_tests.sh"
[ $# -ge 3 ] || { echo "usage: kselftest_vm_check.sh TREE SPEC OUT [TEST...]" >&2; exit 2; }
tree=$1
spec=$2
mkdir -p "$3" && out=$(cd "$3" && pwd) || exit 1
shift 3
tests=("$@")

die() {
	echo "kselftest_vm_check: $*" >&2
	exit 1
}

NX_KEEP_KSFT=$out/ksft "$top/tests/install_tree_check.sh" --full "$tree" \
	"$out/tree" >"$out/install.log" 2>&1 ||
	{ tail -n 20 "$out/install.log"; die "the tree's build failed ($out/install.log)"; }
grep '^time ' "$out/install.log"
krec=$out/kernel.env
rm -f "$krec"
"$top/scripts/debian_kernel.sh" "$spec" >"$krec" || die "no Debian kernel $spec"
# One result line per test binary asked for.
total=${#tests[@]}
[ "$total" != 0 ] || total=$(find "$top/x86_64" -name '*_test.c' | wc -l)
nx_vm_hostroot_run "$krec" "$out" "$total" \
	"tests/kselftest_in_vm.sh $(printf %q "$out/ksft") $NX_HUGEPAGES ${tests[*]}"
rc=$?
[ $rc = 125 ] && die "$(nx_krec_get "$krec" infra_why)"
tr -d '\r' <"$out/results.raw"
[ $rc = 0 ] || die "the VM died or hung (see $out/console.log)"
status=$(nx_vm_hostroot_status "$out")
ran=$(grep -a -c '^ok [0-9]* selftests: kvm: nx_' "$out/results.raw")
[ "$ran" -ge "${#tests[@]}" ] || die "$ran of ${#tests[@]} tests reported ok"
if grep -q '^not ok [0-9]* selftests: kvm: nx_' "$out/results.raw" ||
   [ "$status" != 0 ]; then
	die "kselftest_in_vm.sh exited ${status:-without a status}"
fi
