#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/upstream_series.sh and `make upstream-series`: the arguments, OUT=,
# a missing or incomplete tree, the identity the patches are signed off by.
# The tree is a small one holding, of Debian's 7.3 tree in .cache (make
# SERIES=7.3 prepares it), only the files the series changes.
# tests/upstream_series_check.sh applies, checks and runs the series.

# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2154

load test_helper

setup() {
	local f real
	TREE=$BATS_TEST_TMPDIR/linux
	OUT=$BATS_TEST_TMPDIR/out
	real=$(compgen -G "$NX_TOP/.cache/linux-7.3.*/.prepared" | head -n 1) ||
		skip "no 7.3 tree in .cache (make SERIES=7.3)"
	real=${real%/.prepared}
	for f in arch/x86/kvm/mmu/mmu.c tools/testing/selftests/kvm/x86/nx_huge_pages_test.c \
		 tools/testing/selftests/kvm/x86/nx_huge_pages_test.sh; do
		mkdir -p "$TREE/$(dirname "$f")"
		cp "$real/$f" "$TREE/$f"
	done
	printf 'VERSION = 7\nPATCHLEVEL = 3\nSUBLEVEL = 4\nEXTRAVERSION =\n' >"$TREE/Makefile"
	echo "7.3.4-1~bpo13+1" >"$TREE/.prepared"
	export NX_SERIES_IDENT="A Sender <sender@example.org>"
}

series() {
	capture "$NX_TOP/scripts/upstream_series.sh" "$@"
}

@test "writes the two patches to OUT and prints their paths, one a line" {
	series "$TREE" "$OUT"
	assert_status 0
	assert_eq "${#lines[@]}" 2 "lines on stdout"
	[[ ${lines[0]} == "$OUT"/0001-KVM-x86-mmu-Untrack-recovered-NX-huge-pages-*.patch ]] ||
		flunk "first path: ${lines[0]}"
	[[ ${lines[1]} == "$OUT"/0002-KVM-selftests-*.patch ]] || flunk "second path: ${lines[1]}"
	[ -f "${lines[0]}" ] && [ -f "${lines[1]}" ] || flunk "patches not written"
	grep -q '^Subject: \[PATCH 1/2\] KVM: x86/mmu: ' "${lines[0]}" || flunk "subject of 1/2"
	grep -q '^Subject: \[PATCH 2/2\] KVM: selftests: ' "${lines[1]}" || flunk "subject of 2/2"
}

@test "says the base: the tree's version and Debian build" {
	series "$TREE" "$OUT"
	assert_status 0
	[[ $stderr == *"made for Linux 7.3.4 (Debian linux-source 7.3.4-1~bpo13+1): $TREE"* ]] ||
		flunk "stderr: $stderr"
}

@test "authored and signed off by NX_SERIES_IDENT, once per patch" {
	local p
	series "$TREE" "$OUT"
	assert_status 0
	for p in "${lines[@]}"; do
		assert_eq "$(sed -n 's/^From: //p' "$p")" "A Sender <sender@example.org>" "From:"
		assert_eq "$(grep -c '^Signed-off-by: A Sender <sender@example.org>$' "$p")" 1 \
			"Signed-off-by lines"
	done
	grep -q '^Fixes: 6777885605e1 ' "${lines[0]}" || flunk "the Fixes: tags"
}

@test "a malformed NX_SERIES_IDENT is refused (exit 2)" {
	NX_SERIES_IDENT="no email" series "$TREE" "$OUT"
	assert_status 2
	[[ $stderr == *'expected "Name <email>"'* ]] || flunk "stderr: $stderr"
	[ ! -e "$OUT" ] || flunk "OUT written"
}

@test "OUT's other files are left alone" {
	mkdir -p "$OUT"
	echo mine >"$OUT/0001-mine.patch"
	series "$TREE" "$OUT"
	assert_status 0
	assert_eq "$(cat "$OUT/0001-mine.patch")" mine
	assert_eq "$(find "$OUT" -type f | wc -l)" 3 "files in OUT"
}

@test "the tree is only read" {
	local before
	before=$(cd "$TREE" && find . -type f -exec sha256sum {} + | sort)
	series "$TREE" "$OUT"
	assert_status 0
	assert_eq "$(cd "$TREE" && find . -type f -exec sha256sum {} + | sort)" "$before" "tree"
}

@test "a missing tree: exit 2, naming what is missing and how to get the tree" {
	series "$BATS_TEST_TMPDIR/nothing" "$OUT"
	assert_status 2
	[[ $stderr == *"nothing is not a kernel tree with arch/x86/kvm/mmu/mmu.c"*"make SERIES=7.3 ksrc"* ]] ||
		flunk "stderr: $stderr"
	[ ! -e "$OUT" ] || flunk "OUT written"
}

@test "a tree without a file the series changes: exit 2" {
	rm "$TREE/tools/testing/selftests/kvm/x86/nx_huge_pages_test.sh"
	series "$TREE" "$OUT"
	assert_status 2
	[[ $stderr == *"with tools/testing/selftests/kvm/x86/nx_huge_pages_test.sh"* ]] ||
		flunk "stderr: $stderr"
}

@test "a tree the fix does not apply to: exit 1, naming the patch" {
	sed -i 's/untrack_possible_nx_huge_page(kvm, sp, KVM_SHADOW_MMU);/changed();/' \
		"$TREE/arch/x86/kvm/mmu/mmu.c"
	series "$TREE" "$OUT"
	assert_status 1
	[[ $stderr == *"0001-"*"does not apply to $TREE"* ]] || flunk "stderr: $stderr"
}

@test "usage: exit 2" {
	series "$TREE"
	assert_status 2
	[[ $stderr == *"usage: upstream_series.sh TREE OUT"* ]] || flunk "stderr: $stderr"
}

@test "make upstream-series OUT=DIR writes there; without OUT, build/upstream" {
	capture make -s -C "$NX_TOP" upstream-series SERIES=7.3 KSRC="$TREE" OUT="$OUT"
	assert_status 0
	assert_eq "$(find "$OUT" -name '*.patch' | wc -l)" 2 "patches in OUT"
	capture make -s -n -C "$NX_TOP" upstream-series SERIES=7.3 KSRC="$TREE"
	[[ $output == *"scripts/upstream_series.sh $TREE $NX_TOP/build/upstream"* ]] ||
		flunk "output: $output"
}

@test "make upstream-series with a missing tree fails" {
	capture make -s -C "$NX_TOP" upstream-series SERIES=7.3 \
		KSRC="$BATS_TEST_TMPDIR/nothing" OUT="$OUT"
	[ "$status" != 0 ] || flunk "make succeeded"
	[[ $stderr == *"is not a kernel tree with"* ]] || flunk "stderr: $stderr"
}
