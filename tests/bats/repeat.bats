#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# --repeat N: run_cases.sh runs each case N times (NX_REPEAT), one result
# per case; a case that passes some runs and fails others is flaky, a
# failure of its own kind in KTAP, summary.json, junit.xml and the
# queries; its metrics get their spread, which --compare uses.  The flaky
# stand-in is fixtures/fake_test's "flaky" case (fails every second run).

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2154

load test_helper

setup_file() {
	build_nx_summary
}

setup() {
	D=$BATS_TEST_TMPDIR/run
	B=$BATS_TEST_TMPDIR/build
	mkdir -p "$D"
	make_fake_build "$B" alpha_test:unused
}

# repeat N CASE...: run_cases.sh with NX_REPEAT=N over CASEs of the fake
# build, KTAP into D/ktap.log; then nx_summary writes D's summary.json,
# junit.xml and tests/, its output and status captured.
repeat() {
	local n=$1 c
	shift
	for c in "$@"; do
		echo "$B/alpha_test $c"
	done >"$BATS_TEST_TMPDIR/cases.txt"
	NX_REPEAT=$n TMPDIR=$BATS_TEST_TMPDIR "$NX_TOP/scripts/run_cases.sh" \
		"$BATS_TEST_TMPDIR/cases.txt" 5 >"$D/ktap.log"
	printf '%s\n' kernel_release=6.12.0-test mmu=tdp >"$D/cell.txt"
	capture "$NX_BUILD/nx_summary" --ktap "$D/ktap.log" --out "$D/summary.json" \
		--junit "$D/junit.xml" --case-logs "$D/tests"
}

@test "run_cases.sh NX_REPEAT=3: one result per case; flaky is not ok # FLAKY with its pass count" {
	repeat 3 fake.a.pass fake.a.flaky fake.a.fail fake.a.skip
	assert_eq "$(grep -E '^(not )?ok ' "$D/ktap.log")" "ok 1 fake.a.pass
not ok 2 fake.a.flaky # FLAKY passed 2 of 3: exit 1: run 2 lost the race
not ok 3 fake.a.fail # exit 1: assertion failed
ok 4 fake.a.skip # SKIP no 2M hugepages"
	assert_eq "$(grep -c '^# nx_repeat: run [123] of 3: ' "$D/ktap.log")" 12 "run lines"
	grep -qx '# nx_repeat: run 2 of 3: fail: exit 1: run 2 lost the race' "$D/ktap.log" ||
		flunk "$(<"$D/ktap.log")"
	# Each case ran three times, the flaky one's runs 1 to 3.
	assert_eq "$(grep -c -- '-r fake.a.flaky' "$B/alpha_test.calls")" 3 "flaky runs"
	assert_eq "$(<"$B/alpha_test.flaky")" 3 "flaky counter"
}

@test "NX_REPEAT unset or 1: the KTAP of one run, no nx_repeat lines" {
	repeat 1 fake.a.pass fake.a.flaky
	assert_eq "$(grep -E '^(not )?ok ' "$D/ktap.log")" "ok 1 fake.a.pass
ok 2 fake.a.flaky"
	! grep -q nx_repeat "$D/ktap.log" || flunk "$(<"$D/ktap.log")"
}

@test "flaky in summary.json and the short summary: a failure, never a pass" {
	repeat 3 fake.a.pass fake.a.flaky
	assert_status 1
	assert_eq "$output" "  FLAKY   fake.a.flaky: passed 2 of 3: exit 1: run 2 lost the race
2 tests: 1 passed, 0 failed, 0 skipped, 1 flaky"
	find_python
	local flat
	flat=$(json_flat "$D/summary.json")
	grep -qx '.run.status="failed"' <<<"$flat" || flunk "$flat"
	grep -qx '.tests\[1\].status="flaky"' <<<"$flat" || flunk "$flat"
	grep -qx '.tests\[1\].reason="passed 2 of 3: exit 1: run 2 lost the race"' <<<"$flat" ||
		flunk "$flat"
	# The time of all three runs (1 + 2 + 3 ms), not the last one's.
	grep -qx '.tests\[1\].duration_ms=6' <<<"$flat" || flunk "$flat"
	# 11.5, 12.5, 13.5 ms: the mean and the spread.
	assert_eq "$(grep '^.tests\[1\].metrics' <<<"$flat")" '.tests[1].metrics.recovery_ms.value=12.5
.tests[1].metrics.recovery_ms.unit="ms"
.tests[1].metrics.recovery_ms.samples=3
.tests[1].metrics.recovery_ms.min=11.5
.tests[1].metrics.recovery_ms.max=13.5
.tests[1].metrics.recovery_ms.sd=1.0'
}

@test "flaky in junit.xml (failure of type flaky), the queries and the formats check" {
	repeat 3 fake.a.pass fake.a.flaky
	capture /usr/bin/python3 -c '
import sys, junitparser
for s in junitparser.JUnitXml.fromfile(sys.argv[1]):
    print(s.tests, s.failures)
    for c in s:
        print(c.name, [(r.type, r.message) for r in c.result])
' "$D/junit.xml"
	assert_eq "$output" "2 1
a.pass []
a.flaky [('flaky', 'passed 2 of 3: exit 1: run 2 lost the race')]"
	capture "$NX_TOP/tests/formats_check.py" "$NX_TOP/docs/summary.schema.json" "$D"
	assert_status 0
	capture "$NX_BUILD/nx_summary" --results "$D" --status fake.a.flaky
	assert_eq "$output" flaky
	capture "$NX_BUILD/nx_summary" --results "$D" --failed
	assert_eq "$output" fake.a.flaky
	capture "$NX_BUILD/nx_summary" --results "$D" --verdict
	assert_status 1
	capture "$NX_BUILD/nx_summary" --table "x=$D"
	assert_status 1
	assert_eq "${lines[2]}" "fake.a.flaky  FLAKY"
}

@test "--compare uses the repeats: flaky is not a regression, the metric has its spread" {
	local base=$BATS_TEST_TMPDIR/base
	repeat 3 fake.a.pass fake.a.flaky
	mv "$D" "$base"
	mkdir -p "$D"
	rm -f "$B/alpha_test.flaky"
	repeat 1 fake.a.pass fake.a.flaky
	# Baseline: three runs in one boot; new: one run, 11.5 ms.
	capture "$NX_BUILD/nx_summary" --compare "$base" "$D"
	assert_status 0
	grep -qx '           passes        fake.a.pass' <<<"$output" || flunk "$output"
	grep -qx '           fixed         fake.a.flaky' <<<"$output" || flunk "$output"
	grep -q 'fake.a.flaky recovery_ms: baseline 12.5 ms (3 samples, 11.5..13.5), new 11.5 (1): same' \
		<<<"$output" || flunk "$output"
	grep -q 'fake.a.pass recovery_ms: baseline 12.5 ms (3 samples, 12.5..12.5), new 12.5 (1): same' \
		<<<"$output" || flunk "$output"
	# The other way: a case that passed in the baseline and flakes now.
	capture "$NX_BUILD/nx_summary" --compare "$D" "$base"
	assert_status 0
	grep -qx '           new flaky (not a regression: it passed some runs) fake.a.flaky: passed 2 of 3: exit 1: run 2 lost the race' \
		<<<"$output" || flunk "$output"
}

@test "--repeat: bad values are usage errors; run.conf carries it to the VM" {
	NX_NO_BUILD=1 capture "$NX_TOP/run_nx_tests.sh" --repeat 0
	assert_status 2
	assert_eq "${stderr%%$'\n'*}" "run_nx_tests.sh: --repeat 0: expected a number of runs (1-9999)"
	NX_NO_BUILD=1 capture "$NX_TOP/run_nx_tests.sh" --repeat x3
	assert_status 2
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		unset NX_RUN_TIMEOUT; NX_RUN_TIMEOUT_SET=; NX_RUN_TIMEOUT=1800
		parse_args --repeat 4 --jobs 1 && write_run_conf "$1" &&
		echo "$NX_RUN_TIMEOUT"' x "$BATS_TEST_TMPDIR/run.conf"
	assert_status 0
	assert_eq "$output" 7200 "NX_RUN_TIMEOUT, 4 runs of each case"
	grep -qx repeat=4 "$BATS_TEST_TMPDIR/run.conf" || flunk "$(<"$BATS_TEST_TMPDIR/run.conf")"
	NX_RUN_TIMEOUT=100 capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		parse_args --repeat 4 --jobs 1 && echo "$NX_RUN_TIMEOUT"'
	assert_eq "$output" 100 "a limit set in the environment stays"
}
