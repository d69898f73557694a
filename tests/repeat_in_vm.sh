#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Flake hunting: run cases N times each in one boot of Debian's kernel SPEC
# as a lab host (scripts/vm/hostroot-init; this checkout's builds over the
# read-only root share), and report how many runs of each passed.  A
# case that passes 49 times in 50 is broken.  TAP on stdout, one line per
# case: ok when every run passed (or skipped, with the reason).
#
# usage: repeat_in_vm.sh SPEC N OUT CASE...
#   SPEC  as --kernel debian:SPEC (6.1, 6.12, 7.3, ...)
#   CASE  a full test name (nx_recovery_flush.hugetlb_2m.faults_beside_pass)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=run_nx_tests.sh
. "$top/run_nx_tests.sh"
[ $# -ge 4 ] || { echo "usage: repeat_in_vm.sh SPEC N OUT CASE..." >&2; exit 2; }
spec=$1 runs=$2
mkdir -p "$3" && out=$(cd "$3" && pwd) || exit 1
shift 3

die() {
	echo "repeat_in_vm: $*" >&2
	exit 1
}

krec=$out/kernel.env
rm -f "$krec"
"$top/scripts/debian_kernel.sh" "$spec" >"$krec" || die "no Debian kernel $spec"
build=$(suite_build_dir "$(nx_krec_get "$krec" series)") || die "$build"
# BINARY CASE lines of the cases asked for, from that build's catalogue.
catalogue_all "$build" | while read -r bin name; do
	for c in "$@"; do
		[ "$c" = "$name" ] && echo "$bin $name"
	done
done >"$out/cases.txt"
[ -s "$out/cases.txt" ] || die "none of the cases is in $build"
NX_RUN_TIMEOUT=$((runs * $(wc -l <"$out/cases.txt") * NX_TEST_TIMEOUT)) \
	nx_vm_hostroot_run "$krec" "$out" "$(wc -l <"$out/cases.txt")" \
	"tests/repeat_cases.sh $runs $(printf %q "$out/cases.txt") $NX_HUGEPAGES"
rc=$?
[ $rc = 125 ] && die "$(nx_krec_get "$krec" infra_why)"
tr -d '\r' <"$out/results.raw"
[ $rc = 0 ] || die "the VM died or hung (see $out/console.log)"
! grep -q '^not ok ' "$out/results.raw"
