#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Prepare Debian's linux-source-SERIES once: fetch, unpack the tarball and
# run `make headers` (the selftest build wants usr/include).
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
[ -e "$stamp" ] && exit 0

"$here/debian_pkg.sh" "linux-source-$series=$debver" "$pkgdir"

rm -rf "$tree" "$tree.tmp"
mkdir -p "$tree.tmp"
echo "  UNPACK  linux-source-$series $debver"
tar -C "$tree.tmp" --strip-components=1 \
	-xf "$pkgdir/usr/src/linux-source-$series.tar.xz"
echo "  HEADERS $tree"
make -C "$tree.tmp" -s headers >/dev/null
mv "$tree.tmp" "$tree"
touch "$stamp"
