#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# The kernel record's keys (scripts/krec.sh): declared once, the only keys
# its functions take, the only ones the scripts name, and docs/runner.md's
# table.

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2154

load test_helper

# krec CODE: run CODE in bash with scripts/krec.sh sourced.
krec() {
	capture bash -c '. "$NX_TOP/scripts/krec.sh" || exit 99
		'"$1"
}

@test "docs/runner.md's table of the kernel record is scripts/krec.sh's" {
	krec nx_krec_table
	assert_status 0
	# The table: from its header line to the first line that is not a row.
	assert_eq "$(awk '/^\| key \| written by \| read by \|$/ { t = 1 }
		t && !/^\|/ { exit } t' "$NX_TOP/docs/runner.md")" "$output" \
		"docs/runner.md's KREC table (make it nx_krec_table's)"
}

@test "every key the scripts name in nx_krec_get/set is declared" {
	local key bad=
	krec 'while IFS="|" read -r keys _; do printf "%s\n" $keys; done <<<"$NX_KREC_KEYS"'
	local -A declared=()
	for key in "${lines[@]}"; do
		declared[$key]=1
	done
	while read -r key; do
		[ -n "${declared[$key]:-}" ] || bad+=" $key"
	done < <(grep -ohE 'nx_krec_(get|set) "[^"]*" [a-z_0-9]+' \
		"$NX_TOP/run_nx_tests.sh" "$NX_TOP"/scripts/*.sh "$NX_TOP"/tests/*.sh \
		"$NX_TOP"/tests/bats/*.bats | awk '{ print $3 }' | sort -u)
	assert_eq "$bad" "" "keys named but not declared in scripts/krec.sh"
	# A script that names none would pass the above for nothing.
	[ "${#declared[@]}" -gt 20 ] || flunk "only ${#declared[@]} keys declared"
}

@test "nx_krec_set, nx_krec_get and nx_krec_put refuse an undeclared key" {
	local r=$BATS_TEST_TMPDIR/krec
	krec "nx_krec_set '$r' release 6.12.0 && nx_krec_get '$r' release"
	assert_status 0
	assert_eq "$output" 6.12.0
	krec "nx_krec_set '$r' relase 6.12.1"
	assert_status 1
	assert_eq "$stderr" "nx_krec: 'relase' is not a key of the kernel record (scripts/krec.sh)"
	krec "nx_krec_get '$r' relase"
	assert_status 1
	assert_eq "$output" ""
	assert_eq "$stderr" "nx_krec: 'relase' is not a key of the kernel record (scripts/krec.sh)"
	krec "printf '%s\n' accel=tcg acel_why=x | nx_krec_put '$r'"
	assert_status 1
	assert_eq "$(<"$r")" "release=6.12.0
accel=tcg"
}
