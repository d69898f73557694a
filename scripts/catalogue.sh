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

# The folder of test binaries for a framework series (a 7.x kernel's
# series, 7.2 or 7.3, runs the 7.3 build).  Without a 6.1 build the
# 6.12-built binaries run, and skip on the old kernel; without a 7.3 build
# too, and run there.
suite_build_dir() {
	if [ "$1" = 6.1 ]; then
		if compgen -G "$NX_BUILD_61/*_test" >/dev/null; then
			echo "$NX_BUILD_61"
			return 0
		fi
		echo "nx: no 6.1-built tests in $NX_BUILD_61 (make SERIES=6.1);" \
			"running the 6.12-built ones, which skip on a 6.1 kernel" \
			"(they need KVM_SET_USER_MEMORY_REGION2)" >&2
	elif [ "${1%%.*}" = 7 ]; then
		if compgen -G "$NX_BUILD_73/*_test" >/dev/null; then
			echo "$NX_BUILD_73"
			return 0
		fi
		echo "nx: no 7.3-built tests in $NX_BUILD_73 (make SERIES=7.3);" \
			"running the 6.12-built ones" >&2
	fi
	echo "$NX_BUILD"
}

# "BINARY CASE" lines of every case the binaries in DIR (default:
# NX_BUILD) offer.
catalogue_all() {
	local bin
	for bin in "${1:-$NX_BUILD}"/*_test; do
		[ -x "$bin" ] || continue
		"$bin" -l 2>/dev/null | grep -v '^Random seed' |
			sed "s|^|$bin |"
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
	local dir=$1 sel=$2
	catalogue_all "$dir" | awk 'NR == FNR { want[$2] = 1; next } want[$2]' \
		"$sel" -
}
