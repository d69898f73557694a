#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check`: the project's own tests, each reported as one TAP line,
# closing with "N passed, N failed".  `make check-quick` (--quick): the
# parts that boot no VM, from prerequisites to lint, for every edit.
#
#   build      the suite against the pinned Debian kernel tree, and
#              against the 6.1 and 7.3 ones (make SERIES=6.1, SERIES=7.3);
#              every build lists its cases where there is no /dev/kvm
#   install-tree  the suite installed into a copy of the 6.12, 6.1 and 7.3 trees,
#              built there by the tree's make, then removed, the copy's git
#              status clean (tests/install_tree_check.sh)
#   unit       C unit tests of lib/ (kselftest harness), no KVM needed
#   bats       the runner's argument handling, state save/restore, results
#   lint       shellcheck and the kernel's checkpatch.pl
#   suite      ./run_nx_tests.sh in a VM booting the pinned Debian kernel
#   formats    junit.xml and summary.json of the runs, read with Debian's
#              python3-junitparser and python3-jsonschema
#              (docs/summary.schema.json), agree with ktap.log case by case
#   matrix     a slice of --matrix: the pinned 6.12 kernel under the legacy
#              TDP MMU and shadow paging (quick tests, with --perf), and
#              Debian's 6.1 under the TDP MMU once `make SERIES=6.1` builds
#   accelerator  the choice recorded with its reason; a forced KVM that
#              cannot run fails before any test (exit 125, "infrastructure")
#   host mode  --host in a VM that is a lab host, over this machine's root
#              filesystem: restores after a pass, a failure, SIGINT,
#              SIGTERM and SIGKILL (tests/host_mode_check.sh)
#   in the tree  the 6.12 tree's kselftest builds, installs and runs
#              (run_kselftest.sh) the suite on a lab host VM: host state
#              unchanged, vm_only cases skipped (tests/kselftest_vm_check.sh)
#   7.3        Debian's 7.3 fails exactly the ratio tests of its NX count
#              bug, the runner on a host without /dev/kvm
#              (tests/without_dev_kvm.sh), and passes them with kvm modules
#              rebuilt with the fix (docs/findings/, --kvm-src); the fix and
#              its upstream regression test as a series (make
#              upstream-series), applied, checkpatch clean, built and run
#              in the 7.3 tree (tests/upstream_series_check.sh)
#   canaries   the suite run against a KVM sabotaged through its module
#              parameters, and against kvm modules rebuilt with each patch
#              in tests/canaries/, must fail, naming the right tests
set -uo pipefail

case ${1:-} in
"") quick=0 ;;
--quick) quick=1 ;;
*) echo "usage: run_checks.sh [--quick]" >&2; exit 2 ;;
esac

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# The Debian builds make prepares the trees of.
# shellcheck source=scripts/kv.sh
. "$top/scripts/kv.sh"
versions=$(scripts/debian_version.sh 6.12 6.1 7.3) || exit 1
nx_kv_import <<<"$versions" || exit 1
out=$top/build/check
ksrc=$top/.cache/linux-$NX_KVER
rm -rf "$out"
mkdir -p "$out"
: >"$out/times.txt"
# shellcheck source=tests/tap.sh
. "$top/tests/tap.sh"
# shellcheck source=tests/kvm_src.sh
. "$top/tests/kvm_src.sh"

# How long each check took, in build/check/times.txt ("SECONDS NAME"),
# for the budget in docs/measurements.md: measured, never a threshold.
took() {
	echo "$((SECONDS - $1)) $2" >>"$out/times.txt"
}

# The plan and the counts, the last lines; 1 if anything failed.
finish() {
	echo "# the longest checks (seconds; all in build/check/times.txt):"
	sort -rn "$out/times.txt" | head -n 8 | sed 's/^/#   /'
	echo "# all checks: $SECONDS s"
	echo "1..$n"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ $failed = 0 ]
}

# Run a command; its output goes to a log, shown only when it fails.
check() {
	local name=$1 log=$out/${1//[^a-zA-Z0-9_.-]/_}.log rc t0=$SECONDS
	shift
	"$@" >"$log" 2>&1
	rc=$?
	took "$t0" "$name"
	[ $rc = 0 ] || sed 's/^/#   /' "$log" | tail -n 40
	report $rc "$name"
}

# Each TAP result line of a sub-suite becomes one of ours.
tap_results() {
	local prefix=$1 log=$2 line
	while read -r line; do
		case $line in
		"ok "*) report 0 "$prefix: ${line#ok * }" ;;
		"not ok "*) report 1 "$prefix: ${line#not ok * }" ;;
		esac
	done < <(grep -E '^(not )?ok [0-9]+ ' "$log")
}

sub_suite() {
	local name=$1 log=$out/$1.log rc t0=$SECONDS
	shift
	"$@" >"$log" 2>&1
	rc=$?
	took "$t0" "$name"
	tap_results "$name" "$log"
	if [ $rc != 0 ]; then
		sed 's/^/#   /' "$log" | grep -v '^#   ok ' | tail -n 40
		report 1 "$name: exit status $rc"
	fi
}

lint() {
	local f rc=0
	shellcheck -x run_nx_tests.sh scripts/*.sh scripts/vm/* \
		tests/*.sh .ci/run || rc=1
	for f in include/*.h lib/*.c x86_64/*.c tools/*.c tests/unit/*.c; do
		[ -e "$f" ] || continue
		perl "$ksrc/scripts/checkpatch.pl" --no-tree --quiet -f "$f" || rc=1
	done
	return $rc
}

# The runner as fails_exactly runs it.
run_nx=(./run_nx_tests.sh)

# A run (the arguments to ./run_nx_tests.sh) must fail (exit 1), and
# exactly the tests named in WANT (sorted, space-separated) must fail.
fails_exactly() {
	local want=$1 dir=$out/$2 got
	shift 2
	rm -rf "$dir"
	NX_NO_BUILD=1 "${run_nx[@]}" --results "$dir" "$@"
	[ $? = 1 ] || { echo "expected exit 1"; return 1; }
	got=$(build/nx_summary --results "$dir" --failed | sort | tr '\n' ' ')
	echo "failed: $got"
	[ "$got" = "$want" ] || { echo "expected to fail: $want"; return 1; }
}

# The same, the runner on a host without /dev/kvm.
fails_exactly_without_kvm() {
	local -a run_nx=(tests/without_dev_kvm.sh ./run_nx_tests.sh)
	fails_exactly "$@"
}

# Every build's binaries list their cases on a host without /dev/kvm (the
# 7.x framework's start-up needs it; -l answers before), each build the
# same ones, every binary some.
lists_without_kvm() {
	local d f ref=
	for d in build build/6.1 build/7.3; do
		f=$out/list-${d//\//_}
		# shellcheck disable=SC2016 # expanded by the inner shell
		tests/without_dev_kvm.sh bash -c \
			'for b in "$1"/*_test; do l=$("$b" -l) && [ -n "$l" ] || { echo "$b -l: $l"; exit 1; }; echo "$l"; done' \
			x "$d" >"$f" || { cat "$f"; return 1; }
		echo "$d: $(grep -c . "$f") cases"
		ref=${ref:-$f}
		diff -u "$ref" "$f" || return 1
	done
}

# A sabotaged run must fail, and exactly the tests named in $2 must fail.
canary() {
	fails_exactly "$2" canary --sabotage "$1" --test "$3"
}

check prerequisites scripts/install_deps.sh check
check build make -s all
check "build (6.1 framework)" make -s SERIES=6.1
check "install-tree (6.12 tree)" tests/install_tree_check.sh "$ksrc" "$out/tree-6.12"
# make SERIES=6.1 above prepared the 6.1 tree.
check "install-tree (6.1 tree)" tests/install_tree_check.sh \
	"$top/.cache/linux-$NX_61_KVER" "$out/tree-6.1"
check "build (7.3 framework)" make -s SERIES=7.3
check "no /dev/kvm: the 6.12, 6.1 and 7.3 builds list the same cases" lists_without_kvm
# make SERIES=7.3 above prepared the 7.3 tree.
check "install-tree (7.3 tree)" tests/install_tree_check.sh \
	"$top/.cache/linux-$NX_73_KVER" "$out/tree-7.3"
sub_suite unit make -s unit-run
sub_suite bats bats --tap tests/bats
check lint lint
if [ "$quick" = 1 ]; then
	finish
	exit
fi

suite() {
	local rc t0=$SECONDS
	./run_nx_tests.sh --results "$out/suite" >"$out/suite.log" 2>&1
	rc=$?
	took "$t0" suite
	sed "s/^/# /" "$out/suite.log"
	tap_results suite "$(ls "$out"/suite/*/ktap.log 2>/dev/null || echo /dev/null)"
	report $rc "suite: ./run_nx_tests.sh exit status $rc"
}

suite

# What a lab ingests of the suite's run, read by readers not ours (Debian's
# python3-junitparser and python3-jsonschema): junit.xml and summary.json
# (docs/summary.schema.json) agree with ktap.log case by case.
check "formats: the suite's junit.xml, summary.json and tests/*.log agree with ktap.log" \
	tests/formats_check.py docs/summary.schema.json "$out/suite"

# The accelerator the suite chose on this machine, and why.  Where there is
# no /dev/kvm, or the CPU has neither svm nor vmx (a /dev/kvm that cannot
# nest; our CI machines come either way), it must have fallen back to TCG
# by itself, saying which, and a forced KVM must fail before any test with
# exit 125 and an "infrastructure" summary.json.
no_nesting() {
	! grep -qwE 'svm|vmx' /proc/cpuinfo
}

suite_accel() {
	local json
	json=$(ls "$out"/suite/*/summary.json) || return 1
	grep -o '"accel[a-z_]*": "[^"]*"' "$json"
	grep -q '"accel_reason": "[^"]' "$json" || { echo "no accel_reason"; return 1; }
	if [ ! -c /dev/kvm ]; then
		grep -q '"accel": "tcg"' "$json" || { echo "expected tcg"; return 1; }
		grep -q '"accel_reason": "no usable /dev/kvm: using TCG"' "$json" ||
			{ echo "expected the reason for TCG (no /dev/kvm)"; return 1; }
	elif no_nesting; then
		grep -q '"accel": "tcg"' "$json" || { echo "expected tcg"; return 1; }
		grep -q 'cannot run a nested SVM/VMX guest' "$json" ||
			{ echo "expected the reason for TCG"; return 1; }
	fi
}
check "accelerator: the suite's choice is recorded with its reason" suite_accel

forced_kvm_fails() {
	local dir=$out/forced-kvm rc
	rm -rf "$dir"
	NX_ACCEL=kvm NX_NO_BUILD=1 ./run_nx_tests.sh --results "$dir" \
		--test nx_split_recovery.hugetlb_2m.split_and_recover
	rc=$?
	cat "$dir"/*/summary.json
	[ $rc = 125 ] || { echo "expected exit 125, got $rc"; return 1; }
	grep -q '"status": "infrastructure", "reason": "NX_ACCEL=kvm: QEMU with -accel kvm' \
		"$dir"/*/summary.json
}
if no_nesting; then
	check "accelerator: NX_ACCEL=kvm on a host that cannot nest exits 125 (infrastructure)" \
		forced_kvm_fails
else
	report_skip "accelerator: NX_ACCEL=kvm on a host that cannot nest" \
		"this host's CPU has svm or vmx"
fi

# A slice of the matrix that fits CI: the split tests in two more MMU modes
# (one VM boot, KVM reloaded in between), with perf counts; and the same
# tests on Debian's 6.1 with the 6.1 build ("build (6.1 framework)" above).
matrix_slice() {
	local dir=$out/matrix f rc=0
	rm -rf "$dir"
	NX_NO_BUILD=1 ./run_nx_tests.sh --results "$dir" --kernel debian:6.12 \
		--mmu legacy,shadow --perf --test 'nx_split_recovery.*' || rc=1
	for f in "$dir"/*/*/*/perf/nx_split_recovery.hugetlb_2m.split_and_recover.txt; do
		grep -q 'kvmmmu:' "$f" || { echo "no kvmmmu counts in $f"; rc=1; }
	done
	if compgen -G "build/6.1/*_test" >/dev/null; then
		NX_NO_BUILD=1 ./run_nx_tests.sh --results "$dir" --kernel debian:6.1 \
			--mmu tdp --test 'nx_split_recovery.*' || rc=1
	else
		echo "no 6.1 build in build/6.1 (make SERIES=6.1)"
		rc=1
	fi
	return $rc
}
check "matrix: 6.12 x legacy,shadow (--perf), 6.1 x tdp" matrix_slice

# The recovery worker's tests on the other worker model (the suite above
# ran them on 6.12's vhost_task, which 7.3 shares): Debian's 6.1, a kthread
# created with the VM, asserted as that kernel's behaviour.
check "worker: nx_worker* on 6.1 (kthread worker)" \
	env NX_NO_BUILD=1 ./run_nx_tests.sh --results "$out/worker" \
	--kernel debian:6.1 --test 'nx_worker*'

# Only sabotage that defeats a test whenever it lands is used here: forcing
# ratio 0 would race the test's own ratio 1 (one wake-up can recover all),
# so recovery breakage is left to the patched-module canaries.
check "canary: mitigation forced off fails split_and_recover" canary \
	kvm.nx_huge_pages=N \
	"nx_split_1g.hugetlb_1g.split_and_recover nx_split_recovery.hugetlb_2m.split_and_recover nx_split_recovery.thp.split_and_recover " \
	'*.split_and_recover'
check "canary: mitigation forced on fails mitigation_off_no_split" canary \
	kvm.nx_huge_pages=Y \
	"nx_split_recovery.hugetlb_2m.mitigation_off_no_split nx_split_recovery.thp.mitigation_off_no_split " \
	'*.mitigation_off_no_split'

# Debian's 7.3: its TDP MMU recovery never decrements the NX page count a
# pass divides by (docs/findings/), a real KVM bug the ratio tests must
# keep failing on, while the dirty-log test follows 7.x's in-place
# recovery.  The 7.3 build runs there (build (7.3 framework) above), its
# cases listed on a host without /dev/kvm, as a lab's build host or CI may
# be: the runner, not only the listing, runs with /dev/kvm hidden.
# Its second consequence: with L2's splits on the shadow MMU's list, every
# TDP MMU recovery decrements that list's count too, which wraps, and a
# pass zaps all of L2's split pages at once (nx_nested).
check "7.3 (no /dev/kvm): stock KVM fails exactly ratio_2/3/4 and the nested per-list passes (the NX count bug)" \
	fails_exactly_without_kvm \
	"nx_nested.hugetlb_2m.passes_per_list nx_recovery_ratio.hugetlb_2m.ratio_2 nx_recovery_ratio.hugetlb_2m.ratio_3 nx_recovery_ratio.hugetlb_2m.ratio_4 " \
	debian-7.3 --kernel debian:7.3 --test 'nx_recovery_ratio.*' \
	--test 'nx_recovery_dirty_log.*' --test 'nx_nested.*'

# The finding's patch fixes it: kvm.ko and kvm-amd.ko rebuilt from Debian's
# 7.3 source with docs/findings/0001-*.patch (--kvm-src with debian:7.3:
# gcc-12 through a gcc-14 wrapper, kbuild host tools rebuilt; minutes the
# first time, seconds warm) pass every ratio test, ratio_2/3/4 included.
fixed_73() {
	local src=$out/kvm-src-7.3 k=$top/.cache/linux-$NX_73_KVER dir=$out/fixed-7.3 t
	local -a fix=("$top"/docs/findings/0001-*.patch)
	rm -rf "$dir"
	kvm_src_copy "$k" "$src" || return 1
	patch -s -d "$src" -p1 <"${fix[0]}" || return 1
	NX_NO_BUILD=1 ./run_nx_tests.sh --results "$dir" --kernel debian:7.3 \
		--kvm-src "$src" --test 'nx_recovery_ratio.*' \
		--test 'nx_nested.*' || return 1
	for t in nx_recovery_ratio.hugetlb_2m.ratio_2 nx_recovery_ratio.hugetlb_2m.ratio_3 \
		 nx_recovery_ratio.hugetlb_2m.ratio_4 nx_nested.hugetlb_2m.passes_per_list; do
		[ "$(build/nx_summary --results "$dir" --status "$t")" = pass ] ||
			{ echo "$t did not pass"; return 1; }
	done
}
check "7.3: the fixed kvm.ko passes ratio_2/3/4 and the nested per-list passes" fixed_73

# The finding as a series for upstream (make upstream-series): git am onto
# a git copy of the 7.3 tree, checkpatch --strict clean but for the Fixes:
# ids, the changed nx_huge_pages_test built by the tree's make and run as
# kselftest runs it in a lab-host VM of Debian's 7.3, failing on stock
# 7.3.4 and passing on kvm.ko rebuilt from the copy.  Those modules'
# sources go where fixed_73's went: the same sources, so the build mirror
# of build_kvm_modules.sh is warm and nothing is compiled again.
sub_suite "7.3 upstream series" tests/upstream_series_check.sh \
	"$top/.cache/linux-$NX_73_KVER" "$out/upstream-series" "$out/kvm-src-7.3"

# Lab mode on a real KVM: --host runs in a VM that has this machine's root
# filesystem (read-only), each proof comparing a full dump of the host
# state before and after (tests/host_proofs.sh).
sub_suite "host mode (real KVM)" tests/host_mode_check.sh "$out/host-mode"

# In the tree, as a lab runs it: the suite installed into a copy of the
# 6.12 tree, every KVM selftest built and installed by kselftest, and
# run_kselftest.sh on a lab host VM (nobody declared it disposable) with
# the tests that have vm_only cases and one more: they pass, the host
# state is the same after, every vm_only case skipped.
check "in the tree: run_kselftest.sh on a lab host (6.12 tree): host state the same, vm_only cases skipped" \
	tests/kselftest_vm_check.sh "$ksrc" 6.12 "$out/in-tree" \
	nx_recovery_toggle_test nx_worker_life_test nx_split_recovery_test

sub_suite "kvm canaries" tests/run_canaries.sh

# Every summary.json any run above wrote (matrix cells, 6.1, 7.3, lab
# mode, the infrastructure failure of a forced KVM) validates, with its
# junit.xml.  Only the runs' folders: the kernel tree copies beside them
# are large and hold no results.
all_results() {
	local d dirs=()
	for d in suite matrix worker canary forced-kvm debian-7.3 fixed-7.3 host-mode; do
		[ -d "$out/$d" ] && dirs+=("$out/$d")
	done
	tests/formats_check.py docs/summary.schema.json "${dirs[@]}"
}
check "formats: every results folder of make check validates and agrees with its ktap.log" \
	all_results

finish
