#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# Which tests a kernel runs: the build of its own framework series only
# (a --kernel PATH by its release, as a --kernel debian:SPEC), named in
# summary.json; and a kernel left with no case to run (a build whose -l
# skips, as the 7.x framework's did on a host without /dev/kvm; no build
# of its series; a selection that build does not offer) is an
# infrastructure failure with the reason, never a run of "0 tests".
# run_nx_tests.sh sourced, with the kernel's fetch and the VM stood in
# for; no network, no VM.

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2154

load test_helper

setup() {
	[ -x "$NX_TOP/build/nx_summary" ] || skip "build/nx_summary not built"
	BUILD=$BATS_TEST_TMPDIR/build
	make_default_build "$BUILD"
	make_fake_build "$BUILD/7.3" alpha_test:fake.a.one alpha_test:fake.a.two \
		alpha_test:fake.a.skip beta_test:fake.b.one beta_test:fake.b.two
	echo "linux-source-7.3=7.3.4-1~bpo13+1" >"$BUILD/7.3/.debian-source"
	ln -s "$NX_TOP/build/nx_summary" "$BUILD/nx_summary"
	RESULTS=$BATS_TEST_TMPDIR/results
	export BUILD RESULTS
	find_python
}

# run_main ARG...: run_nx_tests.sh's main with ARG..., the kernel of each
# --kernel a 7.x one (fetch_kernel and nx_bzimage_release stood in for),
# the accelerator chosen, and boot_kernel replaced by a stand-in that
# records the cases it was given (BATS_TEST_TMPDIR/booted) and reports
# each as passed.
run_main() {
	NX_NO_BUILD=1 NX_BUILD=$BUILD TMPDIR=$BATS_TEST_TMPDIR capture bash -c '
		. "$NX_TOP/run_nx_tests.sh" || exit 99
		fetch_kernel() {
			nx_krec_set "$2" kernel /nonexistent/vmlinuz
			nx_krec_set "$2" series 7.3
		}
		nx_bzimage_release() { echo 7.3.4+deb13-amd64; }
		nx_vm_accel() { nx_krec_set "$1" accel tcg; }
		boot_kernel() {
			local i=0 bin name
			cat "$3" >>"$BATS_TEST_TMPDIR/booted"
			{
				echo "TAP version 13"
				echo "1..$(grep -c . "$3")"
				while read -r bin name; do
					i=$((i + 1))
					echo "ok $i $name"
				done <"$3"
			} >"$2/results.raw"
		}
		main "$@"' run_nx_tests.sh --results "$RESULTS" "$@"
}

# The one summary.json under RESULTS, flat (json_flat).
summary() {
	local -a f=("$RESULTS"/*/summary.json)
	[ ${#f[@]} = 1 ] && [ -e "${f[0]}" ] || flunk "summaries: ${f[*]}"
	json_flat "${f[0]}"
}

@test "a 7.x kernel runs the 7.3 build, and summary.json names it" {
	run_main --kernel debian:7.3 --test 'fake.b.*'
	assert_status 0
	assert_eq "$(<"$BATS_TEST_TMPDIR/booted")" "$BUILD/7.3/beta_test fake.b.one
$BUILD/7.3/beta_test fake.b.two"
	[[ $stderr == *"nx: tests built against the 7.3 framework: $BUILD/7.3 (linux-source-7.3=7.3.4-1~bpo13+1)"* ]] ||
		flunk "the run did not say which build it used:" "$stderr"
	summary | grep -qx '.run.framework_series="7.3"' || flunk "$(summary)"
	summary | grep -qx ".run.suite_build=\"$BUILD/7.3\"" || flunk "$(summary)"
}

@test "--kernel PATH of a 7.x kernel runs the 7.3 build too" {
	touch "$BATS_TEST_TMPDIR/bzImage"
	mkdir "$BATS_TEST_TMPDIR/modules"
	run_main --kernel "$BATS_TEST_TMPDIR/bzImage" --modules "$BATS_TEST_TMPDIR/modules" \
		--test fake.a.one
	assert_status 0
	assert_eq "$(<"$BATS_TEST_TMPDIR/booted")" "$BUILD/7.3/alpha_test fake.a.one"
	summary | grep -qx '.run.framework_series="7.3"' || flunk "$(summary)"
}

@test "a build whose -l skips (no /dev/kvm): infrastructure, exit 125, with the reason" {
	touch "$BUILD/7.3/beta_test.nokvm"
	run_main --kernel debian:7.3 --test 'fake.*'
	assert_status 125
	[ ! -e "$BATS_TEST_TMPDIR/booted" ] || flunk "a VM was booted"
	summary | grep -qx '.run.status="infrastructure"' || flunk "$(summary)"
	summary | grep -q "^.run.reason=\"the tests in $BUILD/7.3 cannot list their cases: $BUILD/7.3/beta_test -l exited 4: 1..0 # SKIP - Cannot open '/dev/kvm'" ||
		flunk "$(summary)"
	[[ $output != *"0 tests"* ]] || flunk "a run of 0 tests:" "$output"
}

@test "no build of the kernel's series: infrastructure, never another series' tests" {
	rm -f "$BUILD"/7.3/*_test
	run_main --kernel debian:7.2 --test fake.a.one
	assert_status 125
	[ ! -e "$BATS_TEST_TMPDIR/booted" ] || flunk "a VM was booted"
	summary | grep -qx ".run.reason=\"no tests built against the 7.3 framework in $BUILD/7.3 (make SERIES=7.3)\"" ||
		flunk "$(summary)"
}

@test "a selection the kernel's build does not offer: infrastructure, with the count" {
	sed -i /fake.b/d "$BUILD/7.3/beta_test.cases"
	run_main --kernel debian:7.3 --test 'fake.b.*'
	assert_status 125
	summary | grep -qx ".run.reason=\"none of the 2 selected cases is offered by the tests in $BUILD/7.3\"" ||
		flunk "$(summary)"
}

@test "build_suite: the framework of each kernel, a --kernel PATH's by its release" {
	local bin=$BATS_TEST_TMPDIR/bin
	mkdir -p "$bin"
	printf '#!/bin/sh\necho "make $*" >>"%s/make.log"\n' "$BATS_TEST_TMPDIR" >"$bin/make"
	printf '#!/bin/sh\nexit 0\n' >"$bin/install_deps"
	chmod +x "$bin"/*
	touch "$BATS_TEST_TMPDIR/bzImage"
	PATH=$bin:$PATH capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		NX_TOP=$1
		mkdir -p "$NX_TOP/scripts" && cp "$2" "$NX_TOP/scripts/install_deps.sh"
		nx_bzimage_release() { echo "$REL"; }
		for REL in 7.2.13+deb14-amd64 6.1.0-57-amd64 6.12.118+deb12-amd64; do
			parse_args --kernel "$3" --modules "$4"
			build_suite
			echo --
		done
		NX_KERNEL= NX_MODULES=
		parse_args --kernel debian:6.1,debian:7.3,debian:7.2
		build_suite' x "$BATS_TEST_TMPDIR/top" "$bin/install_deps" \
		"$BATS_TEST_TMPDIR/bzImage" "$BATS_TEST_TMPDIR"
	assert_status 0
	assert_eq "$(<"$BATS_TEST_TMPDIR/make.log")" "make -C $BATS_TEST_TMPDIR/top -s all
make -C $BATS_TEST_TMPDIR/top -s SERIES=7.3 all
make -C $BATS_TEST_TMPDIR/top -s all
make -C $BATS_TEST_TMPDIR/top -s SERIES=6.1 all
make -C $BATS_TEST_TMPDIR/top -s all
make -C $BATS_TEST_TMPDIR/top -s all
make -C $BATS_TEST_TMPDIR/top -s SERIES=6.1 all
make -C $BATS_TEST_TMPDIR/top -s SERIES=7.3 all"
}
