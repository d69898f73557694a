#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# --jobs: the selected cases dealt over several VMs (shard_cases) and their
# results streams merged back into one per cell in catalogue order
# (merge_shards, merge_streams).  No VM: the streams are written here.

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2154

load test_helper

# sourced CODE: run CODE in bash with run_nx_tests.sh sourced.
sourced() {
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		'"$1"
}

setup() {
	D=$BATS_TEST_TMPDIR/k
	mkdir -p "$D"
	printf '/b/x_test x.one\n/b/x_test x.two\n/b/y_test y.one\n/b/y_test y.two\n/b/z_test z.one\n' \
		>"$D/cases.txt"
	export D
}

@test "shard_cases: round robin in catalogue order, never more VMs than cases" {
	sourced 'shard_cases "$D/cases.txt" "$D" 2 "$BATS_TEST_TMPDIR/none"'
	assert_status 0
	assert_eq "$output" "$D/vm-1
$D/vm-2"
	assert_eq "$(cut -d' ' -f2 "$D/vm-1/cases.txt" | tr '\n' ' ')" "x.one y.one z.one "
	assert_eq "$(cut -d' ' -f2 "$D/vm-2/cases.txt" | tr '\n' ' ')" "x.two y.two "
	sourced 'shard_cases "$D/cases.txt" "$D" 9 "$BATS_TEST_TMPDIR/none" | wc -l'
	assert_eq "$output" 5
	# One VM runs in the kernel's folder itself, as without --jobs.
	sourced 'shard_cases "$D/cases.txt" "$D" 1 "$BATS_TEST_TMPDIR/none"'
	assert_eq "$output" "$D"
}

@test "shard_cases: longest first to the least loaded VM, by the last run's durations" {
	local r=$BATS_TEST_TMPDIR/results/20260101T000000Z-x
	mkdir -p "$r"
	[ -x "$NX_TOP/build/nx_summary" ] || skip "build/nx_summary not built"
	cat >"$r/ktap.log" <<-'EOF'
		TAP version 13
		1..5
		# nx_duration_ms: 9000
		ok 1 x.one
		# nx_duration_ms: 4000
		ok 2 x.two
		# nx_duration_ms: 5000
		not ok 3 y.one # x
		# nx_duration_ms: 1000
		ok 4 y.two
		# nx_duration_ms: 500
		ok 5 z.one # SKIP y
	EOF
	sourced 'shard_cases "$D/cases.txt" "$D" 2 "$BATS_TEST_TMPDIR/results" >/dev/null
		cut -d" " -f2 "$D/vm-1/cases.txt" | tr "\n" " "; echo
		cut -d" " -f2 "$D/vm-2/cases.txt" | tr "\n" " "'
	assert_status 0
	# 9 + 1 s and 5 + 4 + 0.5 s, each VM in catalogue order.
	assert_eq "$output" "x.one y.two 
x.two y.one z.one "
}

# stream FILE MODE NAME:RESULT...: a VM's results stream of one cell.
stream() {
	local f=$1 mode=$2 t i=0
	shift 2
	{
		echo "# nx_cell: begin $mode"
		echo "TAP version 13"
		echo "1..$#"
		for t in "$@"; do
			i=$((i + 1))
			echo "# selftests: nx: ${t%%:*}"
			echo "# output of ${t%%:*}"
			case ${t#*:} in
			pass) echo "ok $i ${t%%:*}" ;;
			skip) echo "ok $i ${t%%:*} # SKIP no reason" ;;
			fail) echo "# nx_perf: ${t%%:*} 12 kvmmmu:x"
			      echo "not ok $i ${t%%:*} # exit 1: broke" ;;
			esac
		done
		echo "# nx_param: kvm.nx_huge_pages=Y"
		echo "# nx_cell: end $mode run_s=$i$i"
	} >"$f"
}

@test "merge_shards: one stream in catalogue order, renumbered, the longest run_s" {
	mkdir -p "$D/vm-1" "$D/vm-2"
	stream "$D/vm-1/results.raw" tdp x.one:pass y.one:fail z.one:skip
	stream "$D/vm-2/results.raw" tdp x.two:pass y.two:pass
	sourced 'merge_shards "$D/cases.txt" "$D" 1 tdp "$D/vm-1" "$D/vm-2" && cat "$D/results.raw"'
	assert_status 0
	assert_eq "$output" "# nx_cell: begin tdp
TAP version 13
1..5
# selftests: nx: x.one
# output of x.one
ok 1 x.one
# selftests: nx: x.two
# output of x.two
ok 2 x.two
# selftests: nx: y.one
# output of y.one
not ok 3 y.one # exit 1: broke
# selftests: nx: y.two
# output of y.two
ok 4 y.two
# selftests: nx: z.one
# output of z.one
ok 5 z.one # SKIP no reason
# nx_perf: y.one 12 kvmmmu:x
# nx_param: kvm.nx_huge_pages=Y
# nx_cell: end tdp run_s=33"
}

@test "merge_shards: a VM that died leaves its tests missing, so the cell fails" {
	mkdir -p "$D/vm-1" "$D/vm-2"
	stream "$D/vm-1/results.raw" tdp x.one:pass y.one:pass z.one:pass
	sourced 'merge_shards "$D/cases.txt" "$D" 1 tdp "$D/vm-1" "$D/vm-2" &&
		tr -d "\r" <"$D/results.raw" | grep -v "^# nx_" >"$D/ktap.log" &&
		"$NX_TOP/build/nx_summary" --ktap "$D/ktap.log" --out "$D/summary.json"'
	assert_status 1
	[[ $output == *"MISSING 2 of the 5 planned tests reported no result"* ]] ||
		flunk "$output"
}

@test "merge_shards: per MMU mode, each cell merged on its own" {
	mkdir -p "$D/vm-1" "$D/vm-2"
	stream "$D/a" tdp x.one:pass y.one:pass z.one:pass
	stream "$D/b" shadow x.one:fail y.one:pass z.one:pass
	cat "$D/a" "$D/b" >"$D/vm-1/results.raw"
	stream "$D/a" tdp x.two:pass y.two:pass
	stream "$D/b" shadow x.two:pass y.two:fail
	cat "$D/a" "$D/b" >"$D/vm-2/results.raw"
	sourced 'merge_shards "$D/cases.txt" "$D" 0 "tdp shadow" "$D/vm-1" "$D/vm-2" &&
		grep -E "^(not )?ok " "$D/tdp/results.raw" "$D/shadow/results.raw"'
	assert_status 0
	assert_eq "$output" "$D/tdp/results.raw:ok 1 x.one
$D/tdp/results.raw:ok 2 x.two
$D/tdp/results.raw:ok 3 y.one
$D/tdp/results.raw:ok 4 y.two
$D/tdp/results.raw:ok 5 z.one
$D/shadow/results.raw:not ok 1 x.one # exit 1: broke
$D/shadow/results.raw:ok 2 x.two
$D/shadow/results.raw:ok 3 y.one
$D/shadow/results.raw:not ok 4 y.two # exit 1: broke
$D/shadow/results.raw:ok 5 z.one"
}

@test "name_vm_consoles: a failure names its VM's console log" {
	mkdir -p "$D/vm-1" "$D/vm-2"
	printf '/b/x_test x.one\n' >"$D/vm-1/cases.txt"
	printf '/b/x_test x.two\n' >"$D/vm-2/cases.txt"
	printf 'ok 1 x.one\nnot ok 2 x.two # broke\n' >"$D/ktap.log"
	sourced 'name_vm_consoles "$D/ktap.log" "$D"'
	assert_eq "$output" "nx: x.two ran in $D/vm-2: see its console.log"
}

@test "--jobs: a positive number, VM mode only; the default fits cores and memory" {
	sourced 'parse_args --jobs 0'
	assert_status 2
	assert_eq "$stderr" "run_nx_tests.sh: --jobs 0: expected a number of VMs
Try 'run_nx_tests.sh --help'."
	sourced 'parse_args --host --jobs 2'
	assert_status 2
	sourced 'parse_args --jobs 3 && echo "$NX_JOBS"'
	assert_eq "$output" 3
	sourced 'parse_args && echo "$NX_JOBS"'
	assert_status 0
	[ "$output" -ge 1 ] && [ "$output" -le "$(nproc)" ] || flunk "default jobs: $output"
	# Memory for one VM only: one job.
	sourced 'NX_VM_MEM=$(( $(awk "/^MemAvailable:/ { print int(\$2 / 1024) }" /proc/meminfo) - 400 ))
		default_jobs'
	assert_eq "$output" 1
}
