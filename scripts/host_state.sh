# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Save and restore the host state the suite touches in --host mode.  Sourced
# by run_nx_tests.sh.
#
# Saved: every writable KVM module parameter, the 2M and 1G hugepage pools
# (per NUMA node where the kernel has nodes), the THP mode and defrag, NUMA
# balancing.  The tests' own tracing (the "nxtest" tracefs instance and
# kprobe group) is removed on restore if it was not there before.
#
# The saved state is journalled (NX_STATE_DIR, /run/nx-selftests) before
# anything changes, and the journal is locked for as long as the run or any
# process it started lives.  A run killed with SIGKILL (a lab's timeout)
# leaves the journal unlocked: the next run restores it first and says what
# it restored (nx_state_recover; run_nx_tests.sh --restore does only that).
#
# NX_SYSFS_ROOT (default /sys) and NX_PROC_ROOT let the project's own tests
# run this against a fake tree; with a fake sysfs, /proc and the journal
# default to places beside it, so a test can never touch the real ones.

NX_SYSFS_ROOT=${NX_SYSFS_ROOT:-/sys}
if [ "$NX_SYSFS_ROOT" = /sys ]; then
	NX_PROC_ROOT=${NX_PROC_ROOT:-/proc}
	NX_STATE_DIR=${NX_STATE_DIR:-/run/nx-selftests}
else
	NX_PROC_ROOT=${NX_PROC_ROOT:-${NX_SYSFS_ROOT%/}.proc}
	NX_STATE_DIR=${NX_STATE_DIR:-${NX_SYSFS_ROOT%/}.run}
fi
NX_STATE_JOURNAL=$NX_STATE_DIR/host-state.journal
# The tests' tracefs instance and kprobe group (include/nx_trace.h).
NX_TRACE_NAME=nxtest
NX_STATE_KNOBS=()
declare -gA NX_SAVED=()
NX_STATE_SAVED=0
NX_STATE_LOCK_FD=
NX_STATE_HAD_TRACE=0

# Path of a knob: "proc/..." under NX_PROC_ROOT, the rest under NX_SYSFS_ROOT.
nx_knob_path() {
	case $1 in
	proc/*) printf '%s\n' "$NX_PROC_ROOT/${1#proc/}" ;;
	*) printf '%s\n' "$NX_SYSFS_ROOT/$1" ;;
	esac
}

# The knobs this host has, relative to their root, one per line.  Pools go
# per node where there are nodes: setting the global count would spread the
# pages over the nodes anew.
nx_state_list_knobs() {
	local f pools
	for f in "$NX_SYSFS_ROOT"/module/kvm{,_amd,_intel}/parameters/*; do
		# Load-time parameters are read-only (mode 0444).
		[ -f "$f" ] && [ -n "$(find "$f" -maxdepth 0 -perm -u+w)" ] &&
			echo "${f#"$NX_SYSFS_ROOT"/}"
	done
	pools=$(find "$NX_SYSFS_ROOT"/devices/system/node/node*/hugepages \
		-name nr_hugepages 2>/dev/null | sort)
	[ -n "$pools" ] || pools=$(find "$NX_SYSFS_ROOT"/kernel/mm/hugepages \
		-name nr_hugepages 2>/dev/null | sort)
	[ -z "$pools" ] || printf '%s\n' "$pools" | sed "s|^$NX_SYSFS_ROOT/||"
	for f in kernel/mm/transparent_hugepage/enabled \
		 kernel/mm/transparent_hugepage/defrag; do
		[ -f "$NX_SYSFS_ROOT/$f" ] && echo "$f"
	done
	[ -f "$NX_PROC_ROOT/sys/kernel/numa_balancing" ] &&
		echo proc/sys/kernel/numa_balancing
	return 0
}

# The selected word of "always [madvise] never", else the whole value.
nx_state_value() {
	local v
	v=$(cat "$(nx_knob_path "$1")") || return 1
	if [[ $v =~ \[([a-z+]+)\] ]]; then
		v=${BASH_REMATCH[1]}
	fi
	printf '%s\n' "$v"
}

nx_state_set() {
	printf '%s\n' "$2" >"$(nx_knob_path "$1")"
}

# Tracefs, where a real one is mounted; nothing for a fake sysfs.
nx_tracefs() {
	local t
	for t in "$NX_SYSFS_ROOT/kernel/tracing" "$NX_SYSFS_ROOT/kernel/debug/tracing"; do
		[ -e "$t/kprobe_events" ] && { echo "$t"; return 0; }
	done
	return 1
}

# Everything a run could leave behind, one "what=value" line each: the
# knobs above (KVM's read-only parameters too), the tracefs instances and
# the kprobes.  Two dumps that differ show what a run did not restore.
nx_state_dump() {
	local f t
	for f in "$NX_SYSFS_ROOT"/module/kvm{,_amd,_intel}/parameters/*; do
		[ -r "$f" ] && echo "${f#"$NX_SYSFS_ROOT"/}=$(cat "$f" 2>/dev/null)"
	done
	for f in "$NX_SYSFS_ROOT"/kernel/mm/hugepages/*/{nr,free,resv,surplus}_hugepages \
		 "$NX_SYSFS_ROOT"/devices/system/node/node*/hugepages/*/{nr,free,surplus}_hugepages \
		 "$NX_SYSFS_ROOT"/kernel/mm/transparent_hugepage/{enabled,defrag} \
		 "$NX_PROC_ROOT"/sys/kernel/numa_balancing; do
		[ -r "$f" ] && echo "$f=$(cat "$f")"
	done
	t=$(nx_tracefs) || return 0
	echo "tracefs instances=$(cd "$t/instances" && echo ./*)"
	sed 's/^/kprobe=/' "$t/kprobe_events"
	echo "tracing_on=$(cat "$t/tracing_on")"
}

# Dumps BEFORE and AFTER of nx_state_dump: equal (0, saying how many
# entries), or their diff and 1.
nx_state_same() {
	diff -u "$1" "$2" && echo "host state the same: all $(wc -l <"$1") entries"
}

# Take the state lock, held by every process the run starts (they inherit
# the descriptor), so that no second run, nor a restore, overlaps them.
nx_state_lock() {
	[ -n "$NX_STATE_LOCK_FD" ] && return 0
	mkdir -p "$NX_STATE_DIR" || return 1
	exec {NX_STATE_LOCK_FD}>>"$NX_STATE_DIR/lock" || return 1
	# Processes of a run killed a moment ago may still be on their way out.
	if ! flock -w "${NX_STATE_LOCK_WAIT:-30}" "$NX_STATE_LOCK_FD"; then
		exec {NX_STATE_LOCK_FD}>&-
		NX_STATE_LOCK_FD=
		echo "nx: another run, or processes a killed run started, still hold $NX_STATE_DIR/lock after ${NX_STATE_LOCK_WAIT:-30} s" >&2
		return 1
	fi
}

nx_state_boot_id() {
	cat "$NX_PROC_ROOT/sys/kernel/random/boot_id" 2>/dev/null || echo unknown
}

# The journal: who wrote it, when, on which boot; the saved knobs; the
# tracefs instances and kprobes there were.  Written whole, then renamed.
nx_state_write_journal() {
	local k t tmp=$NX_STATE_JOURNAL.tmp
	{
		echo "pid $$"
		echo "started $(date -u +%FT%TZ)"
		echo "boot_id $(nx_state_boot_id)"
		for k in "${NX_STATE_KNOBS[@]}"; do
			printf 'knob %s %s\n' "$k" "${NX_SAVED[$k]}"
		done
		if [ "$NX_STATE_HAD_TRACE" = 1 ]; then
			echo "had_trace"
		fi
	} >"$tmp" && mv "$tmp" "$NX_STATE_JOURNAL"
}

# Was the tests' tracing there before the run?  Then it is not ours to
# remove (a run in progress elsewhere would hold the lock, so this is a
# leftover that the tests themselves clear when they start).
nx_state_had_trace() {
	local t
	t=$(nx_tracefs) || return 1
	[ -e "$t/instances/$NX_TRACE_NAME" ] || grep -q ":$NX_TRACE_NAME/" "$t/kprobe_events"
}

nx_state_save() {
	local k knobs
	nx_state_lock || return 1
	NX_STATE_KNOBS=()
	NX_SAVED=()
	knobs=$(nx_state_list_knobs) || return 1
	for k in $knobs; do
		NX_SAVED[$k]=$(nx_state_value "$k") || return 1
		NX_STATE_KNOBS+=("$k")
	done
	NX_STATE_HAD_TRACE=0
	nx_state_had_trace && NX_STATE_HAD_TRACE=1
	nx_state_write_journal || return 1
	NX_STATE_SAVED=1
}

# Remove the tests' tracing, as include/nx_trace.h's cleanup does: events
# off, the instance gone, then its probes.
nx_state_untrace() {
	local t ev
	t=$(nx_tracefs) || return 0
	if [ -d "$t/instances/$NX_TRACE_NAME" ]; then
		echo 0 >"$t/instances/$NX_TRACE_NAME/events/enable"
		echo 0 >"$t/instances/$NX_TRACE_NAME/tracing_on"
		rmdir "$t/instances/$NX_TRACE_NAME" && echo "tracefs instance $NX_TRACE_NAME removed"
	fi
	sed -n "s|^[^:]*:\($NX_TRACE_NAME/[^ ]*\) .*|\1|p" "$t/kprobe_events" |
		while read -r ev; do
			echo "-:$ev" >>"$t/kprobe_events" && echo "kprobe $ev removed"
		done
}

# Put back what NX_SAVED holds, naming each change on stdout as "KNOB
# NOW -> SAVED".
nx_state_put_back() {
	local k now rc=0
	for k in "${NX_STATE_KNOBS[@]}"; do
		now=$(nx_state_value "$k" 2>/dev/null)
		[ "$now" = "${NX_SAVED[$k]}" ] && continue
		if nx_state_set "$k" "${NX_SAVED[$k]}" 2>/dev/null; then
			echo "$k $now -> ${NX_SAVED[$k]}"
		else
			echo "nx: could not restore $k to '${NX_SAVED[$k]}'" >&2
			rc=1
		fi
	done
	return $rc
}

# Idempotent: runs from the EXIT trap after a signal trap already ran it.
nx_state_restore() {
	local rc=0
	[ "$NX_STATE_SAVED" = 1 ] || return 0
	nx_state_put_back >/dev/null || rc=1
	[ "${NX_STATE_HAD_TRACE:-0}" = 1 ] || nx_state_untrace >/dev/null
	NX_STATE_SAVED=0
	[ $rc = 0 ] && rm -f "$NX_STATE_JOURNAL"
	return $rc
}

# Read the journal's knobs into NX_SAVED and NX_STATE_KNOBS, and whether
# the tracing was there before into NX_STATE_HAD_TRACE.
nx_state_read_journal() {
	local tag k v
	NX_STATE_KNOBS=()
	NX_SAVED=()
	NX_STATE_HAD_TRACE=0
	while read -r tag k v; do
		case $tag in
		knob) NX_SAVED[$k]=$v; NX_STATE_KNOBS+=("$k") ;;
		had_trace) NX_STATE_HAD_TRACE=1 ;;
		esac
	done <"$NX_STATE_JOURNAL"
}

# The journal's header field TAG (pid, started, boot_id).
nx_state_journal_field() {
	sed -n "s/^$1 //p" "$NX_STATE_JOURNAL" | head -n 1
}

# A journal a killed run left (run_nx_tests.sh --host restores it before
# anything else; --restore does only this): put its state back and say
# what changed.  0: nothing to do or restored; 1: could not.  Needs the
# lock, so it never races a run whose processes still live.
nx_state_recover() {
	local jpid jstarted jboot what rc=0
	[ -e "$NX_STATE_JOURNAL" ] || return 0
	nx_state_lock || return 1
	nx_state_read_journal
	jpid=$(nx_state_journal_field pid)
	jstarted=$(nx_state_journal_field started)
	jboot=$(nx_state_journal_field boot_id)
	if [ "$jboot" != "$(nx_state_boot_id)" ]; then
		echo "nx: host-state journal of run $jpid ($jstarted) is from an earlier boot: nothing to restore"
		rm -f "$NX_STATE_JOURNAL"
		return 0
	fi
	what=$(nx_state_put_back) || rc=1
	if [ "$NX_STATE_HAD_TRACE" = 0 ]; then
		what+=${what:+$'\n'}$(nx_state_untrace)
	fi
	echo "nx: run $jpid ($jstarted) was killed before it restored the host state; restored:"
	printf '%s\n' "${what:-nothing had changed}" | sed '/^$/d; s/^/nx:   /'
	[ $rc = 0 ] && rm -f "$NX_STATE_JOURNAL"
	return $rc
}
