#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `make upstream-series`: the finding of docs/findings/ as a series to send
# upstream, `git format-patch` files written to OUT (one path a line on
# stdout), made on the kernel tree TREE (Debian's 7.3 tree: its version and
# Debian build are said on stderr, as the series' base):
#
#   1/2  the fix (docs/findings/0001-*.patch, its analysis the message)
#   2/2  the regression test, a change to upstream's x86/nx_huge_pages_test
#        (docs/findings/0002-*.patch)
#
# Each patch is committed as, and signed off by, `git config user.name` and
# `user.email` of this checkout (NX_SERIES_IDENT="Name <email>" overrides);
# without either, the placeholder "nx-selftests <nx-selftests@example.org>",
# which the sender replaces.  TREE is only read: the commits are made in a
# scratch repository holding the files the series touches, as TREE has them,
# so each patch's index lines name TREE's blobs.  Files of OUT that the
# series does not write are left alone.
#
# usage: upstream_series.sh TREE OUT
#
# Exit: 0 written, 1 a patch did not apply or git failed, 2 usage or TREE
# is not a kernel tree with the files the series changes.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
me=upstream_series

die() {
	echo "$me: $1" >&2
	exit "${2:-1}"
}

[ $# = 2 ] || die "usage: upstream_series.sh TREE OUT" 2
tree=$1
out=$2
patches=("$top"/docs/findings/0[0-9][0-9][0-9]-*.patch)
[ -e "${patches[0]}" ] || die "no patches in $top/docs/findings"

# What the patches touch (their diff headers), which TREE must have.
files=$(sed -n 's|^+++ b/||p' "${patches[@]}" | sort -u)
for f in $files; do
	[ -f "$tree/$f" ] ||
		die "$tree is not a kernel tree with $f (Debian's 7.3 tree: make SERIES=7.3 ksrc)" 2
done

ident=${NX_SERIES_IDENT:-}
if [ -z "$ident" ]; then
	name=$(git -C "$top" config user.name || :)
	email=$(git -C "$top" config user.email || :)
	if [ -n "$name" ] && [ -n "$email" ]; then
		ident="$name <$email>"
	else
		ident="nx-selftests <nx-selftests@example.org>"
	fi
fi
[[ $ident =~ ^([^<]*[^<[:space:]])[[:space:]]*\<([^>]+)\>$ ]] ||
	die "NX_SERIES_IDENT=$ident: expected \"Name <email>\"" 2
export GIT_AUTHOR_NAME=${BASH_REMATCH[1]} GIT_AUTHOR_EMAIL=${BASH_REMATCH[2]}
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL

version=$(sed -n 's/^\(VERSION\|PATCHLEVEL\|SUBLEVEL\) = //p' "$tree/Makefile" |
	paste -sd.)
debian=$(cat "$tree/.prepared" 2>/dev/null || :)

work=$(mktemp -d "${TMPDIR:-/tmp}/nx-series.XXXXXX")
trap 'rm -rf "$work"' EXIT
g() {
	git -C "$work" -c commit.gpgsign=false -c core.autocrlf=false "$@"
}
g init -q
for f in $files; do
	mkdir -p "$work/$(dirname "$f")"
	cp -p "$tree/$f" "$work/$f"
done
g add -A
g commit -q -m "Linux $version"
for p in "${patches[@]}"; do
	g am -q "$p" >&2 || die "${p##*/} does not apply to $tree"
	# Authored and signed off by the sender, not by the file's From:.
	g commit -q --amend --no-edit --reset-author --signoff
done

mkdir -p "$out"
base="Linux $version"
[ -z "$debian" ] || base+=" (Debian linux-source $debian)"
echo "$me: made for $base: $tree" >&2
echo "$me: signed off by: $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>" >&2
g format-patch -o "$(cd "$out" && pwd)" "HEAD~${#patches[@]}"
