#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# What a lab ingests: junit.xml, summary.json (docs/summary.schema.json)
# and tests/<name>.log, written by nx_summary, read back by readers that
# are not ours (tests/formats_check.py: Debian's python3-junitparser and
# python3-jsonschema) and compared with ktap.log case by case.  The
# recorded results are fixtures/labs (real runs of nx_recovery_ratio.*:
# fixtures/labs/README).  Every way the check can fail is shown failing
# on a corrupted copy.

# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2154

load test_helper

setup_file() {
	build_nx_summary
	/usr/bin/python3 -c 'import junitparser, jsonschema' ||
		flunk "python3-junitparser and python3-jsonschema are needed (scripts/install_deps.sh check)"
}

SCHEMA=$NX_TOP/docs/summary.schema.json

# formats DIR...: tests/formats_check.py over DIR..., captured.
formats() {
	capture "$NX_TOP/tests/formats_check.py" "$SCHEMA" "$@"
}

# write_results DIR: summary.json, junit.xml and tests/ of DIR's ktap.log,
# as summarize() writes them.
write_results() {
	"$NX_BUILD/nx_summary" --ktap "$1/ktap.log" --out "$1/summary.json" \
		--junit "$1/junit.xml" --case-logs "$1/tests" \
		--params "$1/params.txt" --meta mode=vm --meta mmu=tdp \
		--meta "kernel_release=$(sed -n 's/^kernel_release=//p' "$1/cell.txt")" \
		--meta accel=tcg --run-metric boot_s=6.6 --run-metric run_s=16 >/dev/null
}

# A copy of the recorded 7.3.4 run (3 failures, 6 passes), written out.
real_73() {
	R=$BATS_TEST_TMPDIR/r73
	mkdir -p "$R"
	cp "$NX_FIXTURES"/labs/new-7.3.4/*/{ktap.log,cell.txt,params.txt} "$R/"
	write_results "$R" || true
}

@test "recorded runs (6.12 and 7.3.4, with and without --repeat 3): junit.xml and summary.json agree with ktap.log" {
	local d n=0
	cp -r "$NX_FIXTURES/labs" "$BATS_TEST_TMPDIR/labs"
	for d in "$BATS_TEST_TMPDIR"/labs/*/*/; do
		write_results "${d%/}" || true
		n=$((n + 1))
	done
	assert_eq "$n" 6 "recorded runs"
	formats "$BATS_TEST_TMPDIR/labs"
	assert_status 0
	assert_eq "$(grep -c '^ok ' <<<"$output")" 6 "folders checked"
}

@test "junit.xml of 7.3.4: a testcase per case, suite as classname, the failures with reason and output" {
	real_73
	formats "$R"
	assert_status 0
	# Read back by junitparser, not by grep.
	capture /usr/bin/python3 -c '
import sys, junitparser
for s in junitparser.JUnitXml.fromfile(sys.argv[1]):
    print(s.name, s.tests, s.failures, s.skipped)
    for c in s:
        r = [x for x in c.result if isinstance(x, junitparser.Failure)]
        print(c.classname, c.name, c.time, "FAIL" if r else "ok",
              "output" if r and "Test Assertion Failure" in r[0].text else "")
' "$R/junit.xml"
	assert_status 0
	assert_eq "$output" "nx-selftests 7.3.4+deb13-amd64 tdp 9 3 0
nx_recovery_ratio hugetlb_2m.ratio_1 0.691 ok 
nx_recovery_ratio hugetlb_2m.ratio_2 0.849 FAIL output
nx_recovery_ratio hugetlb_2m.ratio_3 1.213 FAIL output
nx_recovery_ratio hugetlb_2m.ratio_4 1.399 FAIL output
nx_recovery_ratio hugetlb_2m.ratio_above_splits 2.009 ok 
nx_recovery_ratio hugetlb_2m.ratio_0_disables 2.127 ok 
nx_recovery_ratio hugetlb_2m.period_0_is_hour_over_ratio 2.213 ok 
nx_recovery_ratio hugetlb_2m.lower_period_wakes_worker 2.028 ok 
nx_recovery_ratio hugetlb_2m.enable_wakes_worker 1.987 ok " "junit.xml read back"
}

@test "tests/<name>.log: the case's own output, one level of '# ' off, and its result" {
	real_73
	local log=$R/tests/nx_recovery_ratio.hugetlb_2m.ratio_2.log
	local -a logs=("$R"/tests/*.log)
	[ ${#logs[@]} = 9 ] || flunk "expected 9 logs:" "${logs[@]}"
	assert_eq "$(head -n 1 "$log")" "selftests: nx: nx_recovery_ratio.hugetlb_2m.ratio_2"
	grep -qx '# ==== Test Assertion Failure ====' "$log" || flunk "no assertion in" "$(<"$log")"
	assert_eq "$(tail -n 1 "$log" | cut -c1-54)" \
		"fail nx_recovery_ratio.hugetlb_2m.ratio_2: exit 254: r"
	! grep -q 'ratio_3' "$log" || flunk "another case's output in" "$(<"$log")"
}

@test "pass, fail, skip and a crash from run_cases.sh" {
	local d=$BATS_TEST_TMPDIR/fake build=$BATS_TEST_TMPDIR/build
	mkdir -p "$d"
	make_fake_build "$build" alpha_test:unused
	printf '%s\n' "$build/alpha_test fake.a.pass" "$build/alpha_test fake.a.fail" \
		"$build/alpha_test fake.a.skip" "$build/alpha_test fake.a.crash" \
		>"$BATS_TEST_TMPDIR/cases.txt"
	TMPDIR=$BATS_TEST_TMPDIR "$NX_TOP/scripts/run_cases.sh" \
		"$BATS_TEST_TMPDIR/cases.txt" 5 >"$d/ktap.log"
	printf '%s\n' kernel_release=6.12.0-test mmu=tdp >"$d/cell.txt"
	: >"$d/params.txt"
	write_results "$d" || true
	formats "$d"
	assert_status 0
	grep -q '<skipped message="no 2M hugepages"/>' "$d/junit.xml" ||
		flunk "no skipped element:" "$(<"$d/junit.xml")"
}

@test "XML: markup, a tab, control bytes and bad UTF-8 in a reason and output stay readable" {
	local d=$BATS_TEST_TMPDIR/esc
	mkdir -p "$d"
	printf 'TAP version 13\n1..2\n# out <a> & "b"\x01\xff\n# nx_duration_ms: 3\nnot ok 1 nx.a.x # exit 1: <b>&\t"q" \x02\xc3\x28 é\nok 2 nx.a.y # SKIP no <THP>\n' \
		>"$d/ktap.log"
	printf '%s\n' kernel_release=6.12.0-test mmu=tdp >"$d/cell.txt"
	: >"$d/params.txt"
	write_results "$d" || true
	capture /usr/bin/python3 -c '
import sys, junitparser
for s in junitparser.JUnitXml.fromfile(sys.argv[1]):
    for c in s:
        for r in c.result:
            print(repr(r.message), repr(r.text))
' "$d/junit.xml"
	assert_status 0
	assert_eq "$output" "'exit 1: <b>&\\t\"q\" ??( é' '# out <a> & \"b\"??\\n# nx_duration_ms: 3\\n'
'no <THP>' None"
}

@test "an infrastructure failure: one failed testcase naming the reason" {
	local d=$BATS_TEST_TMPDIR/infra
	mkdir -p "$d"
	capture "$NX_BUILD/nx_summary" --infrastructure "QEMU <died> & \"aborted\"" \
		--out "$d/summary.json" --junit "$d/junit.xml" --meta mode=vm \
		--meta kernel_release=6.12.0-test
	assert_status 125
	formats "$d"
	assert_status 0
	# --case-logs has no cases to write.
	capture "$NX_BUILD/nx_summary" --infrastructure x --out "$d/s.json" \
		--case-logs "$d/tests"
	assert_status 2
}

# The check fails, naming what, on each corruption of a good folder.
# corrupt DESCRIPTION FILE SED-SCRIPT EXPECTED-LINE
corrupt() {
	real_73
	sed -i "$3" "$R/$2"
	formats "$R"
	assert_status 1
	[ "${lines[0]}" = "FAIL $R" ] || flunk "$1: not refused:" "$output"
	grep -qF -- "$4" <<<"$output" || flunk "$1: expected '$4' in:" "$output"
}

@test "refused: a failure dropped from junit.xml" {
	corrupt "failure dropped" junit.xml \
		'/name="hugetlb_2m.ratio_3"/,/<\/testcase>/{/<failure/,/<\/failure>/d}' \
		"case 3 (nx_recovery_ratio.hugetlb_2m.ratio_3): junit.xml has ('nx_recovery_ratio.hugetlb_2m.ratio_3', 'pass'"
}

@test "refused: a testcase missing from junit.xml" {
	corrupt "testcase dropped" junit.xml \
		'/name="hugetlb_2m.ratio_1"/,/<\/testcase>/d' \
		"counts differ: ktap.log 9, summary.json 9, junit.xml 8"
}

@test "refused: junit.xml's failure message differs from ktap.log's reason" {
	corrupt "reason changed" junit.xml 's/message="exit 254: ratio 2/message="exit 1: ratio 2/' \
		"case 2 (nx_recovery_ratio.hugetlb_2m.ratio_2): junit.xml has"
}

@test "refused: junit.xml's failure without the case's output" {
	corrupt "output dropped" junit.xml '/==== Test Assertion Failure/d' \
		"junit.xml failure text is not the case's output"
}

@test "refused: a junit.xml that is not XML" {
	real_73
	printf '<testsuites><testsuite>' >"$R/junit.xml"
	formats "$R"
	[ "$status" != 0 ] || flunk "not refused:" "$output"
}

@test "refused: summary.json with a status the schema does not know" {
	corrupt "status" summary.json 's/"status": "pass"/"status": "passed"/' \
		"summary.json: 'passed' is not one of ['pass', 'fail', 'skip', 'flaky'] at tests/0/status"
}

@test "refused: summary.json without its version" {
	corrupt "version" summary.json '/"version": 1,/d' \
		"summary.json: 'version' is a required property"
}

@test "refused: summary.json whose test disagrees with ktap.log" {
	corrupt "duration" summary.json 's/"duration_ms": 849/"duration_ms": 848/' \
		"case 2 (nx_recovery_ratio.hugetlb_2m.ratio_2): summary.json has"
}

@test "refused: a case without its log, a folder without junit.xml" {
	real_73
	rm "$R/tests/nx_recovery_ratio.hugetlb_2m.ratio_4.log"
	formats "$R"
	assert_status 1
	grep -qF "no tests/nx_recovery_ratio.hugetlb_2m.ratio_4.log" <<<"$output" ||
		flunk "$output"
	rm "$R/junit.xml"
	formats "$R"
	assert_status 1
	grep -qx '  no junit.xml' <<<"$output" || flunk "$output"
}

@test "refused: an infrastructure junit.xml that does not name the reason" {
	local d=$BATS_TEST_TMPDIR/infra
	mkdir -p "$d"
	"$NX_BUILD/nx_summary" --infrastructure "no boot" --out "$d/summary.json" \
		--junit "$d/junit.xml" >/dev/null || true
	sed -i 's/message="no boot"/message="boot"/' "$d/junit.xml"
	formats "$d"
	assert_status 1
	grep -qF "junit.xml: expected [('nx-selftests', 'infrastructure', 'fail', 'no boot')]" <<<"$output" ||
		flunk "$output"
}

@test "--cases: NAME and pass, fail or skip per result, what docs/labs.md's LAVA definition reports" {
	capture "$NX_BUILD/nx_summary" --results "$NX_FIXTURES/labs/new-7.3.4" --cases
	assert_status 0
	assert_eq "${#lines[@]}" 9 "lines"
	assert_eq "$(grep -c ' fail$' <<<"$output")" 3 "failures"
	assert_has_line "nx_recovery_ratio.hugetlb_2m.ratio_2 fail"
	assert_has_line "nx_recovery_ratio.hugetlb_2m.ratio_1 pass"
	printf '%s\n' "1..1" "ok 1 nx.a.b # SKIP no THP" >"$BATS_TEST_TMPDIR/ktap.log"
	capture "$NX_BUILD/nx_summary" --ktap "$BATS_TEST_TMPDIR/ktap.log" --cases
	assert_eq "$output" "nx.a.b skip"
}
