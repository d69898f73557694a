#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fetch one of Debian's kernel images (never installed: scripts/debian_pkg.sh
# unpacks it under .cache/pkgs) and say where it is, as shell assignments:
#
#   NX_KERNEL=<vmlinuz>  NX_MODULES=<.../lib/modules/<release>>
#   NX_SERIES=6.1|6.12   NX_RELEASE=<uname -r of that kernel>
#   NX_DEB_IMAGE=<package>=<Debian version>
#
# usage: debian_kernel.sh SPEC         fetch, print the assignments
#        debian_kernel.sh --list SERIES the versions of SERIES, oldest first,
#                                       each usable as SPEC
#
# SPEC: 6.12        the image of the 6.12 build scripts/debian_version.sh
#                   resolves (that of the source the suite is built from)
#       6.12.N      linux-image-6.12.N+deb12-amd64-unsigned
#       6.1         the newest 6.1 image the archive serves
#       6.1.0-N     linux-image-6.1.0-N-amd64-unsigned (Debian's 6.1 ABI)
#
# Exit: 0 done, 1 not in the archive or the fetch failed, 2 usage.
set -euo pipefail

NX_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NX_CACHE=${NX_CACHE:-$NX_TOP/.cache}
# The fetcher; the bats tests put a fake in its place.
NX_DEBIAN_PKG=${NX_DEBIAN_PKG:-$NX_TOP/scripts/debian_pkg.sh}
# shellcheck source=scripts/debian_version.sh
. "$NX_TOP/scripts/debian_version.sh"

# die MESSAGE [EXIT]
die() {
	echo "debian_kernel: $1" >&2
	exit "${2:-1}"
}

usage() {
	die "usage: debian_kernel.sh SPEC | --list SERIES (SPEC: 6.12, 6.12.N, 6.1, 6.1.0-N)" 2
}

# Image package of a version as --list prints it.
image_pkg() {
	case $1 in
	6.1.0-*) echo "linux-image-$1-amd64-unsigned" ;;
	6.12.*) echo "linux-image-$1+deb12-amd64-unsigned" ;;
	esac
}

# Package names matching REGEX.
search_names() {
	nx_apt_cache search --names-only "$1" | cut -d' ' -f1
}

# The versions of a series, oldest first, in SPEC form.
list_series() {
	case $1 in
	6.1)
		search_names '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' |
			sed 's/^linux-image-\(6\.1\.0-[0-9]*\)-amd64-unsigned$/\1/'
		;;
	6.12)
		search_names '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
			sed 's/^linux-image-\(6\.12\.[0-9]*\)+deb12-amd64-unsigned$/\1/'
		;;
	*) die "unknown series '$1' (6.1 or 6.12)" 2 ;;
	esac | sort -V -u
}

# Newest Debian version of a package the archive serves.
newest_deb_version() {
	apt-cache madison "$1" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' |
		sort -V | tail -n 1
}

[ $# -ge 1 ] || usage
if [ "$1" = --list ]; then
	[ $# -eq 2 ] || usage
	list_series "$2"
	exit 0
fi
[ $# -eq 1 ] || usage
spec=$1

case $spec in
6.12)
	out=$("$NX_TOP/scripts/debian_version.sh" 6.12) || die "no 6.12 build to boot"
	eval "$out"
	version=$NX_KVER
	debver=$NX_DEB_VERSION
	;;
6.1)
	version=$(list_series 6.1 | tail -n 1)
	[ -n "$version" ] || die "no 6.1 kernel image in the archive"
	;;
6.12.[0-9]*) version=$spec ;;
6.1.0-[0-9]*) version=$spec ;;
*) die "unknown kernel '$spec' (6.12, 6.12.N, 6.1 or 6.1.0-N)" 2 ;;
esac
[[ $version =~ ^(6\.12\.[0-9]+|6\.1\.0-[0-9]+)$ ]] ||
	die "unknown kernel '$spec' (6.12, 6.12.N, 6.1 or 6.1.0-N)" 2

case $version in
6.1.0-*) series=6.1 release=$version-amd64 ;;
*) series=6.12 release=$version+deb12-amd64 ;;
esac
pkg=$(image_pkg "$version")
if [ -z "${debver:-}" ]; then
	list_series "$series" | grep -qx -- "$version" ||
		die "$pkg is not in the archive (see: debian_kernel.sh --list $series)"
	debver=$(nx_deb_newest "$pkg")
	[ -n "$debver" ] || die "no version of $pkg in the archive"
fi

dir=$NX_CACHE/pkgs/linux-image-$release-$debver
"$NX_DEBIAN_PKG" "$pkg=$debver" "$dir" >&2 || die "could not fetch $pkg=$debver"
[ -f "$dir/boot/vmlinuz-$release" ] || die "$pkg has no boot/vmlinuz-$release"
[ -d "$dir/lib/modules/$release" ] || die "$pkg has no lib/modules/$release"

printf 'NX_KERNEL=%q\n' "$dir/boot/vmlinuz-$release"
printf 'NX_MODULES=%q\n' "$dir/lib/modules/$release"
printf 'NX_SERIES=%q\n' "$series"
printf 'NX_RELEASE=%q\n' "$release"
printf 'NX_DEB_IMAGE=%q\n' "$pkg=$debver"
