#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make check`: the upstream series (scripts/upstream_series.sh) proven on
# Debian's 7.3 tree TREE, which is only read.  TAP on stdout, one line per
# step, each step's time in a "# time" line:
#
#   1. the series is written: two patches;
#   2. `git am` applies it to a git-initialised copy of TREE;
#   3. the tree's checkpatch.pl --strict reports nothing on either patch
#      but the Fixes: ids it cannot look up (no kernel history here);
#   4. the tree's KVM selftests make builds the changed test;
#   5. in a VM booting Debian's 7.3 kernel as a lab host, the test, run as
#      kselftest runs it (tests/upstream_test_in_vm.sh), fails on the stock
#      kvm.ko at the ratio check, and
#   6. passes with kvm.ko and kvm-amd.ko rebuilt from the copy (the fix
#      applied by step 2), each within kselftest's 120 s.
#
# usage: upstream_series_check.sh TREE OUT [KVM_SRC]
#   KVM_SRC  where the fixed modules' sources go (default OUT/kvm-src)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=run_nx_tests.sh
. "$top/run_nx_tests.sh"
# shellcheck source=tests/tap.sh
. "$top/tests/tap.sh"
# shellcheck source=tests/kvm_src.sh
. "$top/tests/kvm_src.sh"
case $# in
2 | 3) ;;
*) echo "usage: upstream_series_check.sh TREE OUT [KVM_SRC]" >&2; exit 2 ;;
esac
tree=$(cd "$1" && pwd) || exit 2
mkdir -p "$2" && out=$(cd "$2" && pwd) || exit 1
kvm_src=${3:-$out/kvm-src}
# The tree's make as a user runs it (see tests/install_tree_check.sh).
unset MAKELEVEL MAKEFLAGS MFLAGS
copy=$out/tree
kvm=$copy/tools/testing/selftests/kvm
test_sh=x86/nx_huge_pages_test.sh
patches=()
# The one report of checkpatch.pl --terse --show-types that is let through.
unknown_id="^[^ ]*:[0-9]*: WARNING:UNKNOWN_COMMIT_ID: Unknown commit id '\([0-9a-f]\{12\}\)', maybe rebased or not pulled?\$"

# step NAME CMD...: CMD's output as TAP comments, then its result line.
step() {
	local name=$1 t0=$SECONDS rc
	shift
	"$@" >"$out/step.log" 2>&1
	rc=$?
	sed 's/^/# /' "$out/step.log"
	echo "# time $name: $((SECONDS - t0)) s"
	report $rc "$name"
	return $rc
}

series() {
	rm -rf "$out/series"
	mapfile -t patches < <("$top/scripts/upstream_series.sh" "$tree" "$out/series")
	printf '%s\n' "${patches[@]}"
	[ ${#patches[@]} = 2 ] && [ -f "${patches[0]}" ] && [ -f "${patches[1]}" ]
}

# A full copy of a kernel tree costs a minute and git add of it another;
# hard links cost a second.  Git never writes through them: git am (git
# apply) writes a changed file as a new file that it renames over the old
# name, so the link to TREE's file is replaced, not written to (checked
# below).  tools/ is copied for real: the selftests build writes there.
# Git tracks only the files the series touches (Debian's .gitignore
# ignores the whole top level, hence add -f).
apply_series() {
	local f files
	mapfile -t files < <(sed -n 's|^+++ b/||p' "${patches[@]}" | sort -u)
	rm -rf "$copy"
	mkdir -p "$copy"
	(cd "$tree" && find . -mindepth 1 -maxdepth 1 ! -name tools ! -name .git \
		-exec cp -al {} "$copy/" \;) || return 1
	cp -a "$tree/tools" "$copy/" || return 1
	git -C "$copy" init -q &&
		git -C "$copy" add -f -- "${files[@]}" &&
		git -C "$copy" -c user.name=nx-selftests -c user.email=nx@localhost \
			-c commit.gpgsign=false commit -qm "Linux 7.3 (Debian)" &&
		git -C "$copy" -c user.name=nx-selftests -c user.email=nx@localhost \
			am "${patches[@]}" || return 1
	git -C "$copy" log --oneline
	for f in "${files[@]}"; do
		git -C "$copy" show "HEAD~2:$f" | cmp -s - "$tree/$f" ||
			{ echo "$tree/$f changed"; return 1; }
	done
	echo "$tree: as before"
}

# checkpatch.pl --strict with one line per problem: all must be
# UNKNOWN_COMMIT_ID warnings naming exactly the ids of the patch's Fixes:
# tags (checkpatch looks them up in the copy's git, which has no kernel
# history), and checkpatch must have said nothing on stderr.
checkpatch() {
	local p rc=0 said ids want others err
	for p in "${patches[@]}"; do
		said=$(cd "$copy" && perl scripts/checkpatch.pl --strict --terse \
			--no-summary --show-types "$p" 2>"$out/checkpatch.err")
		err=$(cat "$out/checkpatch.err")
		echo "${p##*/}: ${said:-nothing}${err:+; stderr: $err}"
		want=$(sed -n 's/^Fixes: \([0-9a-f]\{12\}\) .*/\1/p' "$p")
		ids=$(sed -n "s/$unknown_id/\1/p" <<<"$said")
		others=$(grep -v "$unknown_id" <<<"$said")
		[ "$ids" = "$want" ] && [ -z "$others" ] && [ -z "$err" ] || rc=1
	done
	return $rc
}

# The test's binary, as the tree's `make -C tools/testing/selftests
# TARGETS=kvm` builds it (the same rule and flags; that make builds every
# other KVM selftest too: docs/measurements.md has both times).
build() {
	make -s -C "$kvm" -j"$(nproc)" "$kvm/${test_sh%.sh}" 2>&1 |
		grep -v "unrecognized command-line option .-Wno-gnu-variable"
	[ -x "$kvm/${test_sh%.sh}" ]
}

# Built from a copy of the KVM sources of the tree with the series (those
# that build_kvm_modules.sh reads) in KVM_SRC: its build folder is kept per
# source path, so make check names the folder of its fixed_73 check, whose
# sources, patched with docs/findings/0001-*.patch, are the same, and the
# build finds nothing to do.
fixed_modules() {
	local krec=$out/kernel.env
	rm -f "$krec"
	"$top/scripts/debian_kernel.sh" 7.3 >"$krec" || return 1
	kvm_src_copy "$copy" "$kvm_src" || return 1
	"$top/scripts/build_kvm_modules.sh" --release "$(nx_krec_get "$krec" release)" \
		"$kvm_src" "$out/kvm-fixed" | tail -n 3
}

# in_vm NAME [MODULES]: the test in a lab-host VM of Debian's 7.3 kernel
# (with MODULES' kvm.ko and kvm-amd.ko); its KTAP in OUT/NAME/results.raw.
in_vm() {
	local dir=$out/$1 krec=$out/$1/kernel.env rc
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$out/kernel.env" "$krec"
	[ -z "${2:-}" ] || nx_krec_set "$krec" modules_override "$2"
	NX_RUN_TIMEOUT=300 nx_vm_hostroot_run "$krec" "$dir" 1 \
		"tests/upstream_test_in_vm.sh $(printf %q "$copy") $test_sh"
	rc=$?
	[ $rc = 125 ] && nx_krec_get "$krec" infra_why
	tr -d '\r' <"$dir/results.raw"
	return $rc
}

# Stock 7.3.4: the test must fail, and at the ratio check, not for another
# reason (a missing hugepage, a timeout).
fails_on_stock() {
	local raw=$out/stock/results.raw
	in_vm stock || return 1
	grep -q "^not ok 1 selftests: kvm: ${test_sh##*/} # exit=" "$raw" &&
		grep -q "Recovery pass [0-9]*: expected .* NX huge page splits" "$raw"
}

passes_fixed() {
	in_vm fixed "$out/kvm-fixed" || return 1
	grep -q "^ok 1 selftests: kvm: ${test_sh##*/}$" "$out/fixed/results.raw"
}

# The steps after a failed one cannot run.
stop() {
	echo "1..$n"
	exit 1
}

step "git format-patch of the fix and the test for Debian's 7.3 tree" series || stop
step "git am onto a git-initialised copy of the 7.3 tree" apply_series || stop
step "checkpatch.pl --strict: nothing but the Fixes: ids" checkpatch
step "the tree's make builds ${test_sh%.sh}" build || stop
step "kvm.ko and kvm-amd.ko built from the tree with the series" fixed_modules || stop
step "${test_sh##*/} fails on stock 7.3.4 (the ratio check)" fails_on_stock
step "${test_sh##*/} passes with the fixed kvm.ko" passes_fixed
echo "1..$n"
[ $failed = 0 ]
