#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# nx_summary --compare BASE NEW and run_nx_tests.sh --compare: regressions
# against a baseline, on recorded real results (fixtures/labs: Debian's
# 6.12 three times, 7.3.4 once, nx_recovery_ratio.*) and on small made-up
# folders for the rules the real ones do not reach.

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2154

load test_helper

setup_file() {
	build_nx_summary
}

LABS=$NX_FIXTURES/labs

compare() {
	capture "$NX_BUILD/nx_summary" --compare "$@"
}

# The test lines (not the metric lines) of the last capture, "WHAT NAME".
tests_seen() {
	grep -v '^  metric \|^compare: ' <<<"$output" | cut -c12- | cut -d: -f1 |
		sed 's/  */ /g'
}

# ktap DIR MMU LINE...: DIR/ktap.log of LINEs, DIR/cell.txt of mode MMU.
ktap() {
	local dir=$1 mmu=$2
	shift 2
	mkdir -p "$dir"
	printf '%s\n' "TAP version 13" "$@" >"$dir/ktap.log"
	printf 'kernel_release=6.12.0-test\nmmu=%s\n' "$mmu" >"$dir/cell.txt"
}

@test "6.12 (baseline) against 7.3.4: ratio_2/3/4 are the regressions, exit 1" {
	compare "$LABS/baseline-6.12" "$LABS/new-7.3.4"
	assert_status 1
	assert_eq "$(grep '^REGRESSION' <<<"$output" | cut -d: -f1)" \
		"REGRESSION new failure   nx_recovery_ratio.hugetlb_2m.ratio_2
REGRESSION new failure   nx_recovery_ratio.hugetlb_2m.ratio_3
REGRESSION new failure   nx_recovery_ratio.hugetlb_2m.ratio_4"
	assert_eq "${lines[-1]}" "compare: 3 regressions (failing where the baseline passed): nx_recovery_ratio.hugetlb_2m.ratio_2 nx_recovery_ratio.hugetlb_2m.ratio_3 nx_recovery_ratio.hugetlb_2m.ratio_4"
	assert_eq "$(tests_seen | grep -c '^passes ')" 6 "tests that pass on both"
	assert_eq "${lines[0]}" "compare: baseline $LABS/baseline-6.12 (27 results), new $LABS/new-7.3.4 (9 results)"
}

@test "a run against itself: no regression, exit 0" {
	local run=("$LABS"/new-7.3.4/*)
	compare "${run[0]}" "${run[0]}"
	assert_status 0
	assert_eq "${lines[-1]}" "compare: no regression"
	assert_eq "$(tests_seen | grep -c '^still failing ')" 3 "still failing"
	compare "$LABS/baseline-6.12" "$LABS/baseline-6.12"
	assert_status 0
	assert_eq "${lines[-1]}" "compare: no regression"
}

@test "7.3.4 as the baseline of 6.12: fixed, and no regression" {
	compare "$LABS/new-7.3.4" "$LABS/baseline-6.12"
	assert_status 0
	assert_eq "$(tests_seen | grep '^fixed ')" "fixed nx_recovery_ratio.hugetlb_2m.ratio_2
fixed nx_recovery_ratio.hugetlb_2m.ratio_3
fixed nx_recovery_ratio.hugetlb_2m.ratio_4"
}

@test "metrics: one baseline run is too few samples to tell, and says so" {
	local base=("$LABS"/baseline-6.12/*)
	compare "${base[0]}" "$LABS/new-7.3.4"
	grep -qx '  metric nx_recovery_ratio.hugetlb_2m.enable_wakes_worker wake_on_enable_ms: baseline 9.554 ms (1 sample), new 7.509 (1): too few samples to tell (the baseline has 1, 3 needed)' \
		<<<"$output" || flunk "$output"
	! grep -q ': \(better\|worse\|same\) (' <<<"$output" || flunk "a verdict from one sample:" "$output"
}

@test "metrics: three baseline runs give a spread; inside it is the same" {
	compare "$LABS/baseline-6.12" "$LABS/new-7.3.4"
	grep -qx '  metric nx_recovery_ratio.hugetlb_2m.enable_wakes_worker wake_on_enable_ms: baseline 12.5543 ms (3 samples, 8.001..20.108), new 7.509 (1): same (the baseline'"'"'s spread: -7.20844..32.3171)' \
		<<<"$output" || flunk "$output"
}

@test "real --repeat 3 runs (one boot each): ratio_2/3/4 regress, metrics compared on their 3 samples" {
	compare "$LABS/baseline-6.12-repeat3" "$LABS/new-7.3.4-repeat3"
	assert_status 1
	assert_eq "${lines[-1]}" "compare: 3 regressions (failing where the baseline passed): nx_recovery_ratio.hugetlb_2m.ratio_2 nx_recovery_ratio.hugetlb_2m.ratio_3 nx_recovery_ratio.hugetlb_2m.ratio_4"
	assert_eq "${lines[0]}" "compare: baseline $LABS/baseline-6.12-repeat3 (9 results), new $LABS/new-7.3.4-repeat3 (9 results)"
	grep -qx '  metric nx_recovery_ratio.hugetlb_2m.ratio_above_splits pass_gap_max_ms: baseline 260.667 ms (3 samples, 258..266), new 280.333 (3): worse (the baseline'"'"'s spread: 246.81..274.523)' \
		<<<"$output" || flunk "$output"
	! grep -q 'too few samples' <<<"$output" || flunk "$output"
}

@test "metrics: worse and better only outside the baseline's range and 3 standard deviations" {
	local d=$BATS_TEST_TMPDIR i
	for i in 1 2 3; do
		ktap "$d/base/$i" tdp "# nx_metric: t_ms=$((9 + i)).000 ms" \
			"# nx_metric: zaps=$((100 + i)).000 zaps" "ok 1 nx.a.x"
	done
	# 10, 11, 12: mean 11, sd 1, spread 8..14.
	ktap "$d/worse" tdp "# nx_metric: t_ms=14.5 ms" "# nx_metric: zaps=90 zaps" "ok 1 nx.a.x"
	ktap "$d/same" tdp "# nx_metric: t_ms=13.9 ms" "# nx_metric: zaps=102 zaps" "ok 1 nx.a.x"
	ktap "$d/better" tdp "# nx_metric: t_ms=7.5 ms" "# nx_metric: zaps=200 zaps" "ok 1 nx.a.x"
	compare "$d/base" "$d/worse"
	assert_status 0
	assert_eq "$(grep -o 't_ms: .*' <<<"$output")" "t_ms: baseline 11 ms (3 samples, 10..12), new 14.5 (1): worse (the baseline's spread: 8..14)"
	# A count has no better or worse: higher or lower.
	assert_eq "$(grep -o 'zaps: .*' <<<"$output" | sed 's/ (the baseline.s spread.*//')" \
		"zaps: baseline 102 zaps (3 samples, 101..103), new 90 (1): lower"
	compare "$d/base" "$d/same"
	grep -q 't_ms: .*: same (' <<<"$output" || flunk "$output"
	grep -q 'zaps: .*: same (' <<<"$output" || flunk "$output"
	compare "$d/base" "$d/better"
	grep -q 't_ms: .*: better (' <<<"$output" || flunk "$output"
	grep -q 'zaps: .*: higher (' <<<"$output" || flunk "$output"
	# A worse metric is reported, never a regression: exit 0.
	assert_status 0
}

@test "per test: new failure, fixed, still failing, new skip, new test, not run; only pass -> fail regresses" {
	local d=$BATS_TEST_TMPDIR
	ktap "$d/b" tdp "ok 1 t.a.pass_fail" "not ok 2 t.a.fail_pass # x" \
		"not ok 3 t.a.fail_fail # x" "ok 4 t.a.pass_skip" \
		"ok 5 t.a.skip_fail # SKIP no" "ok 6 t.a.gone" "ok 7 t.a.skip_skip # SKIP no"
	ktap "$d/n" tdp "not ok 1 t.a.pass_fail # why" "ok 2 t.a.fail_pass" \
		"not ok 3 t.a.fail_fail # x" "ok 4 t.a.pass_skip # SKIP now" \
		"not ok 5 t.a.skip_fail # y" "not ok 6 t.a.new # z" \
		"ok 7 t.a.skip_skip # SKIP no"
	compare "$d/b" "$d/n"
	assert_status 1
	assert_eq "$(grep -v '^compare: ' <<<"$output")" \
		"REGRESSION new failure   t.a.pass_fail: why
           fixed         t.a.fail_pass
           still failing t.a.fail_fail: x
           new skip      t.a.pass_skip: now
           new failure (skipped in the baseline: not a regression) t.a.skip_fail: y
           new test      t.a.new: z
           still skipped t.a.skip_skip: no
           not run       t.a.gone (pass in the baseline)"
	assert_eq "${lines[-1]}" "compare: 1 regression (failing where the baseline passed): t.a.pass_fail"
}

@test "repeats: a test failing some of its runs is flaky, not a regression; failing all of them is" {
	local d=$BATS_TEST_TMPDIR
	ktap "$d/b" tdp "ok 1 t.a.x" "ok 2 t.a.y"
	ktap "$d/n/1" tdp "ok 1 t.a.x" "not ok 2 t.a.y # no"
	ktap "$d/n/2" tdp "not ok 1 t.a.x # once" "not ok 2 t.a.y # no"
	ktap "$d/n/3" tdp "ok 1 t.a.x" "not ok 2 t.a.y # no"
	compare "$d/b" "$d/n"
	assert_status 1
	assert_eq "$(grep -v '^compare: ' <<<"$output")" \
		"           new flaky (not a regression: it passed some runs) t.a.x (passed 2 of 3): once
REGRESSION new failure   t.a.y: no"
	assert_eq "${lines[-1]}" "compare: 1 regression (failing where the baseline passed): t.a.y"
	# A baseline that flaked is no baseline for a failure.
	compare "$d/n" "$d/n/2"
	assert_status 0
}

@test "several MMU modes: tests keyed by mode, one mode never compared with another" {
	local d=$BATS_TEST_TMPDIR
	ktap "$d/b/6.12/tdp" tdp "ok 1 t.a.x"
	ktap "$d/b/6.12/shadow" shadow "ok 1 t.a.x"
	ktap "$d/n/7.3/tdp" tdp "ok 1 t.a.x"
	ktap "$d/n/7.3/shadow" shadow "not ok 1 t.a.x # shadow only"
	compare "$d/b" "$d/n"
	assert_status 1
	assert_eq "$(tests_seen)" "new failure shadow/t.a.x
passes tdp/t.a.x"
	grep -q ', by MMU mode$' <<<"${lines[0]}" || flunk "$output"
}

@test "usage: exit 2 without two folders of results" {
	compare "$LABS/baseline-6.12"
	assert_status 2
	compare "$LABS/baseline-6.12" "$BATS_TEST_TMPDIR"
	assert_status 2
	assert_eq "$stderr" "nx_summary: no ktap.log under $BATS_TEST_TMPDIR"
	compare "$BATS_TEST_TMPDIR/none" "$LABS/baseline-6.12"
	assert_status 2
	capture "$NX_BUILD/nx_summary" --compare a b --failed
	assert_status 2
}

@test "run_nx_tests.sh --compare: the comparison's exit status becomes the run's, 125 and 2 stay" {
	local d=$BATS_TEST_TMPDIR run=("$LABS"/new-7.3.4/*)
	echo "${run[0]}" >"$d/run_dir"
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		NX_COMPARE=$1; compare_run "$2" "$3"' x "$LABS/baseline-6.12" "$d/run_dir" 1
	assert_status 1
	assert_eq "${lines[0]}" "nx: compared with $LABS/baseline-6.12"
	assert_eq "${lines[-1]}" "compare: 3 regressions (failing where the baseline passed): nx_recovery_ratio.hugetlb_2m.ratio_2 nx_recovery_ratio.hugetlb_2m.ratio_3 nx_recovery_ratio.hugetlb_2m.ratio_4"
	# The 7.3.4 run failed (1), but against itself nothing regressed.
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		NX_COMPARE=$1; compare_run "$2" "$3"' x "${run[0]}" "$d/run_dir" 1
	assert_status 0
	for rc in 125 2; do
		capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
			NX_COMPARE=$1; compare_run "$2" "$3"' x "${run[0]}" "$d/run_dir" $rc
		assert_status $rc
		assert_eq "$output" ""
	done
	# Without --compare the run's own status.
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		compare_run "$1" 4' x "$d/run_dir"
	assert_status 4
	# No results folder: 125, never a pass.
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		NX_COMPARE=$1; compare_run "$2" 0' x "${run[0]}" "$d/none"
	assert_status 125
}

@test "run_nx_tests.sh --compare: a baseline without results is a usage error" {
	NX_NO_BUILD=1 NX_BUILD=$BATS_TEST_TMPDIR/build capture "$NX_TOP/run_nx_tests.sh" \
		--compare "$BATS_TEST_TMPDIR" --list
	assert_status 2
	assert_eq "${stderr%%$'\n'*}" "run_nx_tests.sh: --compare $BATS_TEST_TMPDIR: no results (ktap.log) there"
	NX_NO_BUILD=1 capture "$NX_TOP/run_nx_tests.sh" --compare
	assert_status 2
	assert_eq "${stderr%%$'\n'*}" "run_nx_tests.sh: --compare needs a value"
}
