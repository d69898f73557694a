#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# apt-cache and apt-get over the project's own apt source list and state,
# under .cache/apt/: Debian's archive serves suites the machine's apt
# sources do not name (trixie-backports and sid carry the 7.x kernels).
# The machine's apt configuration, lists and cache are never read for
# sources nor written: Dir::Etc::SourceList is /dev/null, the sources are
# .cache/apt/sources.list.d/nx.sources (the machine's archive URIs, signed
# by the Debian archive keyring), lists and cache under .cache/apt, the
# dpkg status /dev/null.  The lists are updated when they are empty or
# older than a day (NX_APT_MAX_AGE minutes, default 1440), once per run.
#
# usage: debian_apt.sh apt-cache ARG...   e.g. apt-cache madison linux-source-7.3
#        debian_apt.sh apt-get ARG...     e.g. apt-get download PKG=VER
#        debian_apt.sh update             update the lists now
#        . debian_apt.sh                  functions only: nx_apt, nx_apt_update
#
# NX_APT_DIR (default NX_TOP/.cache/apt) is where it all lives.

NX_TOP=${NX_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
NX_APT_DIR=${NX_APT_DIR:-${NX_CACHE:-$NX_TOP/.cache}/apt}
NX_APT_MAX_AGE=${NX_APT_MAX_AGE:-1440}
# The suites of the main archive, and of the security archive.
NX_APT_SUITES=${NX_APT_SUITES:-bookworm bookworm-updates trixie trixie-backports sid}
NX_APT_SECURITY_SUITES=${NX_APT_SECURITY_SUITES:-bookworm-security}
NX_APT_KEYRING=${NX_APT_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

# The options that make apt use only the private sources and state.  The
# binary caches are kept (a machine may turn them off, as Docker images
# do): without them each apt-cache call parses every list, about 4 s.
nx_apt_opts() {
	NX_APT_O=(-o "Dir::Etc::SourceList=/dev/null"
		-o "Dir::Etc::SourceParts=$NX_APT_DIR/sources.list.d"
		-o "Dir::State::Lists=$NX_APT_DIR/lists"
		-o "Dir::Cache=$NX_APT_DIR/cache"
		-o "Dir::Cache::pkgcache=pkgcache.bin"
		-o "Dir::Cache::srcpkgcache=srcpkgcache.bin"
		-o "Dir::State::status=/dev/null"
		-o "Acquire::Languages=none")
}

# URI of the machine's archive whose URI matches PATTERN (grep -E) in its
# deb822 sources, else DEFAULT.
nx_apt_uri() {
	local uri
	uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n' | grep -E "$1" | head -n 1)
	echo "${uri:-$2}"
}

# Write the private source list (unless it is already that).
nx_apt_sources() {
	local f=$NX_APT_DIR/sources.list.d/nx.sources want main sec
	main=$(nx_apt_uri '/debian/?$' http://deb.debian.org/debian)
	sec=$(nx_apt_uri '/debian-security/?$' http://deb.debian.org/debian-security)
	want=$(printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n\nTypes: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
		"$main" "$NX_APT_SUITES" "$NX_APT_KEYRING" \
		"$sec" "$NX_APT_SECURITY_SUITES" "$NX_APT_KEYRING")
	mkdir -p "$NX_APT_DIR/sources.list.d" "$NX_APT_DIR/lists/partial" \
		"$NX_APT_DIR/cache/archives/partial" || return 1
	[ "$(cat "$f" 2>/dev/null)" = "$want" ] && return 0
	printf '%s\n' "$want" >"$f.tmp" && mv "$f.tmp" "$f"
	# Lists of other sources are stale.
	rm -f "$NX_APT_DIR/lists/updated"
}

# Lists updated within NX_APT_MAX_AGE minutes?
nx_apt_recent() {
	[ -n "$(find "$NX_APT_DIR/lists/updated" -mmin "-$NX_APT_MAX_AGE" 2>/dev/null)" ]
}

# Update the private lists (apt-get update), one run at a time; with
# --stale only if they are not recent (another run may just have).
nx_apt_update() {
	local rc
	nx_apt_sources || return 1
	nx_apt_opts
	(
		flock 9
		[ "${1:-}" = --stale ] && nx_apt_recent && exit 0
		echo "debian: updating the package lists of $NX_APT_SUITES $NX_APT_SECURITY_SUITES ($NX_APT_DIR)" >&2
		apt-get "${NX_APT_O[@]}" -qq update >&2 &&
			touch "$NX_APT_DIR/lists/updated"
	) 9>"$NX_APT_DIR/lock"
	rc=$?
	[ $rc = 0 ] || echo "debian: apt-get update of $NX_APT_DIR failed" >&2
	NX_APT_FRESH=1
	return $rc
}

# Update the lists if they are missing or older than NX_APT_MAX_AGE
# minutes; at most once per process.
nx_apt_fresh() {
	[ "${NX_APT_FRESH:-0}" = 1 ] && return 0
	nx_apt_sources || return 1
	if nx_apt_recent; then
		NX_APT_FRESH=1
		return 0
	fi
	nx_apt_update --stale
}

# nx_apt apt-cache|apt-get ARG...: that command over the private lists
# (updated first if stale).
nx_apt() {
	local cmd=$1
	shift
	case $cmd in
	apt-cache | apt-get) ;;
	*) echo "debian_apt: expected apt-cache or apt-get, not '$cmd'" >&2; return 2 ;;
	esac
	# Lists that could not be updated (no network) still answer.
	nx_apt_fresh || [ -e "$NX_APT_DIR/lists/updated" ] || return 1
	nx_apt_opts
	"$cmd" "${NX_APT_O[@]}" "$@"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -uo pipefail
	case ${1:-} in
	update) [ $# = 1 ] || exit 2; nx_apt_update ;;
	apt-cache | apt-get) nx_apt "$@" ;;
	*) echo "usage: debian_apt.sh apt-cache|apt-get ARG... | update" >&2; exit 2 ;;
	esac
fi
