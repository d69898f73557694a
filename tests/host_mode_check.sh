#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check`: lab mode (--host) on a real KVM.  Boots Debian's kernel
# under QEMU as a lab host (scripts/vm/hostroot-init: kvm_amd loaded, this
# machine's root filesystem shared read-only under a tmpfs overlay, OUT the
# one writable share) and runs tests/host_proofs.sh from this checkout
# there.  TAP on stdout: one line per proof.
#
# usage: host_mode_check.sh OUT
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=run_nx_tests.sh
. "$top/run_nx_tests.sh"
[ $# = 1 ] || { echo "usage: host_mode_check.sh OUT" >&2; exit 2; }
mkdir -p "$1" && out=$(cd "$1" && pwd) || exit 1

bail() {
	echo "not ok 99 lab host VM: $*"
	exit 1
}

krec=$out/kernel.env
rm -f "$krec"
nx_vm_default_kernel "$krec" || bail "could not fetch the kernel"
nx_vm_hostroot_run "$krec" "$out" 8 "tests/host_proofs.sh $(printf %q "$out")"
rc=$?
[ $rc = 125 ] && bail "$(nx_krec_get "$krec" infra_why)"
tr -d '\r' <"$out/results.raw"
[ $rc = 0 ] || bail "died or hung (see $out/console.log)"
# All the proofs ran, and said so: a script that never started (exit 127)
# must not pass as one without failures.
status=$(nx_vm_hostroot_status "$out")
plan=$(tr -d '\r' <"$out/results.raw" | sed -n 's/^1\.\.\([0-9]*\)$/\1/p')
ran=$(grep -a -c -E '^(not )?ok [0-9]+ ' "$out/results.raw")
if [ -z "$plan" ] || [ "$plan" != "$ran" ] || [ "$plan" = 0 ]; then
	bail "the proofs reported ${ran:-0} results of a plan of ${plan:-none} (exit ${status:-none})"
fi
grep -q '^not ok ' "$out/results.raw" && exit 1
[ "$status" = 0 ] || bail "the proofs exited ${status:-without a status}"
