#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fetch one of Debian's kernel images (never installed: scripts/debian_pkg.sh
# unpacks it under .cache/pkgs) and say where it is, as the lines of a
# kernel record (scripts/kv.sh, docs/runner.md), plain values:
#
#   kernel=<vmlinuz>  modules=<.../lib/modules/<release>>
#   series=6.1|6.12|7.2|7.3   release=<uname -r of that kernel>
#   deb_image=<package>=<Debian version>
#   deb_modules=<package>=<Debian version>   (7.x, whose modules are a
#                                            package apart; else empty)
#
# usage: debian_kernel.sh SPEC         fetch, print the record
#        debian_kernel.sh --list SERIES the versions of SERIES (6.1, 6.12,
#                                       7, 7.2, 7.3), oldest first, each
#                                       usable as SPEC
#
# SPEC: 6.12        the image of the 6.12 build scripts/debian_version.sh
#                   resolves (that of the source the suite is built from)
#       6.12.N      linux-image-6.12.N+deb12-amd64-unsigned
#       6.1         the newest 6.1 image the archive serves
#       6.1.0-N     linux-image-6.1.0-N-amd64-unsigned (Debian's 6.1 ABI)
#       7.2, 7.3    the newest 7.2.N or 7.3.N the archive serves
#       7.2.N, 7.3.N  linux-binary-unsigned-7.x.N+debNN-amd64 (the bzImage,
#                   usr/lib/modules/<release>/vmlinuz.unsigned) with
#                   linux-modules-7.x.N+debNN-amd64 (.ko.xz), from
#                   trixie-backports (+deb13) or sid (+deb14), which the
#                   machine's apt sources do not name: asked through
#                   scripts/debian_apt.sh's own lists
#
# Exit: 0 done, 1 not in the archive or the fetch failed, 2 usage.
set -euo pipefail

NX_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NX_CACHE=${NX_CACHE:-$NX_TOP/.cache}
# The fetcher; the bats tests put a fake in its place.
NX_DEBIAN_PKG=${NX_DEBIAN_PKG:-$NX_TOP/scripts/debian_pkg.sh}
# shellcheck source=scripts/debian_version.sh
. "$NX_TOP/scripts/debian_version.sh"
# shellcheck source=scripts/kv.sh
. "$NX_TOP/scripts/kv.sh"

# die MESSAGE [EXIT]
die() {
	echo "debian_kernel: $1" >&2
	exit "${2:-1}"
}

# say_kernel KERNEL MODULES IMAGE_PKG MODULES_PKG: the record, with
# series and release of the kernel chosen.
say_kernel() {
	printf 'kernel=%s\nmodules=%s\nseries=%s\nrelease=%s\n' \
		"$1" "$2" "$series" "$release"
	printf 'deb_image=%s\ndeb_modules=%s\n' "$3" "$4"
}

usage() {
	die "usage: debian_kernel.sh SPEC | --list SERIES (SPEC: 6.12, 6.12.N, 6.1, 6.1.0-N, 7.2, 7.2.N, 7.3, 7.3.N)" 2
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

# "VERSION SUFFIX" (7.3.4 deb13) of each 7.x kernel whose image and
# modules packages are both served, oldest first; of a version served with
# two suffixes (trixie-backports and sid), the newer one.
list_7() {
	nx_apt apt-cache search --names-only \
		'^linux-(binary-unsigned|modules)-7\.[0-9]+\.[0-9]+\+deb[0-9]+-amd64$' |
		cut -d' ' -f1 |
		sed -n 's/^linux-\(binary-unsigned\|modules\)-\(7\.[0-9]*\.[0-9]*\)+\(deb[0-9]*\)-amd64$/\1 \2 \3/p' |
		sort -u | awk '{ n[$2 " " $3]++ } END { for (k in n) if (n[k] == 2) print k }' |
		sort -V | awk '{ s[$1] = $2; if (!($1 in o)) o[$1] = ++n; v[o[$1]] = $1 }
			END { for (i = 1; i <= n; i++) print v[i], s[v[i]] }'
}

# The versions of a series, oldest first, in SPEC form.
list_series() {
	case $1 in
	7) list_7 | cut -d' ' -f1 ;;
	7.2 | 7.3) list_7 | cut -d' ' -f1 | grep -F "$1." ;;
	6.1)
		search_names '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' |
			sed 's/^linux-image-\(6\.1\.0-[0-9]*\)-amd64-unsigned$/\1/'
		;;
	6.12)
		search_names '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' |
			sed 's/^linux-image-\(6\.12\.[0-9]*\)+deb12-amd64-unsigned$/\1/'
		;;
	*) die "unknown series '$1' (6.1, 6.12, 7, 7.2 or 7.3)" 2 ;;
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

# Debian's 7.x: an image package and a modules package, of one Debian
# version.
case $spec in
7.[23] | 7.[23].[0-9]*)
	[[ $spec =~ ^7\.[23](\.[0-9]+)?$ ]] ||
		die "unknown kernel '$spec' (6.12, 6.12.N, 6.1, 6.1.0-N, 7.2, 7.2.N, 7.3 or 7.3.N)" 2
	series=${spec%"${spec#7.?}"}
	served=$(list_7 | awk -v s="$series." 'index($1, s) == 1')
	if [ "$spec" = "$series" ]; then
		version=$(tail -n 1 <<<"$served" | cut -d' ' -f1)
		[ -n "$version" ] || die "no $series kernel in the archive"
	else
		version=$spec
	fi
	suffix=$(awk -v v="$version" '$1 == v { print $2 }' <<<"$served")
	[ -n "$suffix" ] ||
		die "linux-binary-unsigned-$version+debNN-amd64 and its modules are not in the archive (see: debian_kernel.sh --list $series)"
	release=$version+$suffix-amd64
	pkg=linux-binary-unsigned-$release
	mpkg=linux-modules-$release
	# The newest Debian version both are served at.
	vs=$(nx_deb_served --nx "$pkg" "$mpkg")
	debver=$(comm -12 <(nx_deb_versions_of "$pkg" "$vs" "" | sort) \
		<(nx_deb_versions_of "$mpkg" "$vs" "" | sort) | sort -V | tail -n 1)
	[ -n "$debver" ] || die "no Debian version of both $pkg and $mpkg in the archive"
	dir=$NX_CACHE/pkgs/$pkg-$debver
	mdir=$NX_CACHE/pkgs/$mpkg-$debver
	"$NX_DEBIAN_PKG" "$pkg=$debver" "$dir" >&2 || die "could not fetch $pkg=$debver"
	"$NX_DEBIAN_PKG" "$mpkg=$debver" "$mdir" >&2 || die "could not fetch $mpkg=$debver"
	kernel=$dir/usr/lib/modules/$release/vmlinuz.unsigned
	[ -f "$kernel" ] || die "$pkg has no usr/lib/modules/$release/vmlinuz.unsigned"
	[ -d "$mdir/usr/lib/modules/$release" ] || die "$mpkg has no usr/lib/modules/$release"
	say_kernel "$kernel" "$mdir/usr/lib/modules/$release" "$pkg=$debver" \
		"$mpkg=$debver"
	exit 0
	;;
esac

case $spec in
6.12)
	out=$("$NX_TOP/scripts/debian_version.sh" 6.12) || die "no 6.12 build to boot"
	nx_kv_import <<<"$out" || die "scripts/debian_version.sh: unexpected output"
	version=$NX_KVER
	debver=$NX_DEB_VERSION
	;;
6.1)
	version=$(list_series 6.1 | tail -n 1)
	[ -n "$version" ] || die "no 6.1 kernel image in the archive"
	;;
6.12.[0-9]*) version=$spec ;;
6.1.0-[0-9]*) version=$spec ;;
*) die "unknown kernel '$spec' (6.12, 6.12.N, 6.1, 6.1.0-N, 7.2, 7.2.N, 7.3 or 7.3.N)" 2 ;;
esac
[[ $version =~ ^(6\.12\.[0-9]+|6\.1\.0-[0-9]+)$ ]] ||
	die "unknown kernel '$spec' (6.12, 6.12.N, 6.1, 6.1.0-N, 7.2, 7.2.N, 7.3 or 7.3.N)" 2

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

# Empty modules package: the image holds them, and a run's next kernel
# must not record the modules of a 7.x one.
say_kernel "$dir/boot/vmlinuz-$release" "$dir/lib/modules/$release" \
	"$pkg=$debver" ""
