#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/install_tree.sh over fake kernel trees (a KVM selftests folder with
# a Makefile and nothing to build): what it writes, that installing twice is
# installing once, that uninstalling restores the Makefile byte for byte, and
# what it refuses.  tests/install_tree_check.sh builds in a real tree.

# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2154

load test_helper

setup() {
	TREE=$BATS_TEST_TMPDIR/linux
	KVM=$TREE/tools/testing/selftests/kvm
	mkdir -p "$KVM/lib" "$KVM/include" "$KVM/x86_64"
	printf 'all:\ninclude ../lib.mk\n' >"$KVM/Makefile"
	touch "$KVM/x86_64/cpuid_test.c"
	cp -p "$KVM/Makefile" "$BATS_TEST_TMPDIR/Makefile.orig"
}

install_tree() {
	capture "$NX_TOP/scripts/install_tree.sh" "$1" "$TREE"
}

# The suite's folder and the Makefile in the tree, as one checksum.
tree_sum() {
	(cd "$KVM" && find nx -type f | sort | xargs sha256sum && sha256sum Makefile) |
		sha256sum
}

@test "install copies the suite to kvm/nx and appends one include line" {
	install_tree install
	assert_status 0
	[ -f "$KVM/nx/tree.mk" ] && [ -f "$KVM/nx/framework.mk" ] ||
		flunk "make fragments missing"
	[ -f "$KVM/nx/x86_64/nx_split_recovery_test.c" ] || flunk "tests missing"
	assert_eq "$(head -n 2 "$KVM/Makefile")" "$(cat "$BATS_TEST_TMPDIR/Makefile.orig")" \
		"the Makefile's original lines"
	assert_eq "$(tail -n 1 "$KVM/Makefile")" \
		"include nx/tree.mk # nx-selftests: make uninstall-tree removes this line"
	grep -qx 'bin x86_64/nx_split_recovery_test' "$KVM/nx/.installed" ||
		flunk "binary not recorded for uninstall"
}

@test "installing twice is installing once" {
	local once
	install_tree install
	once=$(tree_sum)
	install_tree install
	assert_status 0
	assert_eq "$(tree_sum)" "$once" "tree after the second install"
	assert_eq "$(grep -c 'include nx/tree.mk' "$KVM/Makefile")" 1 "include lines"
}

@test "uninstall restores the Makefile byte for byte and removes the rest" {
	install_tree install
	touch "$KVM/x86_64/nx_split_recovery_test"	# as if built
	install_tree uninstall
	assert_status 0
	cmp "$KVM/Makefile" "$BATS_TEST_TMPDIR/Makefile.orig"
	[ ! -e "$KVM/nx" ] || flunk "nx/ left behind"
	[ ! -e "$KVM/x86_64/nx_split_recovery_test" ] || flunk "binary left behind"
	[ -e "$KVM/x86_64/cpuid_test.c" ] || flunk "the tree's test was removed"
	install_tree uninstall
	assert_status 0
	assert_has_line "install_tree: nothing installed in $KVM"
}

@test "a Makefile without a final newline comes back without it" {
	printf 'all:' >"$KVM/Makefile"
	cp -p "$KVM/Makefile" "$BATS_TEST_TMPDIR/Makefile.orig"
	install_tree install
	assert_eq "$(tail -n 1 "$KVM/Makefile")" \
		"include nx/tree.mk # nx-selftests: make uninstall-tree removes this line"
	install_tree uninstall
	assert_status 0
	cmp "$KVM/Makefile" "$BATS_TEST_TMPDIR/Makefile.orig"
}

@test "a mainline tree (x86/) gets the binaries there" {
	mv "$KVM/x86_64" "$KVM/x86"
	install_tree install
	assert_status 0
	local n
	n=$(find "$NX_TOP/x86_64" -name '*_test.c' | wc -l)
	assert_has_line "install_tree: installed $n tests into $KVM/nx (binaries in x86/)"
	grep -qx 'bin x86/nx_split_recovery_test' "$KVM/nx/.installed" ||
		flunk "binary not recorded under x86/"
}

@test "a tree without KVM selftests is refused and left alone" {
	rm -rf "$TREE/tools/testing"
	install_tree install
	assert_status 1
	assert_eq "$stderr" \
		"install_tree: $TREE has no KVM selftests (no tools/testing/selftests/kvm/Makefile, lib/, include/)"
	assert_eq "$(find "$TREE" | wc -l)" 2 "entries in the tree"
}

@test "a tree with a test of the same name is refused" {
	touch "$KVM/x86_64/nx_flush_count_test.c"
	install_tree install
	assert_status 1
	assert_eq "$stderr" \
		"install_tree: $KVM/x86_64/nx_flush_count_test.c exists: the tree has a test of the same name as the suite's"
	[ ! -e "$KVM/nx" ] || flunk "nx/ created"
	cmp "$KVM/Makefile" "$BATS_TEST_TMPDIR/Makefile.orig"
}

@test "uninstall refuses a Makefile edited since; NX_FORCE=1 removes only the line" {
	install_tree install
	echo '# edited' >>"$KVM/Makefile"
	install_tree uninstall
	assert_status 1
	[[ $stderr == *"was edited after install-tree"* ]] || flunk "stderr: $stderr"
	[ -e "$KVM/nx" ] || flunk "nx/ removed although uninstall failed"
	NX_FORCE=1 install_tree uninstall
	assert_status 0
	assert_eq "$(cat "$KVM/Makefile")" \
		"$(cat "$BATS_TEST_TMPDIR/Makefile.orig")"$'\n# edited' "the Makefile"
	[ ! -e "$KVM/nx" ] || flunk "nx/ left behind"
}

@test "make install-tree needs KSRC" {
	capture make -s -C "$NX_TOP" install-tree
	assert_status 2
	[[ $stderr == *"install-tree needs KSRC=/path/to/linux"* ]] ||
		flunk "stderr: $stderr"
}
