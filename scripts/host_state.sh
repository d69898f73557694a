# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Save and restore the host knobs the suite touches in --host mode.  Sourced
# by run_nx_tests.sh.  NX_SYSFS_ROOT (default /sys) lets the project's own
# tests run this against a fake tree.

NX_SYSFS_ROOT=${NX_SYSFS_ROOT:-/sys}
NX_STATE_KNOBS=(
	module/kvm/parameters/nx_huge_pages
	module/kvm/parameters/nx_huge_pages_recovery_ratio
	module/kvm/parameters/nx_huge_pages_recovery_period_ms
	kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
	kernel/mm/transparent_hugepage/enabled
)
declare -gA NX_SAVED=()
NX_STATE_SAVED=0

# The selected word of "always [madvise] never", else the whole value.
nx_state_value() {
	local v
	v=$(cat "$NX_SYSFS_ROOT/$1") || return 1
	if [[ $v =~ \[([a-z]+)\] ]]; then
		v=${BASH_REMATCH[1]}
	fi
	printf '%s\n' "$v"
}

nx_state_save() {
	local k
	for k in "${NX_STATE_KNOBS[@]}"; do
		[ -e "$NX_SYSFS_ROOT/$k" ] || continue
		NX_SAVED[$k]=$(nx_state_value "$k") || return 1
	done
	NX_STATE_SAVED=1
}

nx_state_set() {
	printf '%s\n' "$2" >"$NX_SYSFS_ROOT/$1"
}

# Idempotent: runs from the EXIT trap after a signal trap already ran it.
nx_state_restore() {
	local k now rc=0
	[ "$NX_STATE_SAVED" = 1 ] || return 0
	for k in "${!NX_SAVED[@]}"; do
		now=$(nx_state_value "$k" 2>/dev/null)
		[ "$now" = "${NX_SAVED[$k]}" ] && continue
		if ! nx_state_set "$k" "${NX_SAVED[$k]}" 2>/dev/null; then
			echo "nx: could not restore $k to '${NX_SAVED[$k]}'" >&2
			rc=1
		fi
	done
	NX_STATE_SAVED=0
	return $rc
}
