#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Put the suite inside a kernel tree's KVM selftests, or take it out again.
#
# usage: install_tree.sh install|uninstall KSRC
#
# install copies the tests, lib/, include/ and the make fragments to
# KSRC/tools/testing/selftests/kvm/nx/ and appends one line to that folder's
# Makefile (the LINE below), after which the tree's own
# `make -C tools/testing/selftests TARGETS=kvm [run_tests|install]` builds
# and runs the suite with its other KVM selftests (mk/tree.mk says how).
# Installing again refreshes the copy and changes nothing else.
#
# uninstall puts back the Makefile saved at install, byte for byte, and
# removes nx/ and the binaries built from it.  If the Makefile was edited
# since, it is left alone and uninstall fails (NX_FORCE=1: remove only the
# line).  Nothing installed: nothing to do.
set -euo pipefail

LINE='include nx/tree.mk # nx-selftests: make uninstall-tree removes this line'

die() {
	echo "install_tree: $*" >&2
	exit 1
}

[ $# = 2 ] || die "usage: install_tree.sh install|uninstall KSRC"
action=$1
ksrc=$2
top=$(cd "$(dirname "$0")/.." && pwd)
kvm=$ksrc/tools/testing/selftests/kvm
mk=$kvm/Makefile
nx=$kvm/nx
state=$nx/.installed

sha() {
	sha256sum <"$1" | cut -d' ' -f1
}

# The value of KEY in the state file.
state_get() {
	sed -n "s/^$1 //p" "$state"
}

has_line() {
	grep -qxF "$LINE" "$mk"
}

# Replace FILE by the content of SRC, as a new file renamed into place:
# a tree copied with hard links (cp -al) keeps its original intact.
replace() {
	local file=$1 src=$2 tmp
	tmp=$(mktemp "$file.nx.XXXXXX")
	cp -p "$src" "$tmp"
	mv -f "$tmp" "$file"
}

check_tree() {
	[ -f "$mk" ] && [ -d "$kvm/lib" ] && [ -d "$kvm/include" ] && return
	die "$ksrc has no KVM selftests (no tools/testing/selftests/kvm/Makefile, lib/, include/)"
}

# The tree's folder of x86 tests: x86_64/ (6.1, 6.12) or x86/ (mainline).
find_arch() {
	if [ -d "$kvm/x86" ] && compgen -G "$kvm/x86/*.c" >/dev/null; then
		arch=x86
	elif [ -d "$kvm/x86_64" ]; then
		arch=x86_64
	else
		die "$kvm has no x86 tests (neither x86/ nor x86_64/)"
	fi
}

# The suite's sources, laid out as mk/tree.mk expects, into DIR.
copy_suite() {
	local dir=$1
	mkdir -p "$dir/x86_64" "$dir/lib" "$dir/include"
	cp -p "$top"/x86_64/*_test.c "$dir/x86_64/"
	cp -p "$top"/lib/*.c "$dir/lib/"
	cp -p "$top"/include/*.h "$dir/include/"
	cp -p "$top/mk/framework.mk" "$top/mk/tree.mk" "$dir/"
}

# Binaries the tree's build makes from the suite, relative to kvm/.
suite_bins() {
	local f
	for f in "$top"/x86_64/*_test.c; do
		f=${f##*/}
		echo "$arch/${f%.c}"
	done
}

do_install() {
	local b tmp

	check_tree
	find_arch
	for b in $(suite_bins); do
		[ ! -e "$kvm/$b.c" ] ||
			die "$kvm/$b.c exists: the tree has a test of the same name as the suite's"
	done
	if [ -e "$state" ]; then
		has_line || die "$nx is installed but $mk lacks the line '$LINE': run uninstall-tree first"
		rm -rf "${nx:?}/x86_64" "${nx:?}/lib" "${nx:?}/include"
		copy_suite "$nx"
		# Binaries of tests since removed from the suite go at uninstall too.
		{ cat "$state"; suite_bins | sed 's/^/bin /'; } | sort -u >"$state.new"
		mv -f "$state.new" "$state"
		echo "install_tree: refreshed $nx"
		return
	fi
	has_line && die "$mk has the line '$LINE' but $state is missing: remove the line by hand"
	[ ! -e "$nx" ] || die "$nx exists but was not made by install-tree: move it away"

	# Everything in place before the Makefile refers to it.
	rm -rf "$nx.nx-tmp"
	copy_suite "$nx.nx-tmp"
	cp -p "$mk" "$nx.nx-tmp/Makefile.orig"
	tmp=$nx.nx-tmp/Makefile.new
	cp -p "$mk" "$tmp"
	# A Makefile not ending in a newline still gets the line on its own.
	[ -z "$(tail -c 1 "$mk")" ] || echo >>"$tmp"
	echo "$LINE" >>"$tmp"
	{
		echo "orig_sha256 $(sha "$mk")"
		echo "installed_sha256 $(sha "$tmp")"
		suite_bins | sed 's/^/bin /'
	} | sort >"$nx.nx-tmp/.installed"
	mv "$nx.nx-tmp" "$nx"
	replace "$mk" "$nx/Makefile.new"
	rm -f "$nx/Makefile.new"

	echo "install_tree: installed $(suite_bins | wc -l) tests into $nx (binaries in $arch/)"
	[ -e "$ksrc/usr/include/linux/kvm.h" ] ||
		echo "install_tree: run 'make headers' in $ksrc before building"
	echo "install_tree: build: make -C $ksrc/tools/testing/selftests TARGETS=kvm"
}

do_uninstall() {
	local b

	if [ ! -e "$state" ]; then
		[ -f "$mk" ] && has_line &&
			die "$mk has the line '$LINE' but $state is missing: remove the line by hand"
		echo "install_tree: nothing installed in $kvm"
		return
	fi
	if [ "$(sha "$mk")" = "$(state_get installed_sha256)" ]; then
		replace "$mk" "$nx/Makefile.orig"
		[ "$(sha "$mk")" = "$(state_get orig_sha256)" ] ||
			die "$mk does not match its checksum from before install-tree"
	elif [ "${NX_FORCE:-}" = 1 ]; then
		grep -vxF "$LINE" "$mk" >"$nx/Makefile.new" || true
		replace "$mk" "$nx/Makefile.new"
		echo "install_tree: $mk was edited after install-tree: removed only the nx-selftests line" >&2
	else
		die "$mk was edited after install-tree, so it is not restored over your edits: remove the line '$LINE' yourself, or rerun with NX_FORCE=1 to remove only that line"
	fi
	# Built in the tree (the default OUTPUT); builds with O= are the user's.
	for b in $(state_get bin); do
		rm -f "$kvm/$b"
	done
	rm -rf "$nx"
	echo "install_tree: removed the suite from $kvm"
}

case $action in
install) do_install ;;
uninstall) do_uninstall ;;
*) die "usage: install_tree.sh install|uninstall KSRC" ;;
esac
