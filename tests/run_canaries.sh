#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Prove that the suite's assertions can fail: rebuild kvm.ko/kvm-amd.ko with
# each canary patch in tests/canaries/ (each breaks one behaviour the suite
# guards), boot them, and require that exactly the tests the patch names
# fail.  The unpatched build must pass the same tests.  TAP on stdout.
#
# usage: run_canaries.sh [CANARY...]    (default: every tests/canaries/*.patch)
#
# A canary patch starts with a header, then "---", then a unified diff
# against the pinned Debian source:
#   Canary: <what it breaks>
#   Run: <test filters for run_nx_tests.sh --test>
#   Expect-fail: <the full names of the tests that must fail>
#   May-fail: <tests that catch the bug only in some runs> (optional)
#   Expect-reason: <text each Expect-fail test's failure reason contains>
#                  (optional: the assertion that must catch it)
# Every other test that runs must pass.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# The tree of the 6.12 build the modules are rebuilt from (make prepared it).
versions=$("$top/scripts/debian_version.sh" 6.12) || exit 1
eval "$versions"
ksrc=$top/.cache/linux-$NX_KVER
out=$top/build/canaries
src=$out/src
# shellcheck source=tests/tap.sh
. "$top/tests/tap.sh"
# shellcheck source=tests/kvm_src.sh
. "$top/tests/kvm_src.sh"

header() {
	sed -n "s/^$1: //p;/^---$/q" "$2"
}

# A tree holding only what build_kvm_modules.sh reads, patched in place
# and restored, so that every build reuses one incremental build folder.
make_src() {
	kvm_src_copy "$ksrc" "$src"
}

build() {
	local t0=$SECONDS
	"$top/scripts/build_kvm_modules.sh" "$src" "$out/modules-$1" \
		>"$out/build-$1.log" 2>&1 || { sed 's/^/# /' "$out/build-$1.log"; return 1; }
	echo "# $1: modules built in $((SECONDS - t0)) s"
}

# Run the filtered tests on the modules built as $1; sets got (failed tests).
run() {
	local name=$1 rc
	shift
	local -a args=()
	for f in "$@"; do
		args+=(--test "$f")
	done
	rm -rf "$out/results-$name"
	NX_MODULES_OVERRIDE=$out/modules-$name "$top/run_nx_tests.sh" \
		--results "$out/results-$name" "${args[@]}" >"$out/run-$name.log" 2>&1
	rc=$?
	got=$(grep -h '^not ok ' "$out/results-$name"/*/ktap.log 2>/dev/null |
		cut -d' ' -f4 | sort | tr '\n' ' ')
	sed -n 's/^  FAILED  /# /p' "$out/run-$name.log"
	return $rc
}

# The words of list $1 that are not in list $2, sorted, space-separated.
without() {
	local w out=
	for w in $1; do
		case " $2 " in *" $w "*) ;; *) out="$out$w " ;; esac
	done
	printf '%s' "$out"
}

# Each of the tests in list $2 failed (results of canary $1) for a reason
# that contains $3.
failed_for() {
	local t ok=0
	for t in $2; do
		grep -hqF -- "$3" <(grep -h "^not ok [0-9]* $t # " \
			"$out/results-$1"/*/ktap.log 2>/dev/null) && continue
		echo "# $1: $t did not fail for: $3"
		ok=1
	done
	return $ok
}

canary() {
	local patch=$1 name want may why rc
	name=$(basename "$patch" .patch)
	read -ra filters <<<"$(header Run "$patch")"
	want=$(header Expect-fail "$patch" | tr ' ' '\n' | sort | tr '\n' ' ')
	may=$(header May-fail "$patch")
	why=$(header Expect-reason "$patch")
	echo "# $name: $(header Canary "$patch")"
	if ! patch -s -d "$src" -p1 <"$patch"; then
		report 1 "canary $name: patch does not apply"
		return
	fi
	build "$name" && run "$name" "${filters[@]}"
	rc=$?
	patch -s -R -d "$src" -p1 <"$patch"
	echo "# $name: failed: ${got:-none}"
	[ "$rc" = 1 ] && [ "$(without "$got" "$may")" = "$(without "$want" "$may")" ] &&
		{ [ -z "$why" ] || failed_for "$name" "$(without "$want" "$may")" "$why"; }
	report $? "canary $name fails: $want"
}

main() {
	local -a patches=() filters=()
	local p
	if [ $# -gt 0 ]; then
		for p in "$@"; do
			patches+=("$top/tests/canaries/$p.patch")
		done
	else
		patches=("$top"/tests/canaries/*.patch)
	fi
	mkdir -p "$out"
	make_src
	for p in "${patches[@]}"; do
		read -ra f <<<"$(header Run "$p")"
		filters+=("${f[@]}")
	done
	# The unpatched build passes every test the canaries break.
	build pristine && run pristine "${filters[@]}"
	report $? "pristine kvm modules pass the canaries' tests"
	for p in "${patches[@]}"; do
		canary "$p"
	done
	echo "1..$n"
	[ $failed = 0 ]
}

main "$@"
