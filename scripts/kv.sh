# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Records as files of "key=value" lines, the way the runner's pieces hand
# each other what they found (a kernel and how it booted: see
# docs/runner.md), and the reading of other scripts' "NAME=VALUE" output.
# Nothing here evaluates what it reads: a value is data, whatever it holds.
# Sourced.

# The value of KEY in record FILE (its last line for KEY); 1 if none.
nx_kv_get() {
	local file=$1 key=$2 line found=1 value=
	[ -r "$file" ] || return 1
	while IFS= read -r line; do
		[ "${line%%=*}" = "$key" ] || continue
		value=${line#*=}
		found=0
	done <"$file"
	[ $found = 0 ] && printf '%s\n' "$value"
}

# Set KEY to VALUE in record FILE (made if missing); a later get sees the
# newest value.  A value is one line.
nx_kv_set() {
	local file=$1 key=$2 value=$3
	[[ $key =~ ^[a-z][a-z0-9_]*$ ]] || { echo "nx_kv_set: bad key '$key'" >&2; return 1; }
	[[ $value != *$'\n'* ]] || { echo "nx_kv_set: $key: a value is one line" >&2; return 1; }
	printf '%s=%s\n' "$key" "$value" >>"$file"
}

# Copy the "key=value" lines of stdin into record FILE, checking each.
nx_kv_put() {
	local file=$1 line
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		[[ $line == *=* ]] || { echo "nx_kv_put: not key=value: '$line'" >&2; return 1; }
		nx_kv_set "$file" "${line%%=*}" "${line#*=}" || return 1
	done
}

# Set the shell variables named by the "NX_NAME=VALUE" lines of stdin (the
# output of scripts/debian_version.sh), as plain strings.  Any other line
# is an error: nothing else is assigned.
nx_kv_import() {
	local line name
	local -a names=() values=()
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		name=${line%%=*}
		if [[ $line != *=* || ! $name =~ ^NX_[A-Z0-9_]+$ ]]; then
			echo "nx_kv_import: not NX_NAME=VALUE: '$line'" >&2
			return 1
		fi
		names+=("$name")
		values+=("${line#*=}")
	done
	for name in "${!names[@]}"; do
		printf -v "${names[$name]}" '%s' "${values[$name]}"
	done
}
