#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# tools/nx_summary: KTAP log in, summary.json and a short summary out.
# Built once with `make tools`, into this file's temporary folder.

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2154

load test_helper

setup_file() {
	find_python
	build_nx_summary
}

setup() {
	LOG=$BATS_TEST_TMPDIR/ktap.log
	JSON=$BATS_TEST_TMPDIR/summary.json
}

# summary [ARG...]: nx_summary --ktap LOG --out JSON ARG...
summary() {
	capture "$NX_BUILD/nx_summary" --ktap "$LOG" --out "$JSON" "$@"
}

# expect_json LINE...: summary.json is strict JSON with exactly these
# leaves (see json_flat), in order, after its format's version (1).
expect_json() {
	assert_eq "$(json_flat "$JSON")" "$(printf '%s\n' .version=1 "$@")" \
		"summary.json"
}

# The log of a run with a pass (metrics, duration), a fail and a skip:
# diagnostics at both levels, the harness's own ("# nx_metric: ...") and
# as run_cases.sh nests a binary's output ("# # nx_metric: ...").
mixed_log() {
	cat >"$LOG" <<'EOT'
TAP version 13
1..3
# selftests: nx: nx.a.pass
# TAP version 13
# 1..1
# # RUN nx.a.pass
# nx_metric: recovery_ms=12.5 ms
# # nx_metric: split_pages=512 pages
# nx_duration_ms: 42
# ok 1 nx.a.pass
ok 1 nx.a.pass
# selftests: nx: nx.b.fail
# # nx_duration_ms: 7
# not ok 1 nx.b.fail # exit 1: recovery did not happen
not ok 2 nx.b.fail # exit 1: recovery did not happen
# selftests: nx: nx.c.skip
ok 3 nx.c.skip # SKIP no 2M hugepages
EOT
}

@test "pass, fail and skip: statuses, reasons, durations, metrics, summary" {
	mixed_log
	summary
	assert_status 1
	assert_eq "$stderr" ""
	"$NX_PYTHON" -m json.tool "$JSON" >/dev/null
	expect_json \
		'.run.status="failed"' \
		'.tests[0].name="nx.a.pass"' \
		'.tests[0].status="pass"' \
		'.tests[0].duration_ms=42' \
		'.tests[0].reason=""' \
		'.tests[0].metrics.recovery_ms.value=12.5' \
		'.tests[0].metrics.recovery_ms.unit="ms"' \
		'.tests[0].metrics.split_pages.value=512.0' \
		'.tests[0].metrics.split_pages.unit="pages"' \
		'.tests[1].name="nx.b.fail"' \
		'.tests[1].status="fail"' \
		'.tests[1].duration_ms=7' \
		'.tests[1].reason="exit 1: recovery did not happen"' \
		'.tests[2].name="nx.c.skip"' \
		'.tests[2].status="skip"' \
		'.tests[2].duration_ms=null' \
		'.tests[2].reason="no 2M hugepages"'
	# The empty objects have no leaves: check the top-level keys.
	assert_eq "$(grep -o '^  "[a-z_]*"' "$JSON" | tr -d ' "' | tr '\n' ' ')" \
		"version run module_parameters run_metrics tests " "top-level keys"
	assert_eq "$output" "  FAILED  nx.b.fail: exit 1: recovery did not happen
  SKIPPED nx.c.skip: no 2M hugepages
3 tests: 1 passed, 1 failed, 1 skipped" "summary"
}

@test "all passed: exit 0, no FAILED or SKIPPED line" {
	printf '%s\n' "TAP version 13" "1..2" "ok 1 nx.a" "ok 2 nx.b" >"$LOG"
	summary
	assert_status 0
	assert_eq "$output" "2 tests: 2 passed, 0 failed, 0 skipped"
	expect_json '.run.status="passed"' '.tests[0].name="nx.a"' '.tests[0].status="pass"' \
		'.tests[0].duration_ms=null' '.tests[0].reason=""' \
		'.tests[1].name="nx.b"' '.tests[1].status="pass"' \
		'.tests[1].duration_ms=null' '.tests[1].reason=""'
}

@test "passes and skips: exit 0" {
	printf '%s\n' "1..2" "ok 1 nx.a" "ok 2 nx.b # SKIP no THP" >"$LOG"
	summary
	assert_status 0
	assert_eq "$output" "  SKIPPED nx.b: no THP
2 tests: 1 passed, 0 failed, 1 skipped"
}

@test "all skipped: exit 4" {
	printf '%s\n' "1..2" "ok 1 nx.a # SKIP no KVM" "ok 2 nx.b # SKIP no KVM" >"$LOG"
	summary
	assert_status 4
	assert_eq "$output" "  SKIPPED nx.a: no KVM
  SKIPPED nx.b: no KVM
2 tests: 0 passed, 0 failed, 2 skipped"
}

@test "a failure among skips: exit 1; 'not ok ... # SKIP' is a failure" {
	printf '%s\n' "1..2" "ok 1 nx.a # SKIP no KVM" "not ok 2 nx.b # boom" >"$LOG"
	summary
	assert_status 1
	printf '%s\n' "1..1" "not ok 1 nx.a # SKIP but failed" >"$LOG"
	summary
	assert_status 1
	assert_eq "$output" "  FAILED  nx.a: SKIP but failed
1 tests: 0 passed, 1 failed, 0 skipped"
}

@test "an empty log: exit 1, and valid JSON with no tests" {
	: >"$LOG"
	summary
	assert_status 1
	assert_eq "$output" "0 tests: 0 passed, 0 failed, 0 skipped"
	"$NX_PYTHON" -m json.tool "$JSON" >/dev/null
	assert_eq "$(json_flat "$JSON")" "$(printf '%s\n' .version=1 '.run.status="failed"')" "leaves"
	grep -q '"tests": \[' "$JSON" || flunk "no tests array" "$(<"$JSON")"
}

@test "a log with a plan but no result (the VM died): exit 1" {
	printf '%s\n' "TAP version 13" "1..3" "# selftests: nx: nx.a" "# # RUN nx.a" >"$LOG"
	summary
	assert_status 1
	assert_eq "$output" "0 tests: 0 passed, 0 failed, 0 skipped
  MISSING 3 of the 3 planned tests reported no result"
}

@test "passing results short of the plan: exit 1, the gap named" {
	printf '%s\n' "TAP version 13" "1..3" "ok 1 nx.a" "ok 2 nx.b" >"$LOG"
	summary
	assert_status 1
	assert_eq "$output" "2 tests: 2 passed, 0 failed, 0 skipped
  MISSING 1 of the 3 planned tests reported no result"
}

@test "metrics and durations belong to the next result only" {
	printf '%s\n' "1..2" "# nx_metric: a_ms=1 ms" "# nx_duration_ms: 10" "ok 1 nx.a" \
		"# nx_metric: b_ms=2.25 ms" "ok 2 nx.b" "# nx_metric: after_ms=3 ms" \
		"# nx_duration_ms: 99" >"$LOG"
	summary
	assert_status 0
	expect_json \
		'.run.status="passed"' \
		'.tests[0].name="nx.a"' '.tests[0].status="pass"' \
		'.tests[0].duration_ms=10' '.tests[0].reason=""' \
		'.tests[0].metrics.a_ms.value=1.0' '.tests[0].metrics.a_ms.unit="ms"' \
		'.tests[1].name="nx.b"' '.tests[1].status="pass"' \
		'.tests[1].duration_ms=null' '.tests[1].reason=""' \
		'.tests[1].metrics.b_ms.value=2.25' '.tests[1].metrics.b_ms.unit="ms"'
}

@test "--meta, --params and --run-metric go to run, module_parameters, run_metrics" {
	printf '%s\n' "1..1" "ok 1 nx.a" >"$LOG"
	printf '%s\n' "kvm.nx_huge_pages=Y" "kvm.nx_huge_pages_recovery_ratio=60" \
		"not a parameter" >"$BATS_TEST_TMPDIR/params.txt"
	summary --meta mode=host --meta kernel_release=6.12.117+deb12-amd64 \
		--params "$BATS_TEST_TMPDIR/params.txt" \
		--run-metric boot_s=1.5 --run-metric run_s=12
	assert_status 0
	expect_json '.run.status="passed"' '.run.mode="host"' '.run.kernel_release="6.12.117+deb12-amd64"' \
		'.module_parameters.kvm.nx_huge_pages="Y"' \
		'.module_parameters.kvm.nx_huge_pages_recovery_ratio="60"' \
		'.run_metrics.boot_s=1.5' '.run_metrics.run_s=12' \
		'.tests[0].name="nx.a"' '.tests[0].status="pass"' \
		'.tests[0].duration_ms=null' '.tests[0].reason=""'
}

@test "quotes, backslashes and tabs in names and reasons stay valid JSON" {
	printf '%s\n' "1..2" 'ok 1 nx."quoted"\x' \
		"not ok 2 nx.b # said \"no\" at C:\\dir	(tab)" >"$LOG"
	summary
	assert_status 1
	capture json_flat "$JSON"
	assert_status 0
	assert_has_line '.tests[0].name="nx.\"quoted\"\\x"'
	assert_has_line '.tests[1].reason="said \"no\" at C:\\dir\t(tab)"'
}

@test "usage errors: exit 2" {
	capture "$NX_BUILD/nx_summary"
	assert_status 2
	[[ $stderr == "usage: nx_summary --ktap FILE --out FILE"* ]] || flunk "$stderr"
	capture "$NX_BUILD/nx_summary" --ktap "$LOG"
	assert_status 2
	capture "$NX_BUILD/nx_summary" --ktap "$BATS_TEST_TMPDIR/nonexistent" --out "$JSON"
	assert_status 2
	[ ! -e "$JSON" ] || flunk "wrote $JSON"
	: >"$LOG"
	summary --meta novalue
	assert_status 2
	assert_eq "$stderr" "nx_summary: bad --meta 'novalue'"
	summary --run-metric =1
	assert_status 2
	capture "$NX_BUILD/nx_summary" --ktap "$LOG" \
		--out "$BATS_TEST_TMPDIR/no/such/dir/summary.json"
	assert_status 2
}

@test "--split and --merge: usage errors exit 2, a missing stream too" {
	capture "$NX_BUILD/nx_summary" --split "$LOG"
	assert_status 2
	capture "$NX_BUILD/nx_summary" --merge "$LOG"
	assert_status 2
	capture "$NX_BUILD/nx_summary" --split --merge "$LOG" x
	assert_status 2
	capture "$NX_BUILD/nx_summary" --ktap "$LOG" --split "$LOG" x
	assert_status 2
	capture "$NX_BUILD/nx_summary" --split "$BATS_TEST_TMPDIR/none" "$BATS_TEST_TMPDIR/out"
	assert_status 2
	[ ! -e "$BATS_TEST_TMPDIR/out" ] || flunk "wrote out"
	: >"$LOG"
	capture "$NX_BUILD/nx_summary" --merge "$LOG" "$BATS_TEST_TMPDIR/none"
	assert_status 2
}

@test "--merge: a case's lines from its selftests line on, one cut short without a result left out, the runner's last words first" {
	printf '%s\n' "b c.one" "b c.two" "b c.three" >"$BATS_TEST_TMPDIR/cases.txt"
	printf '%s\n' "TAP version 13" "1..2" "# selftests: nx: c.two" "# out" \
		"not ok 1 c.two # why" "# run_cases: the runner (pid 7) is gone: no more cases" \
		>"$BATS_TEST_TMPDIR/a"
	printf '%s\n' "TAP version 13" "1..1" "# selftests: nx: c.one" "ok 1 c.one # SKIP" \
		"# selftests: nx: c.three" >"$BATS_TEST_TMPDIR/b"
	printf '# half a line' >>"$BATS_TEST_TMPDIR/b"
	capture "$NX_BUILD/nx_summary" --merge "$BATS_TEST_TMPDIR/cases.txt" \
		"$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b"
	assert_status 0
	assert_eq "$output" "# run_cases: the runner (pid 7) is gone: no more cases
TAP version 13
1..3
# selftests: nx: c.one
ok 1 c.one # SKIP
# selftests: nx: c.two
# out
not ok 2 c.two # why"
}

# BUG (tools/nx_summary.c, write_test() and write_kv_object()): a metric
# of nan or inf (strtod() accepts them; nx_metric() would print them for a
# value such as 0.0 / 0) is written with %.3f / %g as a bare nan or inf
# token, which is not JSON.
@test "a nan or inf metric still gives valid JSON" {
	printf '%s\n' "1..1" "# nx_metric: rate=nan pages/s" "# nx_metric: peak=inf ms" \
		"ok 1 nx.a" >"$LOG"
	summary --run-metric boot_s=inf
	assert_status 0
	json_flat "$JSON" >/dev/null || flunk "invalid JSON:" "$(<"$JSON")"
}

@test "summarize(): CRs dropped, params.txt into the JSON" {
	local dir=$BATS_TEST_TMPDIR/run
	mkdir "$dir"
	printf '%s\r\n' "TAP version 13" "1..2" "# nx_duration_ms: 5" "ok 1 nx.a" \
		"ok 2 nx.b # SKIP no THP" >"$dir/results.raw"
	printf '%s\n' "kvm.nx_huge_pages=Y" "kvm_intel.ept=Y" >"$dir/params.txt"
	NX_SYSFS_ROOT=$BATS_TEST_TMPDIR/sysfs capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
			printf "%s\n" mode=host release=6.12.0-test run_s=2.5 >"$1/host.env"
			summarize "$1" "$1/results.raw" "" "" "$1/host.env"' summarize "$dir"
	assert_status 0
	assert_eq "$stderr" ""
	assert_eq "$output" "  SKIPPED nx.b: no THP
2 tests: 1 passed, 0 failed, 1 skipped
nx: results in $dir"
	assert_eq "$(<"$dir/ktap.log")" "TAP version 13
1..2
# nx_duration_ms: 5
ok 1 nx.a
ok 2 nx.b # SKIP no THP"
	assert_eq "$(<"$dir/params.txt")" "kvm.nx_huge_pages=Y
kvm_intel.ept=Y"
	JSON=$dir/summary.json
	expect_json '.run.status="passed"' '.run.mode="host"' '.run.kernel_release="6.12.0-test"' \
		'.run.accel="none"' \
		'.module_parameters.kvm.nx_huge_pages="Y"' \
		'.module_parameters.kvm_intel.ept="Y"' \
		'.run_metrics.boot_s=0' '.run_metrics.run_s=2.5' \
		'.tests[0].name="nx.a"' '.tests[0].status="pass"' \
		'.tests[0].duration_ms=5' '.tests[0].reason=""' \
		'.tests[1].name="nx.b"' '.tests[1].status="skip"' \
		'.tests[1].duration_ms=null' '.tests[1].reason="no THP"'
}

@test "run_cases.sh output through nx_summary: each case gets its own numbers" {
	local build=$BATS_TEST_TMPDIR/fake
	make_fake_build "$build" alpha_test:unused
	printf '%s\n' "$build/alpha_test fake.a.pass" "$build/alpha_test fake.a.fail" \
		"$build/alpha_test fake.a.skip" "$build/alpha_test fake.a.crash" \
		>"$BATS_TEST_TMPDIR/cases.txt"
	TMPDIR=$BATS_TEST_TMPDIR "$NX_TOP/scripts/run_cases.sh" \
		"$BATS_TEST_TMPDIR/cases.txt" 5 >"$LOG"
	summary
	assert_status 1
	expect_json \
		'.run.status="failed"' \
		'.tests[0].name="fake.a.pass"' '.tests[0].status="pass"' \
		'.tests[0].duration_ms=42' '.tests[0].reason=""' \
		'.tests[0].metrics.recovery_ms.value=12.5' \
		'.tests[0].metrics.recovery_ms.unit="ms"' \
		'.tests[1].name="fake.a.fail"' '.tests[1].status="fail"' \
		'.tests[1].duration_ms=7' '.tests[1].reason="exit 1: assertion failed"' \
		'.tests[2].name="fake.a.skip"' '.tests[2].status="skip"' \
		'.tests[2].duration_ms=1' '.tests[2].reason="no 2M hugepages"' \
		'.tests[3].name="fake.a.crash"' '.tests[3].status="fail"' \
		'.tests[3].duration_ms=null' '.tests[3].reason="exit 139"'
	assert_eq "$output" "  FAILED  fake.a.fail: exit 1: assertion failed
  SKIPPED fake.a.skip: no 2M hugepages
  FAILED  fake.a.crash: exit 139
4 tests: 1 passed, 2 failed, 1 skipped"
}

# The queries: what the scripts ask of results, from every ktap.log under
# a folder (here two runs of one test, and a cell of a matrix run).
two_runs() {
	local d=$BATS_TEST_TMPDIR/res
	mkdir -p "$d/run-1" "$d/run-2/6.12/tdp"
	mixed_log
	cp "$LOG" "$d/run-1/ktap.log"
	printf '%s\n' "TAP version 13" "1..2" "# nx_duration_ms: 9" \
		"ok 1 nx.b.fail" "not ok 2 nx.d.new # after 12 passes: got 0x1f" \
		>"$d/run-2/6.12/tdp/ktap.log"
	echo "$d"
}

@test "queries: --failed and --signature, over every ktap.log below" {
	local d
	d=$(two_runs)
	capture "$NX_BUILD/nx_summary" --results "$d" --failed
	assert_status 0
	assert_eq "$output" "nx.b.fail
nx.d.new"
	capture "$NX_BUILD/nx_summary" --results "$d" --signature
	assert_eq "$output" "nx.b.fail # exit N: recovery did not happen
nx.d.new # after N passes: got N"
}

@test "queries: --status and --reason give a test's last result" {
	local d
	d=$(two_runs)
	capture "$NX_BUILD/nx_summary" --results "$d" --status nx.b.fail
	assert_eq "$output" pass
	capture "$NX_BUILD/nx_summary" --results "$d/run-1" --status nx.b.fail
	assert_eq "$output" fail
	capture "$NX_BUILD/nx_summary" --results "$d/run-1" --reason nx.c.skip
	assert_eq "$output" "no 2M hugepages"
	capture "$NX_BUILD/nx_summary" --results "$d" --status nx.none
	assert_status 1
}

@test "queries: --durations and --verdict; --ktap reads one file" {
	local d
	d=$(two_runs)
	capture "$NX_BUILD/nx_summary" --ktap "$d/run-1/ktap.log" --durations
	assert_eq "$output" "nx.a.pass 42
nx.b.fail 7"
	capture "$NX_BUILD/nx_summary" --results "$d" --verdict
	assert_status 1
	assert_eq "$output" failed
	printf '%s\n' "1..1" "ok 1 a # SKIP why" >"$LOG"
	capture "$NX_BUILD/nx_summary" --ktap "$LOG" --verdict
	assert_status 4
	assert_eq "$output" skipped
}

@test "queries: no results is no failure, but no verdict; usage" {
	mkdir -p "$BATS_TEST_TMPDIR/empty"
	capture "$NX_BUILD/nx_summary" --results "$BATS_TEST_TMPDIR/empty" --failed
	assert_status 0
	assert_eq "$output" ""
	capture "$NX_BUILD/nx_summary" --results "$BATS_TEST_TMPDIR/empty" --verdict
	assert_status 1
	capture "$NX_BUILD/nx_summary" --results "$BATS_TEST_TMPDIR/empty" --failed --verdict
	assert_status 2
	capture "$NX_BUILD/nx_summary" --failed
	assert_status 2
}
