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
# The suite must be built (make, make SERIES=7.3): the runs do not build
# it again, each would only ask make and Debian's archive for nothing.
#
# A canary patch starts with a header, then "---", then a unified diff
# against the pinned Debian source of its kernel series:
#   Canary: <what it breaks>
#   Kernel: 7.3   (optional: the series whose Debian kernel and source it
#                  is for; default 6.12.  Each series' unpatched build must
#                  pass the tests of its canaries.)
#   Run: <test filters for run_nx_tests.sh --test>
#   Expect-fail: <the full names of the tests that must fail>
#   May-fail: <tests that catch the bug only in some runs> (optional)
#   Expect-reason: <text each Expect-fail test's failure reason contains>
#                  (optional: the assertion that must catch it)
# Every other test that runs must pass.
#
# The builds and boots are spread over NX_CANARY_JOBS workers (default: the
# cores, at most 2), each with its own copy of the sources and one VM at a
# time, taking the next canary when it is free; the TAP lines come out in
# the canaries' order whatever finished first.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
# The trees of the 6.12 and 7.3 builds the modules are rebuilt from (make,
# and make SERIES=7.3, prepared them).
# shellcheck source=scripts/kv.sh
. "$top/scripts/kv.sh"
versions=$("$top/scripts/debian_version.sh" 6.12 7.3) || exit 1
nx_kv_import <<<"$versions" || exit 1
out=$top/build/canaries
jobs=${NX_CANARY_JOBS:-$(nproc)}
[ "$jobs" -le 2 ] || jobs=2
# Set per series by use_series: the source copy, the kernel to boot; per
# worker (a subshell each): its folder.
src=
kernel=
wdir=$out
# shellcheck source=tests/tap.sh
. "$top/tests/tap.sh"
# shellcheck source=tests/kvm_src.sh
. "$top/tests/kvm_src.sh"

header() {
	sed -n "s/^$1: //p;/^---$/q" "$2"
}

# The canaries of series $1 build from a tree holding only what
# build_kvm_modules.sh reads, of that series' Debian source, one per worker,
# patched in place and restored, so that every build of a worker reuses one
# incremental build folder; their tests boot that series' Debian kernel.
use_series() {
	local ksrc
	case $1 in
	6.12) src=$wdir/src kernel=debian:6.12 ksrc=$top/.cache/linux-$NX_KVER ;;
	7.3) src=$wdir/src-7.3 kernel=debian:7.3 ksrc=$top/.cache/linux-$NX_73_KVER ;;
	*) echo "# unknown canary kernel series $1"; return 1 ;;
	esac
	[ -d "$src" ] || kvm_src_copy "$ksrc" "$src"
}

series_of() {
	local s
	s=$(header Kernel "$1")
	echo "${s:-6.12}"
}

# Niced: a build beside the other worker's VM must not slow the guest
# down, whose timing some canaries depend on (signals_at_first_run).
build() {
	local t0=$SECONDS
	NX_BUILD_JOBS=$((($(nproc) + jobs - 1) / jobs)) nice -n 10 \
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
	# One VM per worker: the workers fill the cores.
	[ "$jobs" = 1 ] || args+=(--jobs 1)
	NX_NO_BUILD=1 NX_MODULES_OVERRIDE=$out/modules-$name "$top/run_nx_tests.sh" \
		--kernel "$kernel" --results "$out/results-$name" "${args[@]}" \
		>"$out/run-$name.log" 2>&1
	rc=$?
	got=$("$top/build/nx_summary" --results "$out/results-$name" --failed |
		sort | tr '\n' ' ')
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
		"$top/build/nx_summary" --results "$out/results-$1" --reason "$t" |
			grep -qF -- "$3" && continue
		echo "# $1: $t did not fail for: $3"
		ok=1
	done
	return $ok
}

canary() {
	local patch=$1 name want may why rc
	name=$(basename "$patch" .patch)
	got=
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

# The unpatched build of series $1 passes every test its canaries (the
# rest of the arguments) break.
pristine() {
	local series=$1 name=pristine p
	local -a filters=() f
	shift
	[ "$series" = 6.12 ] || name=pristine-$series
	for p in "$@"; do
		read -ra f <<<"$(header Run "$p")"
		filters+=("${f[@]}")
	done
	build "$name" && run "$name" "${filters[@]}"
	report $? "pristine kvm modules ($kernel) pass the canaries' tests"
}

# The work, in the order its TAP lines come out: per series, "SERIES -"
# (the pristine build) and "SERIES PATCH" lines.
plan() {
	local series p
	for series in 6.12 7.3; do
		local -a these=()
		for p in "$@"; do
			[ "$(series_of "$p")" = "$series" ] && these+=("$p")
		done
		[ ${#these[@]} = 0 ] && continue
		echo "$series -"
		for p in "${these[@]}"; do
			echo "$series $p"
		done
	done
}

# The number of the next item of the plan no worker has taken; fails when
# none is left.
claim() {
	local fd i
	exec {fd}>>"$out/queue.lock"
	flock "$fd"
	i=$(<"$out/queue.next")
	echo $((i + 1)) >"$out/queue.next"
	exec {fd}>&-
	[ "$i" -lt "$(grep -c . "$out/plan")" ] && echo "$i"
}

# Worker K: items of the plan until none is left, each one's TAP lines
# (numbered by the worker, renumbered by main) in OUT/item-N.tap.
worker() {
	local i series p
	local -a mine
	wdir=$out/worker-$1
	mkdir -p "$wdir"
	while i=$(claim); do
		read -r series p < <(sed -n "$((i + 1))p" "$out/plan")
		{
			if ! use_series "$series"; then
				report 1 "canaries of kernel series $series"
			elif [ "$p" = - ]; then
				mapfile -t mine < <(awk -v s="$series" \
					'$1 == s && $2 != "-" { print $2 }' "$out/plan")
				pristine "$series" "${mine[@]}"
			else
				canary "$p"
			fi
		} >"$out/item-$i.tap" 2>&1
	done
}

main() {
	local -a patches=() pids=()
	local p k i line
	if [ $# -gt 0 ]; then
		for p in "$@"; do
			patches+=("$top/tests/canaries/$p.patch")
		done
	else
		patches=("$top"/tests/canaries/*.patch)
	fi
	rm -rf "$out"/item-*.tap "$out"/worker-*
	mkdir -p "$out"
	plan "${patches[@]}" >"$out/plan"
	echo 0 >"$out/queue.next"
	echo "# $(grep -c . "$out/plan") builds in $jobs workers"
	for k in $(seq "$jobs"); do
		worker "$k" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 0 $(($(grep -c . "$out/plan") - 1))); do
		while IFS= read -r line; do
			case $line in
			"ok "*) report 0 "${line#ok * }" ;;
			"not ok "*) report 1 "${line#not ok * }" ;;
			"#"*) echo "$line" ;;
			*) echo "# $line" ;;
			esac
		done <"$out/item-$i.tap"
	done
	echo "1..$n"
	[ $failed = 0 ]
}

main "$@"
