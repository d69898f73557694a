#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# Argument handling of run_nx_tests.sh.  NX_NO_BUILD=1 and a fake NX_BUILD
# (fixtures/fake_test copies) stand in for the real build, so no make, KVM
# or network is needed; NX_SYSFS_ROOT points at a fake sysfs tree, which
# every usage error must leave as it was.

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2154

load test_helper

setup_file() {
	BUILD=$BATS_FILE_TMPDIR/build
	SYSFS=$BATS_FILE_TMPDIR/sysfs
	# An existing kernel image and modules folder, for the combinations.
	KERNEL=$BATS_FILE_TMPDIR/bzImage
	MODULES=$BATS_FILE_TMPDIR/modules
	export BUILD SYSFS KERNEL MODULES
	make_default_build "$BUILD"
	make_fake_sysfs "$SYSFS"
	echo "not a kernel" >"$KERNEL"
	mkdir "$MODULES"
	snapshot_tree "$SYSFS" >"$BATS_FILE_TMPDIR/sysfs.snapshot"
}

setup() {
	rm -f "$BUILD"/*.calls
}

# run_nx ARG...: run_nx_tests.sh in the fake environment.
run_nx() {
	NX_NO_BUILD=1 NX_BUILD=$BUILD NX_SYSFS_ROOT=$SYSFS \
		NX_CACHE=$BATS_TEST_TMPDIR/cache \
		capture "$NX_TOP/run_nx_tests.sh" "$@"
}

# expect_usage_error MESSAGE ARG...: exit 2, nothing on stdout, on stderr
# exactly "run_nx_tests.sh: MESSAGE" and the --help hint; and no case run,
# the fake sysfs tree untouched, no cache created.
expect_usage_error() {
	local msg=$1
	shift
	run_nx "$@"
	assert_status 2
	assert_eq "$output" "" "stdout"
	assert_eq "$stderr" "run_nx_tests.sh: $msg
Try 'run_nx_tests.sh --help'." "stderr"
	assert_no_case_run "$BUILD"
	assert_eq "$(snapshot_tree "$SYSFS")" "$(<"$BATS_FILE_TMPDIR/sysfs.snapshot")" \
		"fake sysfs tree"
	[ ! -e "$BATS_TEST_TMPDIR/cache" ] || flunk "the cache folder was created"
}

@test "--help and -h print the usage on stdout and exit 0" {
	local opt
	run_nx --help
	assert_status 0
	assert_eq "$stderr" "" "stderr"
	assert_eq "${lines[0]}" "usage: run_nx_tests.sh [--vm | --host] [options]"
	for opt in --vm --host --kernel --modules --list --test --results \
		--sabotage --help; do
		[[ $output == *"  $opt "* ]] || flunk "usage does not mention $opt" "$output"
	done
	[[ $output == *"Exit: 0 passed, 1 a test failed, 4 all skipped"* ]] ||
		flunk "usage does not give the exit codes" "$output"
	local usage=$output
	run_nx -h
	assert_status 0
	assert_eq "$output" "$usage" "-h output"
	# --help ends the parsing: a bad option after it does not matter.
	run_nx --help --bogus
	assert_status 0
	assert_eq "$stderr" "" "stderr"
}

@test "--list prints every *_test binary's cases in order, with what each needs" {
	run_nx --list
	assert_status 0
	assert_eq "$stderr" "" "stderr"
	assert_eq "$output" "fake.a.one
fake.a.two
fake.a.skip # needs root, 8 2M hugepages
fake.b.one
fake.b.two"
}

@test "--list ignores --test filters and runs no case; no binaries, no names" {
	run_nx --test fake.a.one --test no_such_test --list
	assert_status 0
	assert_eq "${#lines[@]}" 5 "number of names"
	assert_no_case_run "$BUILD"
	mkdir "$BATS_TEST_TMPDIR/empty"
	NX_NO_BUILD=1 NX_BUILD=$BATS_TEST_TMPDIR/empty NX_SYSFS_ROOT=$SYSFS \
		capture "$NX_TOP/run_nx_tests.sh" --list
	assert_status 0
	assert_eq "$output" ""
	assert_eq "$stderr" ""
}

@test "unknown flag" {
	expect_usage_error "unknown option '--bogus'" --bogus
}

@test "other unknown arguments: after good ones, positional, --opt=value" {
	expect_usage_error "unknown option '--lst'" --host --test fake.a.one --lst
	expect_usage_error "unknown option 'fake.a.one'" fake.a.one
	expect_usage_error "unknown option '--test=fake.a.one'" --test=fake.a.one
}

@test "--test at the end, without its value" {
	expect_usage_error "--test needs a value" --test
}

@test "--test followed by another option, or empty" {
	expect_usage_error "--test needs a value" --test --list
	expect_usage_error "--test needs a value" --test ""
}

@test "--kernel, --modules, --results, --sabotage without their value" {
	expect_usage_error "--kernel needs a value" --kernel
	expect_usage_error "--modules needs a value" --modules --host
	expect_usage_error "--results needs a value" --results
	expect_usage_error "--sabotage needs a value" --sabotage --list
}

@test "--kernel /nonexistent, reported before the missing --modules" {
	expect_usage_error "--kernel /nonexistent: no such file" --kernel /nonexistent
	expect_usage_error "--kernel /nonexistent: no such file" \
		--kernel /nonexistent --modules "$MODULES"
}

@test "--kernel without --modules" {
	expect_usage_error "--kernel needs --modules DIR" --kernel "$KERNEL"
}

@test "--modules without --kernel, --modules that is not a folder" {
	expect_usage_error "--modules needs --kernel PATH" --modules "$MODULES"
	expect_usage_error "--modules $KERNEL: no such folder" \
		--kernel "$KERNEL" --modules "$KERNEL"
}

@test "--host with --kernel, either order" {
	expect_usage_error "--kernel and --host exclude each other" \
		--host --kernel "$KERNEL" --modules "$MODULES"
	expect_usage_error "--kernel and --host exclude each other" \
		--kernel "$KERNEL" --modules "$MODULES" --host
}

@test "--test no_such_test, in VM and in --host mode" {
	expect_usage_error "no test named 'no_such_test' (see --list)" \
		--test no_such_test
	expect_usage_error "no test named 'no_such_test' (see --list)" \
		--host --test no_such_test
}

@test "one unknown --test among good ones is still an error" {
	expect_usage_error "no test named 'fake.c.*' (see --list)" \
		--host --test fake.a.one --test 'fake.c.*' --test 'fake.b.*'
}

@test "--sabotage that is not MODULE.PARAM=VALUE" {
	expect_usage_error "--sabotage nx_huge_pages=N: expected MODULE.PARAM=VALUE" \
		--sabotage nx_huge_pages=N
	expect_usage_error "--sabotage kvm.nx_huge_pages: expected MODULE.PARAM=VALUE" \
		--sabotage kvm.nx_huge_pages
	expect_usage_error "--sabotage kvm.nx_huge_pages=: expected MODULE.PARAM=VALUE" \
		--sabotage kvm.nx_huge_pages=
	expect_usage_error "--sabotage kvm.../x=1: expected MODULE.PARAM=VALUE" \
		--sabotage kvm.../x=1
}

@test "--sabotage with --host, either order" {
	expect_usage_error "--sabotage works in VM mode only" \
		--host --sabotage kvm.nx_huge_pages=N
	expect_usage_error "--sabotage works in VM mode only" \
		--sabotage kvm.nx_huge_pages=N --host
}

@test "bad input with --results creates no results folder" {
	local res=$BATS_TEST_TMPDIR/results
	expect_usage_error "no test named 'no_such_test' (see --list)" \
		--results "$res" --host --test no_such_test
	expect_usage_error "--kernel and --host exclude each other" \
		--results "$res" --host --kernel "$KERNEL" --modules "$MODULES"
	[ ! -e "$res" ] || flunk "$res was created"
}

@test "good arguments pass parse_args" {
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		parse_args "$@"
		echo "$NX_MODE|$NX_KERNEL|$NX_MODULES|$NX_RESULTS|$NX_LIST"
		echo "${NX_FILTERS[*]}|${NX_SABOTAGE[*]}"' parse \
		--host --vm --kernel "$KERNEL" --modules "$MODULES" --results /r \
		--test 'a*' --test b --sabotage kvm.nx_huge_pages=N \
		--sabotage kvm_intel.ept=0
	assert_status 0
	assert_eq "$stderr" ""
	assert_eq "$output" "vm|$KERNEL|$MODULES|/r|0
a* b|kvm.nx_huge_pages=N kvm_intel.ept=0"
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		parse_args "$@"; echo "$NX_MODE $NX_LIST"' parse --vm --host --list
	assert_status 0
	assert_eq "$output" "host 1"
}
