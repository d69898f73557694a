#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fetch one Debian package with `apt-get download` and unpack it with
# `dpkg-deb -x` into a folder, once.  Nothing is installed on the host.
#
# usage: debian_pkg.sh PACKAGE[=VERSION] DEST
#
# DEST/.unpacked marks a complete unpack, so an interrupted run is redone
# instead of being mistaken for a good cache.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() {
	echo "debian_pkg: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: debian_pkg.sh PACKAGE[=VERSION] DEST"
pkg=$1
dest=$2
case $dest in /*) ;; *) dest=$PWD/$dest ;; esac

if [ -e "$dest/.unpacked" ]; then
	exit 0
fi

# Several runs may share one cache: one fetch per package at a time.
mkdir -p "$(dirname "$dest")"
exec 9>"$dest.lock"
flock 9
[ -e "$dest/.unpacked" ] && exit 0

command -v apt-get >/dev/null || die "apt-get not found: a Debian host is needed"
debs=$dest.download
rm -rf "$debs"
mkdir -p "$debs"

name=${pkg%%=*}
# The machine's package lists first; what they do not know (the suites
# they do not name: trixie-backports, sid) from the project's own lists
# (scripts/debian_apt.sh, under .cache/apt).
get=(apt-get)
if ! apt-cache show "$pkg" >/dev/null 2>&1; then
	if "$here/debian_apt.sh" apt-cache show "$pkg" >/dev/null 2>&1; then
		get=("$here/debian_apt.sh" apt-get)
	else
		# A fresh machine has empty package lists.
		apt-get update -qq || die "apt-get update failed"
		apt-cache show "$pkg" >/dev/null 2>&1 ||
			die "$pkg is not in the archive (try: apt-cache policy $name)"
	fi
fi

# apt-get warns that root downloads unsandboxed; that is expected here.
if ! (cd "$debs" && "${get[@]}" download -qq "$pkg" 2>"$debs/apt.log"); then
	cat "$debs/apt.log" >&2
	die "apt-get download $pkg failed"
fi
deb=$(find "$debs" -maxdepth 1 -name "${name}_*.deb" -print -quit)
[ -n "$deb" ] || die "apt-get download $pkg produced no .deb"

rm -rf "$dest"
mkdir -p "$dest"
dpkg-deb -x "$deb" "$dest"
rm -rf "$debs"
touch "$dest/.unpacked"
