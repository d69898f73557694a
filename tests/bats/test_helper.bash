# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Shared helpers of the bats tests (plain bats, no helper libraries).
# Nothing here touches the real /sys, /dev/kvm, the network or the
# project's build/ and results/: everything lives under BATS_TEST_TMPDIR.

NX_TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
NX_FIXTURES=$BATS_TEST_DIRNAME/fixtures
export NX_TOP NX_FIXTURES
# run_cases.sh reads each case's KTAP with it, as the runner has it do.
NX_SUMMARY=$NX_TOP/build/nx_summary
export NX_SUMMARY

# The knobs of scripts/host_state.sh, relative to NX_SYSFS_ROOT.
NX_KNOB_NX=module/kvm/parameters/nx_huge_pages
NX_KNOB_RATIO=module/kvm/parameters/nx_huge_pages_recovery_ratio
NX_KNOB_PERIOD=module/kvm/parameters/nx_huge_pages_recovery_period_ms
NX_KNOB_HP=kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
NX_KNOB_THP=kernel/mm/transparent_hugepage/enabled

# capture CMD [ARG...]: like bats' `run --separate-stderr`, at half the
# cost: sets status, output, stderr and lines (trailing newlines dropped).
capture() {
	local err=$BATS_TEST_TMPDIR/.capture.stderr
	status=0
	output=$("$@" 2>"$err") || status=$?
	stderr=$(<"$err")
	mapfile -t lines <<<"$output"
}

flunk() {
	printf '%s\n' "$@" >&2
	return 1
}

# assert_eq ACTUAL EXPECTED [WHAT]
assert_eq() {
	[ "$1" = "$2" ] ||
		flunk "${3:-value} differs" "expected: '$2'" "actual:   '$1'"
}

# assert_status N: the status of the last capture, showing its output if not.
assert_status() {
	[ "$status" -eq "$1" ] ||
		flunk "exit status $status, expected $1" "stdout:" "$output" \
			"stderr:" "${stderr-}"
}

# assert_has_line LINE: the last capture printed LINE on stdout.
assert_has_line() {
	local l
	for l in "${lines[@]}"; do
		[ "$l" = "$1" ] && return 0
	done
	flunk "no line '$1' in the output:" "$output"
}

# A fake sysfs tree with every knob scripts/host_state.sh saves.  Every
# entry gets an old mtime, so any write shows up in snapshot_tree.
make_fake_sysfs() {
	local root=$1
	mkdir -p "$root/module/kvm/parameters" \
		"$root/kernel/mm/hugepages/hugepages-2048kB" \
		"$root/kernel/mm/transparent_hugepage"
	echo Y >"$root/$NX_KNOB_NX"
	echo 60 >"$root/$NX_KNOB_RATIO"
	echo 0 >"$root/$NX_KNOB_PERIOD"
	echo 3 >"$root/$NX_KNOB_HP"
	echo "always [madvise] never" >"$root/$NX_KNOB_THP"
	find "$root" -exec touch -h -d @1000000000 {} +
}

# Every entry of a tree with its type, mode, size and mtime (in readdir
# order, stable while the tree is unchanged).  The fake sysfs tree's mtimes
# are old, so a write, even of the same contents, changes the snapshot.
snapshot_tree() {
	find "$1" -printf '%P %y %m %s %T@\n'
}

# A fake build folder: DIR/alpha_test and DIR/beta_test (copies of
# fixtures/fake_test) offering the cases given as "BIN:CASE" arguments,
# plus a non-executable *_test and an executable that is not *_test, which
# must both be ignored.
make_fake_build() {
	local dir=$1 spec bin
	shift
	mkdir -p "$dir"
	for spec in "$@"; do
		bin=$dir/${spec%%:*}
		[ -x "$bin" ] || cp "$NX_FIXTURES/fake_test" "$bin"
		echo "${spec#*:}" >>"$bin.cases"
	done
	cp "$NX_FIXTURES/fake_test" "$dir/gamma_test"
	chmod -x "$dir/gamma_test"
	echo fake.gamma.never >"$dir/gamma_test.cases"
	cp "$NX_FIXTURES/fake_test" "$dir/helper"
	echo fake.helper.never >"$dir/helper.cases"
}

# assert_no_case_run DIR: the fake binaries in DIR were at most asked for
# their list (-l), never to run a case.
assert_no_case_run() {
	local f l
	for f in "$1"/*.calls; do
		[ -e "$f" ] || continue
		while IFS= read -r l; do
			[ "$l" = -l ] || flunk "${f##*/}: the binary was run with '$l'"
		done <"$f"
	done
}

# The default fake build of the argument tests.
make_default_build() {
	make_fake_build "$1" alpha_test:fake.a.one alpha_test:fake.a.two \
		"alpha_test:fake.a.skip # needs root, 8 2M hugepages" \
		beta_test:fake.b.one beta_test:fake.b.two
}

# The real python3 (not a version manager's shim, slow to start), exported
# as NX_PYTHON; for setup_file.
find_python() {
	NX_PYTHON=$(python3 -c 'import sys; print(sys.executable)') ||
		flunk "python3 is needed"
	export NX_PYTHON
}

# json_flat FILE: every leaf of the JSON document FILE as "PATH=VALUE"
# (VALUE as JSON), e.g. '.tests[0].status="pass"'.  Fails unless FILE is
# strict JSON: python's NaN and Infinity extensions are refused too.
json_flat() {
	"$NX_PYTHON" -c '
import json, sys

def refuse(word):
    raise ValueError("not JSON: " + word)

def walk(path, v):
    if isinstance(v, dict):
        for k in v:
            walk(path + "." + k, v[k])
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk("%s[%d]" % (path, i), x)
    else:
        print("%s=%s" % (path, json.dumps(v)))

with open(sys.argv[1], encoding="utf-8") as f:
    walk("", json.load(f, parse_constant=refuse))
' "$1"
}

# fake_apt BIN: a fake apt-cache and apt-get in BIN, logging each call to
# FAKE_LOG.  apt-cache search greps the names in FAKE_NAMES; madison and
# show answer from FAKE_SERVED ("PACKAGE VERSION" lines; an empty file is
# an empty package list), madison with 1.5-1 and 1.10-2 for a package not
# there.  apt-get update copies
# FAKE_NAMES_AFTER_UPDATE and FAKE_SERVED_AFTER_UPDATE into place;
# apt-get download PKG=VER writes a small .deb of PKG (an empty folder
# boot/) if FAKE_SERVED has it.  Called with -o options (the project's own
# lists, scripts/debian_apt.sh), they log as nx-apt-cache and nx-apt-get
# and answer from FAKE_NX_NAMES and FAKE_NX_SERVED if set.
fake_apt() {
	mkdir -p "$1"
	cat >"$1/apt-cache" <<-'EOF'
		#!/bin/bash
		nx=
		while [ "${1:-}" = -o ]; do nx=nx-; shift 2; done
		echo "${nx}apt-cache $*" >>"$FAKE_LOG"
		if [ -n "$nx" ]; then
			FAKE_NAMES=${FAKE_NX_NAMES:-${FAKE_NAMES:-}}
			FAKE_SERVED=${FAKE_NX_SERVED:-${FAKE_SERVED:-}}
		fi
		served() { awk -v p="$1" -v v="$2" '$1 == p && (v == "" || $2 == v) { print $2; f = 1 } END { exit !f }' "${FAKE_SERVED:-/dev/null}"; }
		case $1 in
		search) [ -e "$FAKE_NAMES" ] && grep -E "^${3#^}" <(cut -d' ' -f1 "$FAKE_NAMES") |
			sed 's/$/ - Linux/' ;;
		madison) shift
			[ -n "${FAKE_SERVED:-}" ] && [ ! -s "$FAKE_SERVED" ] && exit 0
			for p; do
				vs=$(served "$p") || vs=$'1.5-1\n1.10-2'
				printf "$p | %s | http://deb.debian.org/debian x/main amd64 Packages\n" $vs
			done ;;
		show) served "${2%%=*}" "$([[ $2 == *=* ]] && echo "${2#*=}")" >/dev/null || exit 100 ;;
		esac
		exit 0
	EOF
	cat >"$1/apt-get" <<-'EOF'
		#!/bin/bash
		nx=
		while [ "${1:-}" = -o ]; do nx=nx-; shift 2; done
		echo "${nx}apt-get $*" >>"$FAKE_LOG"
		[ -n "$nx" ] && FAKE_SERVED=${FAKE_NX_SERVED:-${FAKE_SERVED:-}}
		[ -n "${FAKE_NAMES_AFTER_UPDATE:-}" ] && cp "$FAKE_NAMES_AFTER_UPDATE" "$FAKE_NAMES"
		[ -n "${FAKE_SERVED_AFTER_UPDATE:-}" ] && cp "$FAKE_SERVED_AFTER_UPDATE" "$FAKE_SERVED"
		[ "$1" = download ] || exit 0
		for a in "${@:2}"; do
			[ "$a" = -qq ] && continue
			p=${a%%=*} v=${a#*=} d=$(mktemp -d)
			awk -v p="$p" -v v="$v" '$1 == p && $2 == v { f = 1 } END { exit !f }' "${FAKE_SERVED:-/dev/null}" || exit 100
			mkdir -p "$d/DEBIAN" "$d/boot"
			printf 'Package: %s\nVersion: %s\nArchitecture: amd64\nMaintainer: x <x@x>\nDescription: x\n' \
				"$p" "$v" >"$d/DEBIAN/control"
			dpkg-deb -b "$d" "${p}_${v//:/%3a}_amd64.deb" >/dev/null || exit 1
			rm -rf "$d"
		done
	EOF
	chmod +x "$1/apt-cache" "$1/apt-get"
}

# For setup_file: build/nx_summary built into the file's own temporary
# folder, exported as NX_BUILD.
build_nx_summary() {
	NX_BUILD=$BATS_FILE_TMPDIR/build
	export NX_BUILD
	make -C "$NX_TOP" -s tools BUILD="$NX_BUILD" >&2
	[ -x "$NX_BUILD/nx_summary" ]
}
