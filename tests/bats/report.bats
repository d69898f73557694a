#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# The report page (tools/nx_report.py) over recorded real runs
# (fixtures/labs: 6.12 three times and once with --repeat 3, 7.3.4 once
# and once with --repeat 3) and a run that never got to its tests,
# rendered in headless Chromium (tests/report_check.py): the plots and
# the failure highlighting must be in the rendered page and on screen.
# A page without them must be refused.

# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2154

load test_helper

setup_file() {
	build_nx_summary
	ROOT=$BATS_FILE_TMPDIR/results
	export ROOT
	command -v chromium >/dev/null ||
		flunk "chromium is needed (scripts/install_deps.sh check)"
	cp -r "$NX_FIXTURES/labs" "$ROOT"
	rm "$ROOT/README"
	local d
	for d in "$ROOT"/*/*/; do
		"$NX_BUILD/nx_summary" --ktap "$d/ktap.log" --out "$d/summary.json" \
			--params "$d/params.txt" --meta mode=vm --meta mmu=tdp \
			--meta "kernel_release=$(sed -n 's/^kernel_release=//p' "$d/cell.txt")" \
			>/dev/null || true
	done
	mkdir -p "$ROOT/infra/20261206T030000Z-7.3.4+deb13-amd64"
	"$NX_BUILD/nx_summary" --infrastructure "the VM did not boot" \
		--out "$ROOT/infra/20261206T030000Z-7.3.4+deb13-amd64/summary.json" \
		--meta mode=vm --meta kernel_release=7.3.4+deb13-amd64 >/dev/null || true
}

@test "nx_report.py: runs by date, a grid of statuses, a plot per metric" {
	capture "$NX_TOP/tools/nx_report.py" "$ROOT" "$BATS_TEST_TMPDIR/index.html"
	assert_status 0
	grep -qE '^nx_report: 7 runs, 9 tests, 10 plots: .* \([0-9]+ bytes\)$' <<<"$output" ||
		flunk "$output"
	local page=$BATS_TEST_TMPDIR/index.html
	# Rows in date order; the run that never ran a test says why.
	assert_eq "$(grep -o '<tr class="run-[a-z]*"><td>[0-9]*</td><td>[^<]*' "$page" |
		sed 's/<[^>]*>/ /g; s/  */ /g')" " 1 2026-12-06 02:19:21Z
 2 2026-12-06 02:20:18Z
 3 2026-12-06 02:22:22Z
 4 2026-12-06 02:22:51Z
 5 2026-12-06 02:40:25Z
 6 2026-12-06 02:41:47Z
 7 2026-12-06 03:00:00Z"
	grep -q '<td class="st-infrastructure">infrastructure: the VM did not boot</td>' "$page" ||
		flunk "no infrastructure row"
	assert_eq "$(grep -o '<td class="fail"' "$page" | wc -l)" 6 "failed cells"
	capture "$NX_TOP/tools/nx_report.py" "$BATS_TEST_TMPDIR/none" "$BATS_TEST_TMPDIR/x.html"
	assert_status 1
}

@test "headless Chromium: the plots and the failure highlighting are rendered and on screen" {
	"$NX_TOP/tools/nx_report.py" "$ROOT" "$BATS_TEST_TMPDIR/index.html" >/dev/null
	capture "$NX_TOP/tests/report_check.py" "$BATS_TEST_TMPDIR/index.html" \
		"$BATS_TEST_TMPDIR/shot.png" 10 6
	echo "$output" >&3
	assert_status 0
	assert_has_line "rendered DOM: 10 plots (matplotlib SVG figures), 6 failed or flaky grid cells"
}

@test "refused: a page without its plots and without the failure highlight" {
	local page=$BATS_TEST_TMPDIR/index.html
	"$NX_TOP/tools/nx_report.py" "$ROOT" "$page" >/dev/null
	# No matplotlib figure, and failures styled like passes.
	sed -i 's/<g id="figure_1">/<g id="nothing">/; s/^td.fail, td.st-failed, td.st-infrastructure {.*/td.fail {}/' \
		"$page"
	capture "$NX_TOP/tests/report_check.py" "$page" "$BATS_TEST_TMPDIR/shot.png" 10 6
	assert_status 1
	assert_has_line "expected 10 plots"
	assert_has_line "the failures are not highlighted on screen"
}
