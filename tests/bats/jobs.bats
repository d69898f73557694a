#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# --jobs: the selected cases dealt over several VMs (shard_cases) and their
# results streams merged back into one per cell in catalogue order
# and side files merged into one per cell in catalogue order
# (merge_shards, nx_summary --split and --merge).  No VM: the streams are
# written here.

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2154

load test_helper

# sourced CODE: run CODE in bash with run_nx_tests.sh sourced.
sourced() {
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		'"$1"
}

# dealt RESULTS: shard_cases over 2 VMs by RESULTS' last run; output: the
# cases of each VM, a line each.
dealt() {
	sourced 'shard_cases "$D/cases.txt" "$D" 2 "'"$1"'" >/dev/null
		cut -d" " -f2 "$D/vm-1/cases.txt" | tr "\n" " "; echo
		cut -d" " -f2 "$D/vm-2/cases.txt" | tr "\n" " "'
}

setup() {
	D=$BATS_TEST_TMPDIR/k
	mkdir -p "$D"
	# No shipped durations: the cases weigh what each test gives them.
	export NX_DURATIONS=$BATS_TEST_TMPDIR/none
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

@test "shard_cases: with no run of its own, by the shipped durations; a run's own win" {
	local r=$BATS_TEST_TMPDIR/results/20260101T000000Z-x
	local hint=$BATS_TEST_TMPDIR/durations.txt
	printf '# a comment\nx.one 9000\nx.two 4000\ny.one 5000\ny.two 1000\nz.one 500\n' \
		>"$hint"
	NX_DURATIONS=$hint dealt "$BATS_TEST_TMPDIR/none"
	assert_status 0
	assert_eq "$output" "x.one y.two 
x.two y.one z.one "
	# The last run says x.two is the longest now.
	mkdir -p "$r"
	[ -x "$NX_TOP/build/nx_summary" ] || skip "build/nx_summary not built"
	printf 'TAP version 13\n1..1\n# nx_duration_ms: 20000\nok 1 x.two\n' >"$r/ktap.log"
	NX_DURATIONS=$hint dealt "$BATS_TEST_TMPDIR/results"
	assert_eq "$output" "x.two 
x.one y.one y.two z.one "
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
	dealt "$BATS_TEST_TMPDIR/results"
	assert_status 0
	# 9 + 1 s and 5 + 4 + 0.5 s, each VM in catalogue order.
	assert_eq "$output" "x.one y.two 
x.two y.one z.one "
}

# stream FILE NAME:RESULT...: a VM's results stream of one cell (KTAP
# only, as run_cases.sh writes it).
stream() {
	local f=$1 t i=0
	shift
	{
		echo "TAP version 13"
		echo "1..$#"
		for t in "$@"; do
			i=$((i + 1))
			echo "# selftests: nx: ${t%%:*}"
			echo "# output of ${t%%:*}"
			case ${t#*:} in
			pass) echo "ok $i ${t%%:*}" ;;
			skip) echo "ok $i ${t%%:*} # SKIP no reason" ;;
			fail) echo "not ok $i ${t%%:*} # exit 1: broke" ;;
			esac
		done
	} >"$f"
}

# side VDIR MODE RUN_S [PERF_TEST]: the side files of cell MODE, as the
# guest sends them when the cell ends: a tar archive appended to
# VDIR/side.tar (params.txt, cell.txt, perf/PERF_TEST.txt).
side() {
	local s=$BATS_TEST_TMPDIR/side.$$
	rm -rf "$s" && mkdir -p "$s/$2"
	echo "kvm.nx_huge_pages=Y" >"$s/$2/params.txt"
	printf 'mmu=%s\nrun_s=%s\n' "$2" "$3" >"$s/$2/cell.txt"
	if [ -n "${4:-}" ]; then
		mkdir "$s/$2/perf" && echo "12 kvmmmu:x" >"$s/$2/perf/$4.txt"
	fi
	tar -c -C "$s" "$2" >>"$1/side.tar"
}

@test "merge_shards: one stream in catalogue order, renumbered; the side files, the longest run_s" {
	mkdir -p "$D/vm-1" "$D/vm-2"
	stream "$D/vm-1/results.raw" x.one:pass y.one:fail z.one:skip
	side "$D/vm-1" tdp 33 y.one
	stream "$D/vm-2/results.raw" x.two:pass y.two:pass
	side "$D/vm-2" tdp 22
	sourced 'merge_shards "$D/cases.txt" "$D" 1 tdp "$D/vm-1" "$D/vm-2" && cat "$D/results.raw"'
	assert_status 0
	assert_eq "$output" "TAP version 13
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
ok 5 z.one # SKIP no reason"
	assert_eq "$(<"$D/params.txt")" "kvm.nx_huge_pages=Y"
	assert_eq "$(<"$D/perf/y.one.txt")" "12 kvmmmu:x"
	assert_eq "$(<"$D/cell.txt")" "mmu=tdp
run_s=33"
	[ ! -e "$D/vm-1/side" ] && [ ! -e "$D/vm-1/side.tar" ] || flunk "side files left in vm-1"
}

@test "merge_shards: a VM that died leaves its tests missing, so the cell fails" {
	mkdir -p "$D/vm-1" "$D/vm-2"
	stream "$D/vm-1/results.raw" x.one:pass y.one:pass z.one:pass
	side "$D/vm-1" tdp 3
	# vm-2 died in the middle of sending its side files.
	side "$D/vm-2" tdp 4 x.two
	truncate -s 700 "$D/vm-2/side.tar"
	sourced 'merge_shards "$D/cases.txt" "$D" 1 tdp "$D/vm-1" "$D/vm-2" &&
		tr -d "\r" <"$D/results.raw" >"$D/ktap.log" &&
		"$NX_TOP/build/nx_summary" --ktap "$D/ktap.log" --out "$D/summary.json"'
	assert_status 1
	[[ $output == *"MISSING 2 of the 5 planned tests reported no result"* ]] ||
		flunk "$output"
	assert_eq "$(<"$D/cell.txt")" "mmu=tdp
run_s=3"
}

@test "merge_shards: per MMU mode, each cell merged on its own" {
	mkdir -p "$D/vm-1" "$D/vm-2"
	stream "$D/a" x.one:pass y.one:pass z.one:pass
	stream "$D/b" x.one:fail y.one:pass z.one:pass
	cat "$D/a" "$D/b" >"$D/vm-1/results.raw"
	side "$D/vm-1" tdp 1
	side "$D/vm-1" shadow 2 x.one
	stream "$D/a" x.two:pass y.two:pass
	stream "$D/b" x.two:pass y.two:fail
	cat "$D/a" "$D/b" >"$D/vm-2/results.raw"
	side "$D/vm-2" tdp 3
	side "$D/vm-2" shadow 1 y.two
	sourced 'merge_shards "$D/cases.txt" "$D" 0 "tdp shadow" "$D/vm-1" "$D/vm-2" &&
		"$NX_TOP/build/nx_summary" --ktap "$D/tdp/results.raw" --cases &&
		"$NX_TOP/build/nx_summary" --ktap "$D/shadow/results.raw" --cases &&
		cat "$D/tdp/cell.txt" "$D/shadow/cell.txt" && ls "$D/tdp" && ls "$D/shadow/perf"'
	assert_status 0
	assert_eq "$output" "x.one pass
x.two pass
y.one pass
y.two pass
z.one pass
x.one fail
x.two pass
y.one pass
y.two fail
z.one pass
mmu=tdp
run_s=3
mmu=shadow
run_s=2
cell.txt
params.txt
results.raw
x.one.txt
y.two.txt"
}

@test "nx_vm_results: the results so far of each VM, numbered, as nx_summary reads them" {
	mkdir -p "$D/vm-1" "$D/vm-2"
	printf '%s\r\n' "TAP version 13" "1..4" "# ok 9 nested" "ok 1 x.one" \
		"not ok 2 y.one # broke" "ok 3 z.one # SKIP no THP" \
		"not ok 4 x.two # FLAKY passed 1 of 2: broke" >"$D/vm-1/results.raw"
	# A lab host's stream: TAP whose names have spaces.
	printf '%s\n' "1..2" "ok 1 the share refuses: root_share" "# half a li" \
		>"$D/vm-2/results.raw"
	sourced 'nx_vm_results "$D/vm-1" "$D/vm-2" "$D/vm-3"'
	assert_status 0
	assert_eq "$output" "$D/vm-1:1 x.one pass
$D/vm-1:2 y.one FAIL
$D/vm-1:3 z.one skip
$D/vm-1:4 x.two FAIL
$D/vm-2:1 the share refuses: root_share pass"
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
