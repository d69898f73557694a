#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Prove `make install-tree` and `make uninstall-tree` on a copy of a kernel
# tree (the shared one in .cache is never touched): the copy's KVM selftests
# are committed to git, the suite is installed twice (the same as once), built
# by the tree's own make and found in its run_tests and kselftest lists, then
# removed: git must find the tree as committed and no file may be left over.
#
# usage: install_tree_check.sh [--full | --no-build] KSRC DEST
#   (default)   build only the suite's targets: make -C .../kvm nx-tests
#   --full      build every KVM selftest (make -C tools/testing/selftests
#               TARGETS=kvm), install them with kselftest's install and list
#               them with run_kselftest.sh
#   --no-build  install, registration and uninstall only, for a tree the
#               suite does not compile against yet
# Prints the wall time of each step.  DEST is removed when all went well.
# NX_KEEP_KSFT=DIR (--full) keeps kselftest's install there, for a run.
set -euo pipefail
# The tree's make is run as a user runs it, from a shell.  Under a parent
# make (make check) MAKELEVEL is 1 or more, and kselftest's lib.mk then
# leaves OUTPUT unset for a direct `make -C .../kvm`, which would put the
# objects of the tree and of the suite under / instead.
unset MAKELEVEL MAKEFLAGS MFLAGS

mode=ours
case ${1:-} in
--full) mode=full; shift ;;
--no-build) mode=none; shift ;;
esac
[ $# = 2 ] || { echo "usage: install_tree_check.sh [--full | --no-build] KSRC DEST" >&2; exit 2; }
src=$1
dest=$2
top=$(cd "$(dirname "$0")/.." && pwd)
sel=$dest/tools/testing/selftests
kvm=$sel/kvm
tests=()
for f in "$top"/x86_64/*_test.c; do
	f=${f##*/}
	tests+=("${f%.c}")
done

fail() {
	echo "FAIL: $*"
	exit 1
}

# timed NAME CMD...: run CMD, then say how long it took.
timed() {
	local name=$1 t0
	shift
	t0=$(date +%s%N)
	"$@"
	echo "time $name: $((($(date +%s%N) - t0) / 1000000)) ms"
}

# quiet CMD...: CMD without its stdout.
quiet() {
	"$@" >/dev/null
}

# What building the KVM selftests reads: tools/, the exported headers
# (`make headers`), one file of scripts/ and the files elsewhere in the tree
# that symbolic links in tools/ point to (7.3's vfio library, which the KVM
# selftests link, includes include/linux/pci_ids.h and driver headers so).
copy_tree() {
	local link to
	rm -rf "$dest"
	mkdir -p "$dest/usr" "$dest/scripts"
	cp -a "$src/tools" "$src/Makefile" "$dest/"
	cp -a "$src/usr/include" "$dest/usr/"
	cp -a "$src/scripts/subarch.include" "$dest/scripts/"
	while IFS= read -r -d '' link; do
		to=$(realpath -qe --relative-to="$src" "$src/$link") || continue
		case $to in tools/* | ../*) continue ;; esac
		mkdir -p "$dest/$(dirname "$to")"
		cp -a "$src/$to" "$dest/$to"
	done < <(cd "$src" && find tools -type l -print0)
}

# git tracks the KVM selftests folder only (the install touches nothing
# else; hashing all of tools/ would cost 20 s); the whole copy is checked
# with a time stamp instead.
commit_tree() {
	git -C "$dest" init -q
	cat >"$dest/.git/info/exclude" <<-EOF
		/*
		!/tools/
		/tools/*
		!/tools/testing/
		/tools/testing/*
		!/tools/testing/selftests/
		/tools/testing/selftests/*
		!/tools/testing/selftests/kvm/
	EOF
	git -C "$dest" add -A
	git -C "$dest" -c user.name=nx-selftests -c user.email=nx@localhost \
		-c commit.gpgsign=false commit -qm "pristine $src"
	git -C "$dest" status --porcelain --ignored >"$dest.ignored"
	touch "$dest.stamp"
}

# The suite's folder and the Makefile, as one checksum.
install_sum() {
	(cd "$kvm" && find nx -type f | sort | xargs sha256sum && sha256sum Makefile) |
		sha256sum
}

check_installed() {
	local once
	timed "install-tree" make -s -C "$top" KSRC="$dest" install-tree
	once=$(install_sum)
	timed "install-tree again" make -s -C "$top" KSRC="$dest" install-tree
	[ "$(install_sum)" = "$once" ] || fail "a second install-tree changed the tree"
	[ "$(grep -c 'include nx/tree.mk' "$kvm/Makefile")" = 1 ] ||
		fail "Makefile should include nx/tree.mk exactly once"
	git -C "$dest" diff --stat
}

# Each test's binary, where the tree's build puts it (x86_64/ or x86/).
bin_of() {
	sed -n "s|^bin \(.*/$1\)$|$kvm/\1|p" "$kvm/nx/.installed"
}

check_built() {
	local t b
	for t in "${tests[@]}"; do
		b=$(bin_of "$t")
		[ -x "$b" ] || fail "$b was not built"
		"$b" -l >/dev/null || fail "$b -l failed"
	done
	echo "built: ${tests[*]}"
}

# The KVM folder's run_tests (what TARGETS=kvm run_tests calls there; -n,
# and -o all not to rebuild) and kselftest's list (emit_tests, which install
# writes to kselftest-list.txt) name every test.
check_registered() {
	local t run list
	run=$(make -n -o all -C "$kvm" run_tests 2>&1 | grep 'run_many') ||
		fail "no run_many in make -n run_tests"
	list=$(make -s -C "$kvm" COLLECTION=kvm emit_tests)
	for t in "${tests[@]}"; do
		grep -q "$(bin_of "$t")" <<<"$run" || fail "run_tests does not run $t"
		grep -qx "kvm:$t" <<<"$list" || fail "emit_tests does not list kvm:$t"
	done
	echo "registered in run_tests and emit_tests"
}

check_kselftest_install() {
	local ksft=$dest.ksft t
	rm -rf "$ksft"
	timed "kselftest install" quiet make -s -C "$sel" TARGETS=kvm install \
		INSTALL_PATH="$ksft"
	for t in "${tests[@]}"; do
		[ -x "$ksft/kvm/$t" ] || fail "kselftest install lacks kvm/$t"
		"$ksft/run_kselftest.sh" --list | grep -qx "kvm:$t" ||
			fail "run_kselftest.sh --list lacks kvm:$t"
	done
	if [ -n "${NX_KEEP_KSFT:-}" ]; then
		rm -rf "$NX_KEEP_KSFT"
		mv "$ksft" "$NX_KEEP_KSFT"
	else
		rm -rf "$ksft"
	fi
	echo "run_kselftest.sh --list names every test"
}

check_removed() {
	local left
	timed "uninstall-tree" make -s -C "$top" KSRC="$dest" uninstall-tree
	make -s -C "$top" KSRC="$dest" uninstall-tree
	[ ! -e "$kvm/nx" ] || fail "$kvm/nx is still there"
	git -C "$dest" diff --exit-code || fail "tracked files differ"
	echo "git status --porcelain after uninstall-tree:"
	git -C "$dest" status --porcelain
	# The tree's own build products go with the tree's own clean (the
	# suite's fragment is no longer read, so this removes nothing of ours).
	timed "tree's make clean" quiet make -s -C "$kvm" clean
	echo "git status --porcelain after uninstall-tree and make clean:"
	git -C "$dest" status --porcelain
	[ -z "$(git -C "$dest" status --porcelain)" ] || fail "git status is not clean"
	git -C "$dest" status --porcelain --ignored | cmp -s - "$dest.ignored" ||
		fail "ignored files differ from before install-tree"
	left=$(find "$dest" -path "$dest/.git" -prune -o -type f -newer "$dest.stamp" -print)
	[ -z "$left" ] || fail "files written since install-tree: $left"
	echo "(empty: the tree is as committed, no file left)"
}

timed "copy tree" copy_tree
timed "git commit" commit_tree
check_installed
case $mode in
ours)
	timed "build nx-tests" make -s -C "$kvm" nx-tests
	check_built
	check_registered
	;;
full)
	timed "build TARGETS=kvm" make -s -j"$(nproc)" -C "$sel" TARGETS=kvm
	check_built
	check_registered
	check_kselftest_install
	;;
none)
	check_registered
	;;
esac
check_removed
rm -rf "$dest" "$dest.ignored" "$dest.stamp"
