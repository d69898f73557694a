#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Prepare Debian's linux-source-SERIES once: fetch, unpack the tarball and
# run `make headers` (the selftest build wants usr/include).  STAMP holds
# DEB_VERSION: a tree of another Debian build of the same Linux version (the
# archive dropped it) is prepared again.
#
# usage: prepare_ksrc.sh CACHE SERIES DEB_VERSION STAMP
set -euo pipefail

cache=$1 series=$2 debver=$3 stamp=$4
here=$(cd "$(dirname "$0")" && pwd)
tree=$(dirname "$stamp")
pkgdir=$cache/pkgs/linux-source-$series-$debver

# Builds sharing one cache prepare a tree once, one at a time.
mkdir -p "$cache"
exec 9>"$tree.lock"
flock 9
[ "$(cat "$stamp" 2>/dev/null)" = "$debver" ] && exit 0

"$here/debian_pkg.sh" "linux-source-$series=$debver" "$pkgdir"

rm -rf "$tree.tmp"
mkdir -p "$tree.tmp"
echo "  UNPACK  linux-source-$series $debver"
tar -C "$tree.tmp" --strip-components=1 \
	-xf "$pkgdir/usr/src/linux-source-$series.tar.xz"
echo "  HEADERS $tree"
make -C "$tree.tmp" -s headers >/dev/null
echo "$debver" >"$tree.tmp/${stamp##*/}"
# The old tree goes only now: another worktree sharing the cache may be
# building against it.
rm -rf "$tree"
mv "$tree.tmp" "$tree"
