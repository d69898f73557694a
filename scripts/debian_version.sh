#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Resolve the Debian builds of the series pinned in versions.env to the
# newest build the archive serves now.  The archive keeps only some builds,
# so an exact Debian version written into the project stops working one
# day; the series does not.  Prints one KEY=VALUE a line (plain values, for
# shell eval and for make), for each GROUP asked (default: all):
#
#   6.12     NX_KVER, NX_DEB_VERSION: the newest linux-source-6.12 build
#            whose image, headers and kbuild of the same build are served
#            too (the kvm modules rebuilt from that source must load into
#            that image)
#   6.1      NX_61_KVER, NX_61_DEB_VERSION: linux-source-6.1
#   7.3      NX_73_KVER, NX_73_DEB_VERSION: linux-source-7.3 (of
#            trixie-backports or sid, which the machine's apt sources do
#            not name: asked through scripts/debian_apt.sh's own lists;
#            not part of the default groups)
#   perf     NX_PERF_DEB_VERSION: linux-perf of series NX_PERF_SERIES
#   busybox  NX_BUSYBOX_DEB_VERSION: busybox-static
#
# An exact build can still be asked for (reproducibility) with NX_612_BUILD,
# NX_61_BUILD, NX_73_BUILD, NX_PERF_BUILD or NX_BUSYBOX_BUILD (environment
# or versions.env); once the archive no longer serves it, one line on
# stderr says so and the newest is used.
#
# What a group resolved to is kept in the versions lock,
# $NX_CACHE/versions.lock (NX_VERSIONS_LOCK overrides), as those pins:
# later runs of the same checkout use the same builds, and two builds a day
# apart do not differ, until `make refresh-versions` (NX_REFRESH_VERSIONS=1:
# the lock is not read, the newest builds are locked) or until a locked
# build is no longer served (said on stderr; the newest is then locked).
# A pin in the environment or versions.env wins over the lock.
#
# usage: debian_version.sh [6.12|6.1|7.3|perf|busybox]...
#        . debian_version.sh   (functions only: nx_apt_cache, nx_deb_newest,
#                              nx_apt from scripts/debian_apt.sh)
#
# Exit: 0 resolved, 1 a series has no build in the archive, 2 usage.

NX_TOP=${NX_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=scripts/debian_apt.sh
. "$NX_TOP/scripts/debian_apt.sh"

# apt-cache ARG...; a fresh machine has empty package lists, so an empty
# answer is asked again after one `apt-get update`.
nx_apt_cache() {
	local out
	out=$(apt-cache "$@" 2>/dev/null)
	if [ -z "$out" ] && [ "${NX_APT_UPDATED:-0}" = 0 ]; then
		apt-get update -qq >&2 || { echo "debian: apt-get update failed" >&2; return 1; }
		NX_APT_UPDATED=1
		out=$(apt-cache "$@" 2>/dev/null)
	fi
	printf '%s\n' "$out" | sed '/^$/d'
}

# "PACKAGE VERSION" lines of what the archive serves of PACKAGE...  With
# --known, an empty answer is an answer (the lists were updated, or these
# names are only guesses).  With --nx, asked of the project's own lists
# (scripts/debian_apt.sh: every suite, trixie-backports and sid too).
nx_deb_served() {
	local -a ask=(nx_apt_cache)
	[ "$1" = --known ] && { ask=(apt-cache); shift; }
	[ "$1" = --nx ] && { ask=(nx_apt apt-cache); shift; }
	"${ask[@]}" madison "$@" 2>/dev/null | awk -F'|' '{ gsub(/ /, ""); print $1, $2 }'
}

# Versions of PACKAGE in SERVED ("PACKAGE VERSION" lines) starting with
# PREFIX, newest last (sort -V orders "~" first, as dpkg does).
nx_deb_versions_of() {
	awk -v p="$1" -v pre="$3" '$1 == p && index($2, pre) == 1 { print $2 }' \
		<<<"$2" | sort -V -u
}

# Newest version the archive serves of PACKAGE.
nx_deb_newest() {
	nx_deb_versions_of "$1" "$(nx_deb_served "$1")" "" | tail -n 1
}

# nx_deb_pick NAME WANTED CANDIDATES SERIES: the build to use, the last of
# CANDIDATES (oldest first) unless WANTED (an exact pin) is among them.  A
# pinned build that has gone is said on stderr.
nx_deb_pick() {
	local name=$1 want=$2 cands=$3 series=$4 newest
	newest=$(tail -n 1 <<<"$cands")
	if [ -z "$newest" ]; then
		echo "debian: no build of $name (series $series) in the archive" >&2
		return 1
	fi
	if [ -n "$want" ] && ! grep -qxF -- "$want" <<<"$cands"; then
		echo "debian: $name=$want is no longer served; using $newest, the newest of series $series" >&2
		want=
	fi
	echo "${want:-$newest}"
}

# Linux version of a Debian version: 6.12.117-1~deb12u1 -> 6.12.117.
nx_deb_upstream() {
	local v=${1#*:}
	echo "${v%%-*}"
}

# The packages that must be served at the Debian version of a 6.12 source
# build, KVER its Linux version.
nx_deb_pkgs_612() {
	local k=$1+deb12
	echo "linux-image-$k-amd64-unsigned linux-headers-$k-amd64" \
		"linux-headers-$k-common linux-kbuild-$k"
}

# The builds of linux-source-6.12 in SRCS (oldest first) whose image,
# headers and kbuild are served at the same Debian version.  Says which
# newer source builds lack them.
nx_deb_complete_612() {
	local srcs=$1 v p ok served names=() missing=()
	for v in $srcs; do
		# shellcheck disable=SC2207 # package names are words
		names+=($(nx_deb_pkgs_612 "$(nx_deb_upstream "$v")"))
	done
	[ ${#names[@]} -gt 0 ] && served=$(nx_deb_served --known "${names[@]}")
	for v in $srcs; do
		ok=1
		for p in $(nx_deb_pkgs_612 "$(nx_deb_upstream "$v")"); do
			grep -qxF -- "$p $v" <<<"$served" || ok=0
		done
		if [ $ok = 1 ]; then
			echo "$v"
			missing=()
		else
			missing+=("$v")
		fi
	done
	[ ${#missing[@]} -eq 0 ] ||
		echo "debian: linux-source-$NX_SRC_SERIES ${missing[*]}: the image, headers or kbuild of that build are not served; not used" >&2
}

# nx_deb_source TAG SERIES PIN SERVED: NX_<TAG>_KVER and NX_<TAG>_DEB_VERSION
# of the linux-source-SERIES build to prepare (a framework tree alone).
nx_deb_source() {
	local v
	v=$(nx_deb_pick "linux-source-$2" "$3" \
		"$(nx_deb_versions_of "linux-source-$2" "$4" "")" "$2") || return 1
	echo "NX_$1_KVER=$(nx_deb_upstream "$v")"
	echo "NX_$1_DEB_VERSION=$v"
}

# Print the assignments of GROUP, SERVED being the archive's answer for
# the packages of every group.
nx_deb_resolve() {
	local v
	case $1 in
	6.12)
		v=$(nx_deb_pick "linux-source-$NX_SRC_SERIES" "${NX_612_BUILD:-}" \
			"$(nx_deb_complete_612 "$(nx_deb_versions_of "linux-source-$NX_SRC_SERIES" "$2" "")")" \
			"$NX_SRC_SERIES") || return 1
		echo "NX_KVER=$(nx_deb_upstream "$v")"
		echo "NX_DEB_VERSION=$v"
		;;
	6.1) nx_deb_source 61 "$NX_61_SRC_SERIES" "${NX_61_BUILD:-}" "$2" ;;
	7.3) nx_deb_source 73 "$NX_73_SRC_SERIES" "${NX_73_BUILD:-}" "$2" ;;
	perf)
		# linux-perf is not versioned by name: keep to its series.
		v=$(nx_deb_pick linux-perf "${NX_PERF_BUILD:-}" \
			"$(nx_deb_versions_of linux-perf "$2" "$NX_PERF_SERIES.")" \
			"$NX_PERF_SERIES") || return 1
		echo "NX_PERF_DEB_VERSION=$v"
		;;
	busybox)
		v=$(nx_deb_pick busybox-static "${NX_BUSYBOX_BUILD:-}" \
			"$(nx_deb_versions_of busybox-static "$2" "")" bookworm) || return 1
		echo "NX_BUSYBOX_DEB_VERSION=$v"
		;;
	esac
}

# The pin each resolved key locks: NX_DEB_VERSION -> NX_612_BUILD, ...
nx_deb_lock_key() {
	case $1 in
	NX_DEB_VERSION) echo NX_612_BUILD ;;
	NX_61_DEB_VERSION) echo NX_61_BUILD ;;
	NX_73_DEB_VERSION) echo NX_73_BUILD ;;
	NX_PERF_DEB_VERSION) echo NX_PERF_BUILD ;;
	NX_BUSYBOX_DEB_VERSION) echo NX_BUSYBOX_BUILD ;;
	esac
}

# The pins of LOCK that the environment and versions.env leave unset.
# Only NAME=VERSION lines of the five pins are taken.
nx_deb_lock_read() {
	local lock=$1 k v
	[ -r "$lock" ] || return 0
	while IFS='=' read -r k v; do
		case $k in
		NX_612_BUILD | NX_61_BUILD | NX_73_BUILD | NX_PERF_BUILD | NX_BUSYBOX_BUILD) ;;
		*) continue ;;
		esac
		[[ $v =~ ^[0-9][0-9A-Za-z.+~:-]*$ ]] || continue
		[ -n "${!k:-}" ] || printf -v "$k" '%s' "$v"
	done <"$lock"
}

# Lock what LINES (resolved NX_...=VERSION lines) chose, keeping the pins
# of the groups not resolved now.  Written whole and renamed, so that a
# reader never sees half a lock.
nx_deb_lock_write() {
	local lock=$1 lines=$2 k v pin tmp
	mkdir -p "$(dirname "$lock")" 2>/dev/null || return 0
	tmp=$(mktemp "$lock.XXXXXX" 2>/dev/null) || return 0
	{
		while IFS='=' read -r k v; do
			pin=$(nx_deb_lock_key "$k")
			[ -n "$pin" ] && echo "$pin=$v"
		done <<<"$lines"
		[ -r "$lock" ] && cat "$lock"
	} | awk -F= '!seen[$1]++' | sort >"$tmp"
	mv "$tmp" "$lock" 2>/dev/null || rm -f "$tmp"
}

nx_deb_main() {
	local g r served lines=() bookworm=0 lock
	local -a groups=("$@")
	[ $# -gt 0 ] || groups=(6.12 6.1 perf busybox)
	for g in "${groups[@]}"; do
		case $g in
		6.12 | 6.1 | perf | busybox) bookworm=1 ;;
		7.3) ;;
		*) echo "usage: debian_version.sh [6.12|6.1|7.3|perf|busybox]..." >&2; return 2 ;;
		esac
	done
	# shellcheck source=versions.env
	. "$NX_TOP/versions.env"
	lock=${NX_VERSIONS_LOCK:-${NX_CACHE:-$NX_TOP/.cache}/versions.lock}
	[ "${NX_REFRESH_VERSIONS:-0}" = 1 ] || nx_deb_lock_read "$lock"
	# One apt-cache call for every group of the machine's lists (bookworm):
	# each takes about a second.  The 7.x series are asked of the project's
	# own lists only: theirs also name trixie's and sid's 6.12 and busybox
	# builds, which the 6.x groups must not pick up.
	if [ $bookworm = 1 ]; then
		served=$(nx_deb_served "linux-source-$NX_SRC_SERIES" \
			"linux-source-$NX_61_SRC_SERIES" linux-perf busybox-static) || return 1
	fi
	case " ${groups[*]} " in
	*" 7.3 "*)
		served+=$'\n'$(nx_deb_served --nx "linux-source-$NX_73_SRC_SERIES") || return 1
		;;
	esac
	for g in "${groups[@]}"; do
		r=$(nx_deb_resolve "$g" "$served") || return 1
		lines+=("$r")
	done
	# Versions are [0-9A-Za-z.+~:-] (Debian policy): safe unquoted for
	# both shell and make.
	if printf '%s\n' "${lines[@]}" | grep -qv '^NX_[A-Z0-9_]*=[0-9][0-9A-Za-z.+~:-]*$'; then
		echo "debian: unexpected version in: ${lines[*]}" >&2
		return 1
	fi
	nx_deb_lock_write "$lock" "$(printf '%s\n' "${lines[@]}")"
	printf '%s\n' "${lines[@]}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -uo pipefail
	nx_deb_main "$@"
fi
