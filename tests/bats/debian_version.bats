#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/debian_version.sh: each pinned series resolves to the newest build
# a fake archive serves, an exact pin that has gone is reported and not
# fetched, and the Makefile, vm.sh and summary.json use what it resolves.
# No network, no VM.

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2154

load test_helper

setup() {
	FAKEBIN=$BATS_TEST_TMPDIR/bin
	export FAKE_LOG=$BATS_TEST_TMPDIR/calls.log
	: >"$FAKE_LOG"
	# Only builds newer than anything the project ever pinned, and a
	# linux-perf of another series that must not be taken.
	cat >"$BATS_TEST_TMPDIR/served" <<-EOF
		linux-source-6.12 6.12.200-1~deb12u1
		linux-image-6.12.200+deb12-amd64-unsigned 6.12.200-1~deb12u1
		linux-headers-6.12.200+deb12-amd64 6.12.200-1~deb12u1
		linux-headers-6.12.200+deb12-common 6.12.200-1~deb12u1
		linux-kbuild-6.12.200+deb12 6.12.200-1~deb12u1
		linux-source-6.1 6.1.300-1
		linux-perf 6.1.300-1
		linux-perf 6.12.50-1
		busybox-static 1:1.36.0-1
	EOF
	export FAKE_SERVED=$BATS_TEST_TMPDIR/served
	# The project's own lists (scripts/debian_apt.sh) also serve
	# trixie-backports' and sid's builds, and trixie's 6.12 and busybox,
	# which the 6.x groups must not pick up.
	cat "$FAKE_SERVED" - >"$BATS_TEST_TMPDIR/nx-served" <<-EOF
		linux-source-7.3 7.3.4-1~bpo13+1
		linux-source-7.3 7.3.9-1~bpo13+1
		linux-source-7.2 7.2.13-1
		linux-source-6.12 6.12.300-1
		busybox-static 1:1.38.0-3
	EOF
	export FAKE_NX_SERVED=$BATS_TEST_TMPDIR/nx-served
	export NX_APT_DIR=$BATS_TEST_TMPDIR/apt
	fake_apt "$FAKEBIN"
	# The pins of versions.env before it pinned series.
	export NX_612_BUILD=6.12.117-1~deb12u1 NX_61_BUILD=6.1.192-2 \
		NX_PERF_BUILD=6.1.192-2
	# Each test its own versions lock, never the project's.
	export NX_VERSIONS_LOCK=$BATS_TEST_TMPDIR/versions.lock
}

# serve_612 N: the archive serves a complete 6.12.N build too.
serve_612() {
	local p
	for p in "linux-image-6.12.$1+deb12-amd64-unsigned" "linux-headers-6.12.$1+deb12-amd64" \
		"linux-headers-6.12.$1+deb12-common" "linux-kbuild-6.12.$1+deb12" linux-source-6.12; do
		echo "$p 6.12.$1-1~deb12u1"
	done >>"$FAKE_SERVED"
}

# versions ARG...: scripts/debian_version.sh over the fake archive.
versions() {
	PATH=$FAKEBIN:$PATH capture "$NX_TOP/scripts/debian_version.sh" "$@"
}

NEWEST="NX_KVER=6.12.200
NX_DEB_VERSION=6.12.200-1~deb12u1
NX_61_KVER=6.1.300
NX_61_DEB_VERSION=6.1.300-1
NX_PERF_DEB_VERSION=6.1.300-1
NX_BUSYBOX_DEB_VERSION=1:1.36.0-1"

@test "debian_version: gone pins are reported, the newest of each series used" {
	versions
	assert_status 0
	assert_eq "$output" "$NEWEST"
	assert_eq "$stderr" "debian: linux-source-6.12=6.12.117-1~deb12u1 is no longer served; using 6.12.200-1~deb12u1, the newest of series 6.12
debian: linux-source-6.1=6.1.192-2 is no longer served; using 6.1.300-1, the newest of series 6.1
debian: linux-perf=6.1.192-2 is no longer served; using 6.1.300-1, the newest of series 6.1"
	# Without pins: the same, silently; two apt-cache calls, no update.
	unset NX_612_BUILD NX_61_BUILD NX_PERF_BUILD
	: >"$FAKE_LOG"
	versions
	assert_eq "$output" "$NEWEST"
	assert_eq "$stderr" ""
	assert_eq "$(grep -c '^apt-cache madison' "$FAKE_LOG")" 2 "apt-cache calls"
	grep -q '^apt-get' "$FAKE_LOG" && flunk "apt-get ran:" "$(<"$FAKE_LOG")"
	grep -q '^nx-apt' "$FAKE_LOG" && flunk "the project's lists asked:" "$(<"$FAKE_LOG")"
	# The output is shell.
	eval "$output"
	assert_eq "$NX_DEB_VERSION" 6.12.200-1~deb12u1
}

@test "debian_version: the lock keeps a checkout on its builds until refresh-versions" {
	unset NX_612_BUILD NX_61_BUILD NX_PERF_BUILD
	versions 6.12 busybox
	assert_status 0
	assert_eq "$(<"$NX_VERSIONS_LOCK")" "NX_612_BUILD=6.12.200-1~deb12u1
NX_BUSYBOX_BUILD=1:1.36.0-1"
	# A newer build served the next day is not taken.
	serve_612 201
	echo "busybox-static 1:1.36.1-1" >>"$FAKE_SERVED"
	versions 6.12 busybox 6.1
	assert_status 0
	assert_eq "$stderr" ""
	assert_eq "$output" "NX_KVER=6.12.200
NX_DEB_VERSION=6.12.200-1~deb12u1
NX_BUSYBOX_DEB_VERSION=1:1.36.0-1
NX_61_KVER=6.1.300
NX_61_DEB_VERSION=6.1.300-1"
	# A pin of the environment wins over the lock.
	NX_612_BUILD=6.12.201-1~deb12u1 versions 6.12
	assert_eq "${lines[1]}" "NX_DEB_VERSION=6.12.201-1~deb12u1"
	# make refresh-versions: the newest, locked from then on.
	NX_REFRESH_VERSIONS=1 versions 6.12 busybox 6.1
	assert_eq "${lines[1]}" "NX_DEB_VERSION=6.12.201-1~deb12u1"
	assert_eq "${lines[2]}" "NX_BUSYBOX_DEB_VERSION=1:1.36.1-1"
	versions 6.12
	assert_eq "${lines[1]}" "NX_DEB_VERSION=6.12.201-1~deb12u1"
	assert_eq "$(<"$NX_VERSIONS_LOCK")" "NX_612_BUILD=6.12.201-1~deb12u1
NX_61_BUILD=6.1.300-1
NX_BUSYBOX_BUILD=1:1.36.1-1"
}

@test "debian_version: a locked build no longer served is said, and the newest locked" {
	printf '%s\n' NX_612_BUILD=6.12.150-1~deb12u1 "NX_61_BUILD=6.1.300-1; rm -rf /" \
		>"$NX_VERSIONS_LOCK"
	unset NX_612_BUILD NX_61_BUILD NX_PERF_BUILD
	versions 6.12 6.1
	assert_status 0
	assert_eq "${lines[1]}" "NX_DEB_VERSION=6.12.200-1~deb12u1"
	assert_eq "$stderr" "debian: linux-source-6.12=6.12.150-1~deb12u1 is no longer served; using 6.12.200-1~deb12u1, the newest of series 6.12"
	# A line that is no version was not taken.
	assert_eq "$(<"$NX_VERSIONS_LOCK")" "NX_612_BUILD=6.12.200-1~deb12u1
NX_61_BUILD=6.1.300-1"
}

@test "debian_version: a pin still served is kept; groups print only theirs" {
	echo "linux-source-6.1 6.1.192-2" >>"$FAKE_SERVED"
	versions 6.1
	assert_status 0
	assert_eq "$output" "NX_61_KVER=6.1.192
NX_61_DEB_VERSION=6.1.192-2"
	assert_eq "$stderr" ""
	versions 6.2
	assert_status 2
}

@test "debian_version 6.12: a source build without its image is passed over" {
	echo "linux-source-6.12 6.12.201-1~deb12u1" >>"$FAKE_SERVED"
	echo "linux-image-6.12.201+deb12-amd64-unsigned 6.12.201-1~deb12u1" >>"$FAKE_SERVED"
	unset NX_612_BUILD
	versions 6.12
	assert_status 0
	assert_eq "$output" "NX_KVER=6.12.200
NX_DEB_VERSION=6.12.200-1~deb12u1"
	assert_eq "$stderr" "debian: linux-source-6.12 6.12.201-1~deb12u1: the image, headers or kbuild of that build are not served; not used"
	# No complete build at all: exit 1.
	grep -v '^linux-kbuild' "$BATS_TEST_TMPDIR/served" >"$BATS_TEST_TMPDIR/s2"
	FAKE_SERVED=$BATS_TEST_TMPDIR/s2 versions 6.12
	assert_status 1
	[[ $stderr == *"debian: no build of linux-source-6.12 (series 6.12) in the archive" ]] ||
		flunk "stderr: $stderr"
}

@test "debian_version: empty package lists are updated once" {
	mv "$FAKE_SERVED" "$BATS_TEST_TMPDIR/served.later"
	: >"$FAKE_SERVED"
	FAKE_SERVED_AFTER_UPDATE=$BATS_TEST_TMPDIR/served.later versions 6.1
	assert_status 0
	assert_eq "$output" "NX_61_KVER=6.1.300
NX_61_DEB_VERSION=6.1.300-1"
	assert_eq "$(grep -c '^apt-get update' "$FAKE_LOG")" 1 "apt-get updates"
}

@test "make ksrc: prepares the tree of the newest build, not the gone pin" {
	local s
	for s in 6.12 6.1; do
		PATH=$FAKEBIN:$PATH capture make -C "$NX_TOP" -n SERIES=$s \
			CACHE="$BATS_TEST_TMPDIR/cache" BUILD="$BATS_TEST_TMPDIR/build" ksrc
		assert_status 0
		case $s in
		6.12) assert_has_line "scripts/prepare_ksrc.sh \"$BATS_TEST_TMPDIR/cache\" \"6.12\" \"6.12.200-1~deb12u1\" \"$BATS_TEST_TMPDIR/cache/linux-6.12.200/.prepared\"" ;;
		6.1) assert_has_line "scripts/prepare_ksrc.sh \"$BATS_TEST_TMPDIR/cache\" \"6.1\" \"6.1.300-1\" \"$BATS_TEST_TMPDIR/cache/linux-6.1.300/.prepared\"" ;;
		esac
		[[ $stderr == *"is no longer served"* ]] || flunk "no message: $stderr"
	done
}

@test "vm.sh and summary.json: only the newest builds are fetched, and recorded" {
	local dir=$BATS_TEST_TMPDIR/cell
	mkdir -p "$dir" "$BATS_TEST_TMPDIR/build"
	printf '%s\n' "TAP version 13" "1..1" "ok 1 t.a" >"$dir/results.raw"
	echo "linux-source-6.12=6.12.200-1~deb12u1" >"$BATS_TEST_TMPDIR/build/.debian-source"
	[ -x "$NX_TOP/build/nx_summary" ] || skip "build/nx_summary not built"
	cp "$NX_TOP/build/nx_summary" "$BATS_TEST_TMPDIR/build/"
	find_python
	PATH=$FAKEBIN:$PATH NX_CACHE=$BATS_TEST_TMPDIR/cache \
		NX_BUILD=$BATS_TEST_TMPDIR/build capture bash -c '
		. "$NX_TOP/run_nx_tests.sh" || exit 99
		krec=$1/kernel.env
		nx_vm_default_kernel "$krec" && nx_fetch_perf "$krec" || exit 98
		echo "$(nx_krec_get "$krec" kernel) $(nx_krec_get "$krec" perf_bin)"
		nx_krec_set "$krec" release 6.12.200+deb12-amd64
		summarize "$1" "$1/results.raw" tdp "" "$krec" >/dev/null' x "$dir"
	assert_status 0
	local pkgs=$BATS_TEST_TMPDIR/cache/pkgs
	assert_eq "$output" "$pkgs/linux-image-6.12.200+deb12-amd64-6.12.200-1~deb12u1/boot/vmlinuz-6.12.200+deb12-amd64 $pkgs/linux-perf-6.1.300-1/usr/bin/perf"
	# The gone pins were reported (once: resolved once per run), never fetched.
	assert_eq "$(grep -c 'is no longer served' <<<"$stderr")" 3 "messages"
	assert_eq "$(grep '^apt-get download' "$FAKE_LOG")" \
		"apt-get download -qq linux-image-6.12.200+deb12-amd64-unsigned=6.12.200-1~deb12u1
apt-get download -qq linux-perf=6.1.300-1"
	! grep -E '6\.12\.117|6\.1\.192' "$FAKE_LOG" || flunk "asked for a gone build"
	local flat
	flat=$(json_flat "$dir/summary.json")
	local kv
	for kv in '.run.debian_image="linux-image-6.12.200+deb12-amd64-unsigned=6.12.200-1~deb12u1"' \
		'.run.debian_source="linux-source-6.12=6.12.200-1~deb12u1"' \
		'.run.debian_perf="linux-perf=6.1.300-1"'; do
		grep -qxF -- "$kv" <<<"$flat" || flunk "no $kv in:" "$flat"
	done
}

@test "debian_version 7.3: linux-source-7.3 from the project's own lists only" {
	versions 7.3
	assert_status 0
	assert_eq "$output" "NX_73_KVER=7.3.9
NX_73_DEB_VERSION=7.3.9-1~bpo13+1"
	assert_eq "$stderr" ""
	# The project's lists were empty: updated once.
	assert_eq "$(grep -c '^nx-apt-get -qq update' "$FAKE_LOG")" 1 "updates of $NX_APT_DIR"
	grep -q '^apt-' "$FAKE_LOG" && flunk "the machine's lists asked:" "$(<"$FAKE_LOG")"
	assert_eq "$(grep -c '^nx-apt-cache madison' "$FAKE_LOG")" 1 "madison calls"
	# With the 6.x groups: those from the machine's lists, as before.
	: >"$FAKE_LOG"
	NX_73_BUILD=7.3.4-1~bpo13+1 versions 6.12 6.1 7.3 busybox
	assert_status 0
	assert_eq "$output" "NX_KVER=6.12.200
NX_DEB_VERSION=6.12.200-1~deb12u1
NX_61_KVER=6.1.300
NX_61_DEB_VERSION=6.1.300-1
NX_73_KVER=7.3.4
NX_73_DEB_VERSION=7.3.4-1~bpo13+1
NX_BUSYBOX_DEB_VERSION=1:1.36.0-1"
	# The lists were updated a moment ago: not again.
	grep -q 'update' "$FAKE_LOG" && flunk "updated again:" "$(<"$FAKE_LOG")"
	# None served (lists that know nothing): exit 1.
	: >"$BATS_TEST_TMPDIR/nx2"
	FAKE_NX_SERVED=$BATS_TEST_TMPDIR/nx2 versions 7.3
	assert_status 1
	assert_eq "$stderr" "debian: no build of linux-source-7.3 (series 7.3) in the archive"
}

@test "make ksrc SERIES=7.3: prepares the tree of the newest 7.3 build" {
	PATH=$FAKEBIN:$PATH capture make -C "$NX_TOP" -n SERIES=7.3 \
		CACHE="$BATS_TEST_TMPDIR/cache" BUILD="$BATS_TEST_TMPDIR/build" ksrc
	assert_status 0
	assert_has_line "scripts/prepare_ksrc.sh \"$BATS_TEST_TMPDIR/cache\" \"7.3\" \"7.3.9-1~bpo13+1\" \"$BATS_TEST_TMPDIR/cache/linux-7.3.9/.prepared\""
}

@test "debian_pkg.sh: what the machine's lists do not know comes through the project's" {
	local dest=$BATS_TEST_TMPDIR/pkgs/src73
	PATH=$FAKEBIN:$PATH capture "$NX_TOP/scripts/debian_pkg.sh" \
		linux-source-7.3=7.3.4-1~bpo13+1 "$dest"
	assert_status 0
	[ -e "$dest/.unpacked" ] || flunk "not unpacked"
	assert_eq "$(grep 'download' "$FAKE_LOG")" \
		"nx-apt-get download -qq linux-source-7.3=7.3.4-1~bpo13+1"
	grep -q '^apt-get update' "$FAKE_LOG" && flunk "the machine's lists updated:" "$(<"$FAKE_LOG")"
	# What the machine's lists know is fetched through them, as before.
	: >"$FAKE_LOG"
	PATH=$FAKEBIN:$PATH capture "$NX_TOP/scripts/debian_pkg.sh" \
		linux-source-6.1=6.1.300-1 "$BATS_TEST_TMPDIR/pkgs/src61"
	assert_status 0
	assert_eq "$(grep 'download' "$FAKE_LOG")" "apt-get download -qq linux-source-6.1=6.1.300-1"
	grep -q '^nx-' "$FAKE_LOG" && flunk "the project's lists asked:" "$(<"$FAKE_LOG")"
	# Served by neither: the machine's lists are updated once, then it fails.
	: >"$FAKE_LOG"
	PATH=$FAKEBIN:$PATH capture "$NX_TOP/scripts/debian_pkg.sh" \
		linux-source-7.3=7.3.1-1 "$BATS_TEST_TMPDIR/pkgs/none"
	assert_status 1
	assert_eq "$stderr" "debian_pkg: linux-source-7.3=7.3.1-1 is not in the archive (try: apt-cache policy linux-source-7.3)"
	assert_eq "$(grep -c '^apt-get update' "$FAKE_LOG")" 1 "machine updates"
}
