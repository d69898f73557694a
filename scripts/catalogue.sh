# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Which binaries and cases a run runs: the framework series of a kernel,
# the build folder of that series, and the catalogue ("BINARY CASE" lines,
# from each binary's -l) with the --test filters applied.  Sourced by
# run_nx_tests.sh; uses the build folders NX_BUILD, NX_BUILD_61 and
# NX_BUILD_73.

# Framework series of a Debian kernel SPEC: 6.1, 7.3 or 6.12.
series_of_spec() {
	case $1 in
	6.1 | 6.1.0-*) echo 6.1 ;;
	7.*) echo 7.3 ;;
	*) echo 6.12 ;;
	esac
}

# Framework series a kernel release needs: the 6.12 framework requires
# KVM_SET_USER_MEMORY_REGION2 (Linux 6.8+); older kernels get 6.1's, 7.x
# kernels 7.3's.
series_of_release() {
	local maj min
	IFS=. read -r maj min _ <<<"${1%%[-+]*}"
	if [[ $maj$min =~ ^[0-9]+$ ]] && { [ "$maj" -lt 6 ] ||
	   { [ "$maj" = 6 ] && [ "$min" -lt 8 ]; }; }; then
		echo 6.1
	elif [ "$maj" = 7 ]; then
		echo 7.3
	else
		echo 6.12
	fi
}

# The framework a kernel of SERIES runs: 6.1, 6.12 or 7.3 (the one 7.x
# framework, for 7.2 too).
framework_series() {
	case $1 in
	6.1) echo 6.1 ;;
	7.*) echo 7.3 ;;
	*) echo 6.12 ;;
	esac
}

# The folder of test binaries built against framework SERIES (a 7.x
# kernel's series, 7.2 or 7.3, runs the 7.3 build), printed; without
# tests in it, why not, and 1.  A kernel runs its own series' build or
# none: another series' binaries would skip (6.12's need
# KVM_SET_USER_MEMORY_REGION2, which 6.1 lacks) or run a framework the
# kernel was not meant for, depending on what an earlier run left built.
suite_build_dir() {
	local series dir
	series=$(framework_series "$1")
	case $series in
	6.1) dir=$NX_BUILD_61 ;;
	7.3) dir=$NX_BUILD_73 ;;
	*) dir=$NX_BUILD ;;
	esac
	if ! compgen -G "$dir/*_test" >/dev/null; then
		echo "no tests built against the $series framework in $dir (make SERIES=$series)"
		return 1
	fi
	echo "$dir"
}

# "BINARY CASE" lines of every case the binaries in DIR (default:
# NX_BUILD) offer, from their -l, which answers before the KVM selftest
# framework starts (NX_SUITE_MAIN), so also on a host without /dev/kvm.
# A case's -l line is its full name, then " # " and what it needs and
# risks: those lines, as printed, go to the file LISTED if given (what
# --list shows).  A binary whose -l fails: the last line it printed (a
# framework's skip is on stdout), and 1.  Its stderr is never taken for a
# case.
catalogue_all() {
	local bin out rc line listed=${2:-/dev/null}
	for bin in "${1:-$NX_BUILD}"/*_test; do
		[ -x "$bin" ] || continue
		out=$("$bin" -l 2>/dev/null)
		rc=$?
		if [ $rc != 0 ]; then
			echo "$bin -l exited $rc: $(tail -n 1 <<<"$out")" >&2
			return 1
		fi
		[ -z "$out" ] || while IFS= read -r line; do
			echo "$bin ${line%% *}"
			echo "$line" >>"$listed"
		done <<<"$out"
	done
}

# The lines of catalogue ALL whose case matches a FILTER (a --test glob),
# or all of them without one; a filter that matches nothing is a usage
# error.
catalogue_select() {
	local all=$1 f line matched name
	local -a keep=()
	shift
	if [ $# -eq 0 ]; then
		cat "$all"
		return 0
	fi
	for f in "$@"; do
		matched=0
		while read -r line; do
			name=${line#* }
			# shellcheck disable=SC2053 # the filter is a glob on purpose
			if [[ $name == $f ]]; then
				matched=1
				keep+=("$line")
			fi
		done <"$all"
		[ $matched = 1 ] || nx_usage_error 2 "no test named '$f' (see --list)"
	done
	printf '%s\n' "${keep[@]}" | awk '!seen[$0]++'
}

# The lines of the catalogue in DIR whose case is selected in SEL, in
# DIR's order (another series' build may order or offer them differently).
catalogue_for() {
	local dir=$1 sel=$2 all
	all=$(catalogue_all "$dir") || return 1
	awk 'NR == FNR { want[$2] = 1; next } want[$2]' "$sel" - <<<"$all"
}
