#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# The matrix: scripts/debian_kernel.sh SPEC resolution over a fake
# apt-cache and fetcher, the table of nx_summary --table, the --kernel
# debian: / --mmu / --matrix arguments, splitting a VM's results stream
# into cells, and run_cases.sh's skip-all and perf wrapping.  No network,
# no VM.

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2154

load test_helper

setup() {
	FAKEBIN=$BATS_TEST_TMPDIR/bin
	mkdir -p "$FAKEBIN"
	export FAKE_LOG=$BATS_TEST_TMPDIR/calls.log
	: >"$FAKE_LOG"
	# The names an archive with an unsorted index would give.
	cat >"$BATS_TEST_TMPDIR/names" <<-EOF
		linux-image-6.12.9+deb12-amd64-unsigned - Linux 6.12 for 64-bit PCs
		linux-image-6.1.0-9-amd64-unsigned - Linux 6.1 for 64-bit PCs
		linux-image-6.12.117+deb12-amd64-unsigned - Linux 6.12 for 64-bit PCs
		linux-image-6.1.0-56-amd64-unsigned - Linux 6.1 for 64-bit PCs
		linux-image-6.1.0-10-amd64-unsigned - Linux 6.1 for 64-bit PCs
	EOF
	export FAKE_NAMES=$BATS_TEST_TMPDIR/names
	# The 6.12 build debian_version.sh resolves; madison gives any other
	# package two versions.
	cat >"$BATS_TEST_TMPDIR/served" <<-EOF
		linux-source-6.12 6.12.117-1~deb12u1
		linux-source-6.12 6.12.119-1~deb12u1
		linux-image-6.12.119+deb12-amd64-unsigned 6.12.119-1~deb12u1
		linux-headers-6.12.119+deb12-amd64 6.12.119-1~deb12u1
		linux-headers-6.12.119+deb12-common 6.12.119-1~deb12u1
		linux-kbuild-6.12.119+deb12 6.12.119-1~deb12u1
	EOF
	export FAKE_SERVED=$BATS_TEST_TMPDIR/served
	# The 7.x kernels, only in the project's own lists (trixie-backports,
	# sid): an image and a modules package each; a 7.3.10 image without
	# its modules; 7.2.13 in two suites; -rt flavours; a 7.3.4 image
	# rebuilt (+2) whose modules are not served at that version yet.
	cat >"$BATS_TEST_TMPDIR/nx-served" <<-EOF
		linux-binary-unsigned-7.2.9+deb13-amd64 7.2.9-1~bpo13+1
		linux-modules-7.2.9+deb13-amd64 7.2.9-1~bpo13+1
		linux-binary-unsigned-7.2.13+deb13-amd64 7.2.13-1~bpo13+1
		linux-modules-7.2.13+deb13-amd64 7.2.13-1~bpo13+1
		linux-binary-unsigned-7.2.13+deb14-amd64 7.2.13-1
		linux-modules-7.2.13+deb14-amd64 7.2.13-1
		linux-binary-unsigned-7.2.13+deb14-rt-amd64 7.2.13-1
		linux-modules-7.2.13+deb14-rt-amd64 7.2.13-1
		linux-binary-unsigned-7.3.4+deb13-amd64 7.3.4-1~bpo13+1
		linux-binary-unsigned-7.3.4+deb13-amd64 7.3.4-1~bpo13+2
		linux-modules-7.3.4+deb13-amd64 7.3.4-1~bpo13+1
		linux-binary-unsigned-7.3.10+deb13-amd64 7.3.10-1~bpo13+1
		linux-image-7.3.4+deb13-amd64 7.3.4-1~bpo13+1
	EOF
	export FAKE_NX_SERVED=$BATS_TEST_TMPDIR/nx-served FAKE_NX_NAMES=$BATS_TEST_TMPDIR/nx-served
	fake_apt "$FAKEBIN"
	# The fetcher: an image with its vmlinuz and modules tree; Debian's
	# 7.x: the bzImage and the modules in two packages.
	cat >"$FAKEBIN/debian_pkg" <<-'EOF'
		#!/bin/bash
		echo "debian_pkg $*" >>"$FAKE_LOG"
		rel=${1%%=*}
		case $rel in
		linux-binary-unsigned-*)
			rel=${rel#linux-binary-unsigned-}
			mkdir -p "$2/usr/lib/modules/$rel"
			touch "$2/usr/lib/modules/$rel/vmlinuz.unsigned"
			exit 0 ;;
		linux-modules-*)
			mkdir -p "$2/usr/lib/modules/${rel#linux-modules-}/kernel"
			exit 0 ;;
		esac
		rel=${rel#linux-image-}
		rel=${rel%-unsigned}
		mkdir -p "$2/boot" "$2/lib/modules/$rel"
		touch "$2/boot/vmlinuz-$rel"
	EOF
	chmod +x "$FAKEBIN"/*
}

# debian_kernel ARG...: scripts/debian_kernel.sh over the fakes.
debian_kernel() {
	PATH=$FAKEBIN:$PATH NX_CACHE=$BATS_TEST_TMPDIR/cache \
		NX_DEBIAN_PKG=$FAKEBIN/debian_pkg \
		capture "$NX_TOP/scripts/debian_kernel.sh" "$@"
}

@test "debian_kernel --list: each series oldest first, in SPEC form" {
	debian_kernel --list 6.1
	assert_status 0
	assert_eq "$output" "6.1.0-9
6.1.0-10
6.1.0-56"
	debian_kernel --list 6.12
	assert_status 0
	assert_eq "$output" "6.12.9
6.12.117"
	debian_kernel --list 6.2
	assert_status 2
	assert_eq "$stderr" "debian_kernel: unknown series '6.2' (6.1, 6.12, 7, 7.2 or 7.3)"
}

@test "debian_kernel --list 7, 7.2, 7.3: image and modules served, from the project's lists" {
	debian_kernel --list 7
	assert_status 0
	assert_eq "$output" "7.2.9
7.2.13
7.3.4"
	debian_kernel --list 7.2
	assert_eq "$output" "7.2.9
7.2.13"
	debian_kernel --list 7.3
	assert_eq "$output" "7.3.4"
	# Asked of the project's own lists (updated once: they were empty),
	# never of the machine's, which are not updated.
	grep -q '^apt-cache' "$FAKE_LOG" && flunk "the machine's lists asked:" "$(<"$FAKE_LOG")"
	grep -q '^apt-get' "$FAKE_LOG" && flunk "the machine's lists updated:" "$(<"$FAKE_LOG")"
	assert_eq "$(grep -c '^nx-apt-get -qq update' "$FAKE_LOG")" 1 "updates of .cache/apt"
	assert_eq "$(grep -c '^nx-apt-cache search' "$FAKE_LOG")" 3 "searches"
	local src=$BATS_TEST_TMPDIR/cache/apt/sources.list.d/nx.sources
	grep -qx 'Suites: bookworm bookworm-updates trixie trixie-backports sid' "$src" ||
		flunk "sources:" "$(cat "$src")"
	grep -qx 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' "$src" ||
		flunk "sources:" "$(cat "$src")"
	# Lists older than a day are updated again.
	touch -d '2 days ago' "$BATS_TEST_TMPDIR/cache/apt/lists/updated"
	debian_kernel --list 7.3
	assert_eq "$(grep -c '^nx-apt-get -qq update' "$FAKE_LOG")" 2 "updates of .cache/apt"
}

@test "debian_kernel 7.3, 7.2, 7.x.N: image and modules of one Debian version" {
	local rel=7.3.4+deb13-amd64 v=7.3.4-1~bpo13+1 pkgs=$BATS_TEST_TMPDIR/cache/pkgs
	debian_kernel 7.3
	assert_status 0
	assert_eq "$output" "kernel=$pkgs/linux-binary-unsigned-$rel-$v/usr/lib/modules/$rel/vmlinuz.unsigned
modules=$pkgs/linux-modules-$rel-$v/usr/lib/modules/$rel
series=7.3
release=$rel
deb_image=linux-binary-unsigned-$rel=$v
deb_modules=linux-modules-$rel=$v"
	# The image's +2 has no modules yet: both fetched at +1.
	assert_eq "$(grep debian_pkg "$FAKE_LOG")" \
		"debian_pkg linux-binary-unsigned-$rel=$v $pkgs/linux-binary-unsigned-$rel-$v
debian_pkg linux-modules-$rel=$v $pkgs/linux-modules-$rel-$v"
	[ -f "${lines[0]#kernel=}" ] || flunk "no ${lines[0]#kernel=}"
	# 7.2: the newest 7.2, sid's.
	debian_kernel 7.2
	assert_status 0
	assert_has_line "release=7.2.13+deb14-amd64"
	assert_has_line "series=7.2"
	assert_has_line "deb_image=linux-binary-unsigned-7.2.13+deb14-amd64=7.2.13-1"
	debian_kernel 7.2.9
	assert_status 0
	assert_has_line "release=7.2.9+deb13-amd64"
	assert_has_line "deb_modules=linux-modules-7.2.9+deb13-amd64=7.2.9-1~bpo13+1"
	debian_kernel 7.3.4
	assert_status 0
	assert_has_line "release=$rel"
	# Not served (7.3.10 has no modules): exit 1, nothing fetched.
	: >"$FAKE_LOG"
	local no
	for no in 7.3.10 7.2.6; do
		debian_kernel "$no"
		assert_status 1
		assert_eq "$output" ""
		assert_eq "$stderr" "debian_kernel: linux-binary-unsigned-$no+debNN-amd64 and its modules are not in the archive (see: debian_kernel.sh --list ${no%.*})"
	done
	grep -q debian_pkg "$FAKE_LOG" && flunk "fetched:" "$(<"$FAKE_LOG")"
	# Not a SPEC: exit 2.
	local bad
	for bad in 7 7.4 7.1.2 7.3.x 7.3. 7.3.4+deb13 7.23; do
		debian_kernel "$bad"
		assert_status 2
	done
	# A 6.x kernel says it has no modules package of its own.
	debian_kernel 6.12.9
	assert_has_line "deb_modules="
}

@test "debian_kernel 6.12: the image of the 6.12 build debian_version.sh resolves" {
	local rel=6.12.119+deb12-amd64 dir
	dir=$BATS_TEST_TMPDIR/cache/pkgs/linux-image-$rel-6.12.119-1~deb12u1
	debian_kernel 6.12
	assert_status 0
	assert_eq "$output" "kernel=$dir/boot/vmlinuz-$rel
modules=$dir/lib/modules/$rel
series=6.12
release=$rel
deb_image=linux-image-$rel-unsigned=6.12.119-1~deb12u1
deb_modules="
	# No archive search; one fetch, of that build.
	grep -q '^apt-cache search' "$FAKE_LOG" && flunk "searched:" "$(<"$FAKE_LOG")"
	assert_eq "$(grep debian_pkg "$FAKE_LOG")" \
		"debian_pkg linux-image-$rel-unsigned=6.12.119-1~deb12u1 $dir"
}

@test "debian_kernel 6.1: the newest 6.1 ABI, its newest Debian version" {
	local dir=$BATS_TEST_TMPDIR/cache/pkgs/linux-image-6.1.0-56-amd64-1.10-2
	debian_kernel 6.1
	assert_status 0
	assert_has_line "kernel=$dir/boot/vmlinuz-6.1.0-56-amd64"
	assert_has_line "modules=$dir/lib/modules/6.1.0-56-amd64"
	assert_has_line "series=6.1"
	assert_has_line "release=6.1.0-56-amd64"
	assert_has_line "deb_image=linux-image-6.1.0-56-amd64-unsigned=1.10-2"
	grep -qx "debian_pkg linux-image-6.1.0-56-amd64-unsigned=1.10-2 $dir" "$FAKE_LOG" ||
		flunk "fetched something else:" "$(<"$FAKE_LOG")"
	# The output is a kernel record (scripts/kv.sh), read as data.
	local krec=$BATS_TEST_TMPDIR/kernel.env
	printf '%s\n' "$output" >"$krec"
	assert_eq "$(bash -c '. "$NX_TOP/scripts/kv.sh"; nx_kv_get "$1" release' _ "$krec")" 6.1.0-56-amd64
	[ -f "${lines[0]#kernel=}" ] || flunk "no ${lines[0]#kernel=}"
}

@test "debian_kernel 6.12.N and 6.1.0-N: that version; unknown ones refused" {
	debian_kernel 6.12.9
	assert_status 0
	assert_has_line "release=6.12.9+deb12-amd64"
	assert_has_line "series=6.12"
	debian_kernel 6.1.0-10
	assert_status 0
	assert_has_line "release=6.1.0-10-amd64"
	assert_has_line "series=6.1"
	# Not served: exit 1, nothing fetched.
	: >"$FAKE_LOG"
	debian_kernel 6.1.0-11
	assert_status 1
	assert_eq "$output" ""
	assert_eq "$stderr" "debian_kernel: linux-image-6.1.0-11-amd64-unsigned is not in the archive (see: debian_kernel.sh --list 6.1)"
	grep -q debian_pkg "$FAKE_LOG" && flunk "fetched:" "$(<"$FAKE_LOG")"
	# Not a SPEC: exit 2.
	local bad
	for bad in 6.2 6.12.x 6.1.0 linux-image-6.1.0-56 "" 6.12.9+deb12; do
		debian_kernel "$bad"
		assert_status 2
	done
	debian_kernel 6.1 6.12
	assert_status 2
}

@test "debian_kernel: empty package lists are updated once, then searched" {
	mv "$FAKE_NAMES" "$BATS_TEST_TMPDIR/names.later"
	FAKE_NAMES_AFTER_UPDATE=$BATS_TEST_TMPDIR/names.later debian_kernel --list 6.1
	assert_status 0
	assert_eq "$output" "6.1.0-9
6.1.0-10
6.1.0-56"
	assert_eq "$(grep -c '^apt-get update' "$FAKE_LOG")" 1 "apt-get updates"
}

# cell DIR KTAP_LINE...: a cell folder with those result lines.
cell() {
	local dir=$BATS_TEST_TMPDIR/$1
	shift
	mkdir -p "$dir"
	printf '%s\n' "TAP version 13" "# a diagnostic: ok 9 not.a.result" \
		"$@" >"$dir/ktap.log"
}

@test "nx_summary --table: tests by cells, '-' for a test a cell did not run" {
	[ -x "$NX_TOP/build/nx_summary" ] || skip "build/nx_summary not built"
	cell a "1..3" "ok 1 t.one" "not ok 2 t.two # exit 1: boom" \
		"ok 3 t.three # SKIP mmu=shadow: no TDP MMU"
	echo run_s=61 >"$BATS_TEST_TMPDIR/a/cell.txt"
	cell b "1..2" "ok 1 t.one" "ok 2 t.four"
	capture "$NX_TOP/build/nx_summary" --table 6.1.0-56/tdp="$BATS_TEST_TMPDIR/a" \
		6.12.117/shadow="$BATS_TEST_TMPDIR/b" 6.12.117/legacy="$BATS_TEST_TMPDIR/c"
	assert_status 1
	assert_eq "$output" "test     6.1.0-56/tdp  6.12.117/shadow  6.12.117/legacy
t.one    PASS          PASS             -
t.two    FAIL          -                -
t.three  SKIP          -                -
t.four   -             PASS             -
cell 6.1.0-56/tdp: 1 passed, 1 failed, 1 skipped, 61 s
cell 6.12.117/shadow: 2 passed, 0 failed, 0 skipped, - s
cell 6.12.117/legacy: did not run"
}

@test "nx_summary --table: exit 0 when every cell ran and none failed; usage" {
	[ -x "$NX_TOP/build/nx_summary" ] || skip "build/nx_summary not built"
	cell a "1..1" "ok 1 t.one # SKIP why"
	cell b "1..1" "ok 1 t.one"
	capture "$NX_TOP/build/nx_summary" --table x="$BATS_TEST_TMPDIR/a" \
		y="$BATS_TEST_TMPDIR/b"
	assert_status 0
	capture "$NX_TOP/build/nx_summary" --table
	assert_status 2
	capture "$NX_TOP/build/nx_summary" --table nolabel
	assert_status 2
}

# run_nx ARG...: run_nx_tests.sh with fake binaries and nothing to build.
run_nx() {
	local build=$BATS_TEST_TMPDIR/build
	[ -d "$build" ] || make_default_build "$build"
	NX_NO_BUILD=1 NX_BUILD=$build NX_SYSFS_ROOT=$BATS_TEST_TMPDIR/sysfs \
		NX_CACHE=$BATS_TEST_TMPDIR/cache \
		capture "$NX_TOP/run_nx_tests.sh" "$@"
}

@test "--kernel debian:, --mmu, --matrix: bad values are usage errors" {
	mkdir -p "$BATS_TEST_TMPDIR/ksrc/arch/x86/kvm"
	local -a bad=(
		"--kernel debian:6.2|--kernel debian:6.2: expected debian:SPEC with SPEC 6.12, 6.12.N, 6.1, 6.1.0-N, 7.2, 7.2.N, 7.3 or 7.3.N"
		"--kernel debian:6.1,6.12|--kernel 6.12: expected debian:SPEC with SPEC 6.12, 6.12.N, 6.1, 6.1.0-N, 7.2, 7.2.N, 7.3 or 7.3.N"
		"--kernel debian:7.4|--kernel debian:7.4: expected debian:SPEC with SPEC 6.12, 6.12.N, 6.1, 6.1.0-N, 7.2, 7.2.N, 7.3 or 7.3.N"
		"--kernel debian:7.3.x|--kernel debian:7.3.x: expected debian:SPEC with SPEC 6.12, 6.12.N, 6.1, 6.1.0-N, 7.2, 7.2.N, 7.3 or 7.3.N"
		"--mmu ept|--mmu ept: expected tdp, legacy or shadow"
		"--mmu tdp,|--mmu tdp,: empty item in the list"
		"--kernel debian:6.1,,debian:6.12|--kernel debian:6.1,,debian:6.12: empty item in the list"
		"--host --mmu tdp|--kernel debian:, --mmu and --matrix work in VM mode only"
		"--host --matrix|--kernel debian:, --mmu and --matrix work in VM mode only"
		"--kernel debian:6.1 --kvm-src $BATS_TEST_TMPDIR/ksrc|--kvm-src works with one Debian kernel of series 6.12 or 7.3 (the default or --kernel debian:SPEC) in VM mode only"
		"--kernel debian:7.3,debian:6.12 --kvm-src $BATS_TEST_TMPDIR/ksrc|--kvm-src works with one Debian kernel of series 6.12 or 7.3 (the default or --kernel debian:SPEC) in VM mode only"
		"--matrix --kvm-src $BATS_TEST_TMPDIR/ksrc|--kvm-src works with one Debian kernel of series 6.12 or 7.3 (the default or --kernel debian:SPEC) in VM mode only"
	)
	local b
	for b in "${bad[@]}"; do
		# shellcheck disable=SC2086 # the arguments are words
		run_nx ${b%%|*}
		assert_status 2
		assert_eq "$output" ""
		assert_eq "$stderr" "run_nx_tests.sh: ${b#*|}
Try 'run_nx_tests.sh --help'." "stderr of ${b%%|*}"
	done
	[ ! -e "$BATS_TEST_TMPDIR/cache" ] || flunk "the cache folder was created"
}

@test "--help documents --kernel debian:, --mmu, --matrix and --perf" {
	run_nx --help
	assert_status 0
	local opt
	for opt in "--kernel debian:SPEC" "--mmu MODE" "--matrix " "--perf "; do
		[[ $output == *"  $opt"* ]] || flunk "usage does not mention $opt" "$output"
	done
}

# sourced CODE: run CODE in bash with run_nx_tests.sh sourced.
sourced() {
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		'"$1"
}

@test "parse_args: lists and repeats add up, once each; --matrix fills what is unset" {
	sourced 'parse_args --kernel debian:6.1,debian:6.12 --kernel debian:6.1 \
			--mmu shadow --mmu tdp,shadow
		echo "${NX_KERNEL_SPECS[*]}|${NX_MMU_MODES[*]}"
		NX_KERNEL_SPECS=() NX_MMU_MODES=()
		parse_args --matrix
		echo "${NX_KERNEL_SPECS[*]}|${NX_MMU_MODES[*]}"
		NX_KERNEL_SPECS=() NX_MMU_MODES=()
		parse_args --matrix --mmu legacy --kernel debian:6.12.113
		echo "${NX_KERNEL_SPECS[*]}|${NX_MMU_MODES[*]}"
		NX_KERNEL_SPECS=() NX_MMU_MODES=()
		parse_args --kernel debian:7.3,debian:7.2.13 --kernel debian:7.2 \
			--kernel debian:7.3.4
		echo "${NX_KERNEL_SPECS[*]}|${NX_MMU_MODES[*]}"'
	assert_status 0
	assert_eq "$output" "6.1 6.12|shadow tdp
6.1 6.12 7.3|tdp legacy shadow
6.12.113|legacy
7.3 7.2.13 7.2 7.3.4|"
}

@test "series_of_release: the 6.1 framework below Linux 6.8, 7.3's for 7.x" {
	sourced 'for r in 6.1.0-56-amd64 6.7.12 6.8.0 6.12.117+deb12-amd64 \
			5.10.0-30-amd64 7.0.1 7.3.4+deb13-amd64 7.2.13+deb14-amd64 8.0.0; do
			echo "$r $(series_of_release "$r")"
		done
		for s in 6.1 6.1.0-57 6.12 6.12.117 7.2 7.2.13 7.3 7.3.4; do
			echo "$s $(series_of_spec "$s")"
		done'
	assert_eq "$output" "6.1.0-56-amd64 6.1
6.7.12 6.1
6.8.0 6.12
6.12.117+deb12-amd64 6.12
5.10.0-30-amd64 6.1
7.0.1 7.3
7.3.4+deb13-amd64 7.3
7.2.13+deb14-amd64 7.3
8.0.0 6.12
6.1 6.1
6.1.0-57 6.1
6.12 6.12
6.12.117 6.12
7.2 7.3
7.2.13 7.3
7.3 7.3
7.3.4 7.3"
}

@test "suite_build_dir: each series its own build, none without it, saying why" {
	local b=$BATS_TEST_TMPDIR/b
	mkdir -p "$b/7.3" "$b/6.1"
	NX_BUILD=$b capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		for s in 7.3 7.2 6.12 6.1; do echo "$s $(suite_build_dir $s) $?"; done
		touch "$NX_BUILD/7.3/x_test" "$NX_BUILD/6.1/x_test" "$NX_BUILD/x_test"
		for s in 7.3 7.2 6.12 6.1; do echo "$s $(suite_build_dir $s) $?"; done'
	assert_status 0
	assert_eq "$output" "7.3 no tests built against the 7.3 framework in $b/7.3 (make SERIES=7.3) 1
7.2 no tests built against the 7.3 framework in $b/7.3 (make SERIES=7.3) 1
6.12 no tests built against the 6.12 framework in $b (make SERIES=6.12) 1
6.1 no tests built against the 6.1 framework in $b/6.1 (make SERIES=6.1) 1
7.3 $b/7.3 0
7.2 $b/7.3 0
6.12 $b 0
6.1 $b/6.1 0"
}

@test "combine_rc: a failed cell wins, then an unbooted kernel; 4 only if all skipped" {
	sourced 'for l in "0 4 1 125" "0 125 4" "0 4" "4 4" "" "0 2" "125 2"; do
			# shellcheck disable=SC2086
			combine_rc $l
			echo "[$l] $?"
		done'
	assert_eq "$output" "[0 4 1 125] 1
[0 125 4] 125
[0 4] 0
[4 4] 4
[] 0
[0 2] 2
[125 2] 125"
}

@test "split_cells: one results.raw per MMU mode, in the order run; a mode never begun is empty" {
	local raw=$BATS_TEST_TMPDIR/k/results.raw
	mkdir -p "$BATS_TEST_TMPDIR/k"
	printf '%s\r\n' "TAP version 13" "1..1" "ok 1 a" "TAP version 13" "1..1" \
		"not ok 1 a" >"$raw"
	capture bash -c '. "$NX_TOP/run_nx_tests.sh"
		split_cells "$1/results.raw" "$1" "tdp legacy shadow"' x "$BATS_TEST_TMPDIR/k"
	assert_status 0
	assert_eq "$(tr -d '\r' <"$BATS_TEST_TMPDIR/k/tdp/results.raw")" "TAP version 13
1..1
ok 1 a"
	assert_eq "$(tr -d '\r' <"$BATS_TEST_TMPDIR/k/legacy/results.raw")" "TAP version 13
1..1
not ok 1 a"
	[ -e "$BATS_TEST_TMPDIR/k/shadow/results.raw" ] || flunk "no shadow/results.raw"
	[ ! -s "$BATS_TEST_TMPDIR/k/shadow/results.raw" ] || flunk "shadow/results.raw not empty"
	# More documents than cells: the rest stays with the last, said.
	capture bash -c '. "$NX_TOP/run_nx_tests.sh"
		split_cells "$1/results.raw" "$1" "tdp"' x "$BATS_TEST_TMPDIR/k"
	assert_status 1
	assert_eq "$stderr" "nx_summary: $raw: more KTAP documents than the 1 cells; the rest goes to the last"
	assert_eq "$(grep -c "TAP version" "$BATS_TEST_TMPDIR/k/tdp/results.raw")" 2
}

@test "summarize: the side files stay as they are, cell time to cell.txt and the JSON" {
	local dir=$BATS_TEST_TMPDIR/cell
	mkdir -p "$dir/perf"
	printf '%s\n' "TAP version 13" "1..1" "ok 1 t.a" >"$dir/results.raw"
	printf '%s\n' " Performance counter stats" "     3      kvm:kvm_exit" \
		>"$dir/perf/t.a.txt"
	echo "kvm_amd.npt=N" >"$dir/params.txt"
	printf '%s\n' mmu=shadow run_s=42 >"$dir/cell.txt"
	find_python
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		NX_BUILD=$NX_TOP/build
		printf "%s\n" mode=vm release=6.12.0-test run_s=99 >"$1/kernel.env"
		summarize "$1" "$1/results.raw" shadow "" "$1/kernel.env"' x "$dir"
	[ -x "$NX_TOP/build/nx_summary" ] || skip "build/nx_summary not built"
	assert_status 0
	assert_eq "$(<"$dir/ktap.log")" "TAP version 13
1..1
ok 1 t.a"
	assert_eq "$(<"$dir/perf/t.a.txt")" " Performance counter stats
     3      kvm:kvm_exit"
	assert_eq "$(<"$dir/cell.txt")" "kernel_release=6.12.0-test
mmu=shadow
boot_s=0
run_s=42"
	JSON=$dir/summary.json
	json_flat "$JSON" | grep -qx '.run.mmu="shadow"' || flunk "$(<"$JSON")"
	json_flat "$JSON" | grep -qx '.run_metrics.run_s=42' || flunk "$(<"$JSON")"
	json_flat "$JSON" | grep -qx '.module_parameters.kvm_amd.npt="N"' || flunk "$(<"$JSON")"
	# Without the guest's time of the cell (it died), the record's.
	rm "$dir/cell.txt"
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		NX_BUILD=$NX_TOP/build
		summarize "$1" "$1/results.raw" shadow "" "$1/kernel.env"' x "$dir"
	grep -qx run_s=99 "$dir/cell.txt" || flunk "cell.txt:" "$(<"$dir/cell.txt")"
}

@test "run_cases.sh NX_SKIP_ALL: every case skipped with the reason, none run" {
	local build=$BATS_TEST_TMPDIR/build
	make_default_build "$build"
	printf '%s\n' "$build/alpha_test fake.a.one" "$build/beta_test fake.b.fail" \
		>"$BATS_TEST_TMPDIR/cases.txt"
	NX_SKIP_ALL="mmu=shadow: insmod kvm_amd.ko npt=0 failed" \
		capture "$NX_TOP/scripts/run_cases.sh" "$BATS_TEST_TMPDIR/cases.txt" 5
	assert_status 0
	assert_eq "$output" "TAP version 13
1..2
# selftests: nx: fake.a.one
ok 1 fake.a.one # SKIP mmu=shadow: insmod kvm_amd.ko npt=0 failed
# selftests: nx: fake.b.fail
ok 2 fake.b.fail # SKIP mmu=shadow: insmod kvm_amd.ko npt=0 failed"
	assert_no_case_run "$build"
}

@test "run_cases.sh NX_PERF_CMD: counts to NX_SIDE_DIR/perf/CASE.txt; a crash still fails" {
	local build=$BATS_TEST_TMPDIR/build
	make_default_build "$build"
	cp "$NX_FIXTURES/fake_test" "$build/alpha_test"
	printf '%s\n' fake.a.pass fake.a.crash >"$build/alpha_test.cases"
	# perf stat -e E -e E -o FILE -- CMD...: runs CMD, writes FILE, exits 0
	# whatever CMD did (as perf does when CMD dies of a signal).
	cat >"$FAKEBIN/perf" <<-'EOF'
		#!/bin/sh
		while [ "$1" != -- ]; do
			[ "$1" = -o ] && out=$2
			shift
		done
		shift
		echo "libtraceevent: a warning" >&2
		"$@"
		printf '%s\n' " Performance counter stats" "   7   kvm:kvm_exit" >"$out"
		exit 0
	EOF
	chmod +x "$FAKEBIN/perf"
	printf '%s\n' "$build/alpha_test fake.a.pass" "$build/alpha_test fake.a.crash" \
		>"$BATS_TEST_TMPDIR/cases.txt"
	local side=$BATS_TEST_TMPDIR/side
	TMPDIR=$BATS_TEST_TMPDIR NX_PERF_CMD=$FAKEBIN/perf NX_SIDE_DIR=$side \
		capture "$NX_TOP/scripts/run_cases.sh" "$BATS_TEST_TMPDIR/cases.txt" 5
	assert_eq "$(<"$side/perf/fake.a.pass.txt")" " Performance counter stats
   7   kvm:kvm_exit
libtraceevent: a warning"
	# perf's own warnings go with the counts, not into the case's output;
	# the counts not into the KTAP.
	[[ $output != *libtraceevent* ]] || flunk "perf's stderr in the KTAP:" "$output"
	[[ $output != *kvm_exit* ]] || flunk "perf's counts in the KTAP:" "$output"
	assert_has_line "ok 1 fake.a.pass"
	assert_has_line "not ok 2 fake.a.crash # exit 139"
	# Without counts, each case says why.
	rm -r "$side"
	NX_PERF_SKIP="perf is not in the initramfs" NX_SIDE_DIR=$side \
		capture "$NX_TOP/scripts/run_cases.sh" "$BATS_TEST_TMPDIR/cases.txt" 5
	assert_eq "$(<"$side/perf/fake.a.pass.txt")" "SKIP perf is not in the initramfs"
	# Counts with nowhere to go: refused before any case runs.
	NX_PERF_SKIP=x capture "$NX_TOP/scripts/run_cases.sh" "$BATS_TEST_TMPDIR/cases.txt" 5
	assert_status 2
	assert_eq "$stderr" "run_cases.sh: --perf needs NX_SIDE_DIR for the counts"
}

@test "missing_results: a case the guest died before reporting fails, named" {
	local d=$BATS_TEST_TMPDIR
	printf '%s\n' "TAP version 13" "1..3" "ok 1 t.one" "not ok 2 t.two # boom" >"$d/ktap.log"
	printf '%s\n' "b t.one" "b t.two" "b t.three" >"$d/cases.txt"
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		missing_results "$1/ktap.log" "$1/cases.txt" "the guest died"' x "$d"
	assert_status 0
	assert_eq "$output" "not ok 3 t.three # no result: the guest died"
}

@test "summarize: the cases without a result fail with the record's reason, else the guest's death" {
	local d=$BATS_TEST_TMPDIR/cell
	mkdir -p "$d"
	printf '%s\n' "b t.one" "b t.two" >"$d/cases.txt"
	capture bash -c '. "$NX_TOP/run_nx_tests.sh" || exit 99
		NX_BUILD=$NX_TOP/build
		printf "%s\n" "TAP version 13" "1..2" "ok 1 t.one" >"$1/results.raw"
		printf "%s\n" mode=vm release=6.12.0-test >"$1/kernel.env"
		summarize "$1" "$1/results.raw" tdp "$1/cases.txt" "$1/kernel.env" >/dev/null
		tail -n 1 "$1/ktap.log"
		printf "%s\n" "TAP version 13" "1..2" "ok 1 t.one" >"$1/results.raw"
		echo "missing_why=the run did not finish within NX_RUN_TIMEOUT (9s)" >>"$1/kernel.env"
		summarize "$1" "$1/results.raw" tdp "$1/cases.txt" "$1/kernel.env" >/dev/null
		tail -n 1 "$1/ktap.log"' x "$d"
	[ -x "$NX_TOP/build/nx_summary" ] || skip "build/nx_summary not built"
	assert_eq "$output" "not ok 2 t.two # no result: the guest died or hung before the test reported (see console.log)
not ok 2 t.two # no result: the run did not finish within NX_RUN_TIMEOUT (9s)"
}
