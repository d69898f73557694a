#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# --test filtering: parse_args, catalogue_all and catalogue_select of
# run_nx_tests.sh, sourced (its main only runs when it is executed), over a
# fake build of fixtures/fake_test copies.

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2154

load test_helper

setup_file() {
	BUILD=$BATS_FILE_TMPDIR/build
	export BUILD
	make_default_build "$BUILD"
}

setup() {
	rm -f "$BUILD"/*.calls
}

# select_cases ARG...: the catalogue lines run_nx_tests.sh ARG... would run.
select_cases() {
	NX_NO_BUILD=1 NX_BUILD=$BUILD NX_SYSFS_ROOT=$BATS_TEST_TMPDIR/sysfs \
		TMPDIR=$BATS_TEST_TMPDIR capture bash -c \
		'. "$NX_TOP/run_nx_tests.sh" || exit 99
		parse_args "$@"
		all=$(mktemp)
		catalogue_all >"$all"
		catalogue_select "$all" "${NX_FILTERS[@]}"' select "$@"
}

# expect_cases NAME...: the last select_cases chose exactly these, in order,
# each with the binary that offers it.
expect_cases() {
	local name expected=
	for name in "$@"; do
		case $name in
		fake.a.*) expected+="$BUILD/alpha_test $name"$'\n' ;;
		fake.b.*) expected+="$BUILD/beta_test $name"$'\n' ;;
		esac
	done
	assert_status 0
	assert_eq "$stderr" "" "stderr"
	assert_eq "$output" "${expected%$'\n'}" "selected cases"
}

# expect_no_match FILTER: the last select_cases failed on FILTER.
expect_no_match() {
	assert_status 2
	assert_eq "$output" "" "stdout"
	assert_eq "$stderr" "run_nx_tests.sh: no test named '$1' (see --list)
Try 'run_nx_tests.sh --help'." "stderr"
}

@test "sourcing run_nx_tests.sh defines its functions and runs nothing" {
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" --bogus &&
		declare -F parse_args catalogue_all catalogue_select run_host main'
	assert_status 0
	assert_eq "$stderr" ""
	assert_eq "${#lines[@]}" 5 "functions found"
}

@test "no --test: every case in catalogue order, only from executable *_test" {
	select_cases
	expect_cases fake.a.one fake.a.two fake.a.skip fake.b.one fake.b.two
	# Not the "Random seed" line, not gamma_test (not executable), not helper.
	[ ! -e "$BUILD/helper.calls" ] || flunk "helper was run"
	[ ! -e "$BUILD/gamma_test.calls" ] || flunk "gamma_test was run"
}

@test "an exact name selects that case only" {
	select_cases --test fake.b.one
	expect_cases fake.b.one
}

@test "several exact names: those cases, in the order given" {
	select_cases --test fake.b.two --test fake.a.one
	expect_cases fake.b.two fake.a.one
}

@test "'*' globs: within a binary, across binaries, everything" {
	select_cases --test 'fake.a.*'
	expect_cases fake.a.one fake.a.two fake.a.skip
	select_cases --test '*.one'
	expect_cases fake.a.one fake.b.one
	select_cases --test '*'
	expect_cases fake.a.one fake.a.two fake.a.skip fake.b.one fake.b.two
}

@test "'?' and '[...]' globs; '.' is literal, not a regex" {
	select_cases --test 'fake.?.two'
	expect_cases fake.a.two fake.b.two
	select_cases --test 'fake.[b].t[wx]o'
	expect_cases fake.b.two
	select_cases --test 'fake.a.on?'
	expect_cases fake.a.one
	select_cases --test 'fake.a.on.'
	expect_no_match 'fake.a.on.'
}

@test "overlapping filters select each case once" {
	select_cases --test 'fake.a.*' --test fake.a.one --test '*.one'
	expect_cases fake.a.one fake.a.two fake.a.skip fake.b.one
}

@test "a filter must match the whole name" {
	select_cases --test fake.a
	expect_no_match fake.a
	select_cases --test one
	expect_no_match one
	select_cases --test a.one
	expect_no_match a.one
}

@test "one filter matching nothing fails the whole selection" {
	select_cases --test fake.a.one --test 'fake.z*'
	expect_no_match 'fake.z*'
}

@test "the selected cases are the ones run_cases.sh runs" {
	select_cases --test 'fake.b.*' --test fake.a.two
	expect_cases fake.b.one fake.b.two fake.a.two
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/sel"
	rm -f "$BUILD"/*.calls
	TMPDIR=$BATS_TEST_TMPDIR capture "$NX_TOP/scripts/run_cases.sh" \
		"$BATS_TEST_TMPDIR/sel" 5
	assert_status 0
	assert_eq "$(grep -E '^(not )?ok ' <<<"$output")" "ok 1 fake.b.one
ok 2 fake.b.two
ok 3 fake.a.two"
	assert_eq "$(<"$BUILD/beta_test.calls")" "-t 5 -r fake.b.one
-t 5 -r fake.b.two"
	assert_eq "$(<"$BUILD/alpha_test.calls")" "-t 5 -r fake.a.two"
}
