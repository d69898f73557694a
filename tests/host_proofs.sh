#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Lab mode on a real KVM: run inside a VM that plays the lab host
# (tests/host_mode_check.sh boots it, with this machine's root filesystem
# read-only and OUT as the one writable share), as root, from the checkout.
# Each proof runs ./run_nx_tests.sh --host the way a lab does and compares a
# full dump of the host state (scripts/host_state.sh nx_state_dump: every
# KVM module parameter, the 2M and 1G pools per node, THP, NUMA balancing,
# tracefs instances, kprobes) before and after.  TAP on stdout.
#
# usage: host_proofs.sh OUT
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=$1
# shellcheck source=scripts/host_state.sh
. "$top/scripts/host_state.sh"
# shellcheck source=tests/tap.sh
. "$top/tests/tap.sh"
# A case with tracing (kprobes, a tracefs instance) and parameter changes
# that runs long enough to be interrupted in the middle.
TRACED=nx_recovery_flush.hugetlb_2m.flush_counts
# Cases that pass in a few seconds, one of which must skip on a host.
QUICK=(--test 'nx_split_recovery.hugetlb_2m.*' --test 'nx_recovery_toggle.*')

# Run proof NAME (a function); its output goes to OUT/NAME.log, shown
# when it fails.
proof() {
	local name=$1 rc
	shift
	"$@" >"$out/$name.log" 2>&1
	rc=$?
	[ $rc = 0 ] || sed 's/^/#   /' "$out/$name.log" | tail -n 30
	report $rc "$name: $*"
}

nx_state_dump >"$out/state.before"

# The host state is what it was before the proofs.
same_state() {
	nx_state_dump >"$out/state.$1"
	nx_state_same "$out/state.before" "$out/state.$1"
}

runner() {
	local name=$1
	shift
	NX_NO_BUILD=1 ./run_nx_tests.sh --host --results "$out/$name" "$@"
}

# Start a run in its own process group (as a lab's job), with the args
# given; sets pid.  Job control (set -m) gives it the group, and keeps
# SIGINT, which a shell without it ignores in background jobs, as a lab's
# SIGINT would find it.
runner_bg() {
	local name=$1
	shift
	NX_NO_BUILD=1 ./run_nx_tests.sh --host --results "$out/$name" "$@" \
		</dev/null >"$out/$name.run.log" 2>&1 &
	pid=$!
}

# The KVM recovery knobs the traced case sets before it splits pages.
kvm_knobs() {
	cat /sys/module/kvm/parameters/nx_huge_pages \
		/sys/module/kvm/parameters/nx_huge_pages_recovery_ratio 2>/dev/null
}

# Wait (180 s at most: its set-up took 57 to 83 s under TCG on
# 2026-12-02) until the traced case is in the middle of its work: its
# probes are in place and it has set KVM's parameters.
until_traced() {
	local t0=$SECONDS before
	before=$(kvm_knobs)
	until grep -q ':nxtest/' /sys/kernel/tracing/kprobe_events 2>/dev/null &&
	      [ "$(kvm_knobs)" != "$before" ]; do
		[ $((SECONDS - t0)) -lt 180 ] || { echo "the traced case did not start within 180 s"; return 1; }
		sleep 0.1
	done
	echo "traced case running after $((SECONDS - t0)) s"
}

passing_run() {
	local rc
	runner pass "${QUICK[@]}"
	rc=$?
	[ $rc = 0 ] || { echo "expected exit 0, got $rc"; return 1; }
	grep -q '^ok [0-9]* nx_recovery_toggle.param_values # SKIP writes kvm.nx_huge_pages=never' \
		"$out"/pass/*/ktap.log || { echo "param_values did not skip on the host"; return 1; }
	same_state pass
}

# SIGNAL in the middle of the traced case: the run stops, restores, and
# says it was interrupted.
signalled_run() {
	local sig=$1 pid rc
	runner_bg "sig$sig" --test "$TRACED"
	until_traced || { kill -KILL -- "-$pid"; return 1; }
	kill "-$sig" "$pid"
	wait "$pid"
	rc=$?
	cat "$out/sig$sig.run.log"
	[ $rc != 0 ] || { echo "expected a non-zero exit after SIG$sig"; return 1; }
	grep -q "nx: interrupted by SIG$sig" "$out/sig$sig.run.log" || return 1
	same_state "sig$sig"
}

# A case that fails, killed by its own timeout in the middle of its work.
failing_run() {
	local rc
	NX_TEST_TIMEOUT=3 runner fail --test "$TRACED"
	rc=$?
	[ $rc = 1 ] || { echo "expected exit 1, got $rc"; return 1; }
	same_state fail
}

# A run that outlives NX_RUN_TIMEOUT (20 s): a real case that changes
# KVM's parameters, then a stand-in case that hangs for 30 s (the bats
# fixture fake_test, its case "hang"), so that the limit always falls
# inside a case, whatever this machine's speed.  The run must stop, fail
# the case it did not finish naming the limit, exit 1, and leave the host
# as it was.
run_limit() {
	local build=$out/limit-build rc
	mkdir -p "$build"
	ln -sf "$top/build/nx_summary" "$top/build/nx_split_recovery_test" "$build/"
	cp "$top/tests/bats/fixtures/fake_test" "$build/zz_hang_test"
	echo nx_limit.hang >"$build/zz_hang_test.cases"
	NX_BUILD=$build NX_RUN_TIMEOUT=20 runner limit \
		--test nx_split_recovery.hugetlb_2m.split_and_recover --test nx_limit.hang
	rc=$?
	[ $rc = 1 ] || { echo "expected exit 1, got $rc"; return 1; }
	grep -qE "^not ok 2 nx_limit.hang # no result: the run did not finish within NX_RUN_TIMEOUT \(20s\)\$" \
		"$out"/limit/*/ktap.log || { echo "no failure of the hanging case naming the limit"; return 1; }
	same_state limit
}

# SIGKILL of the run's process group, as a lab's timeout does: nothing of
# it can restore.  The state must differ then, and the journal be left.
killed_run() {
	local name=$1 pid
	runner_bg "$name" --test "$TRACED"
	until_traced || { kill -KILL -- "-$pid"; return 1; }
	kill -KILL -- "-$pid"
	wait "$pid"
	nx_state_dump >"$out/state.$name"
	if diff -q "$out/state.before" "$out/state.$name" >/dev/null; then
		echo "the killed run changed nothing: this proves nothing"
		return 1
	fi
	[ -e "$NX_STATE_JOURNAL" ] || { echo "no journal after SIGKILL"; return 1; }
	echo "journal left: $(grep -v '^knob ' "$NX_STATE_JOURNAL" | tr '\n' ' ')"
}

restore_only() {
	killed_run kill1 || return 1
	./run_nx_tests.sh --restore | tee "$out/restore.out"
	grep -q '^nx: run [0-9]* (.*) was killed before it restored the host state; restored:$' \
		"$out/restore.out" || return 1
	grep -q '^nx:   tracefs instance nxtest removed$' "$out/restore.out" || return 1
	grep -q '^nx:   module/kvm/parameters/nx_huge_pages' "$out/restore.out" ||
		{ echo "no KVM parameter restored"; return 1; }
	[ ! -e "$NX_STATE_JOURNAL" ] || { echo "journal still there"; return 1; }
	same_state restore
}

next_run_restores() {
	killed_run kill2 || return 1
	runner next "${QUICK[@]}" | tee "$out/next.out"
	[ "${PIPESTATUS[0]}" = 0 ] || return 1
	# Before anything else the run said what it restored.
	head -n 1 "$out/next.out" | grep -q 'was killed before it restored the host state' ||
		{ echo "the first line is not the restore"; return 1; }
	same_state next
}

# The VM's init tried to write through a writable mount of the root share
# before it mounted the overlay; QEMU's readonly=on must have refused it.
root_share_read_only() {
	[ "${NX_ROOT_SHARE_WRITE:-}" = refused ]
}

set -m
echo "TAP version 13"
proof "the host's root share refuses the guest's writes" root_share_read_only
proof "passing run restores" passing_run
proof "SIGINT mid-test restores" signalled_run INT
proof "SIGTERM mid-test restores" signalled_run TERM
proof "failing test restores" failing_run
proof "a run past NX_RUN_TIMEOUT stops and restores" run_limit
proof "SIGKILL leaves a journal; --restore restores it" restore_only
proof "SIGKILL; the next run restores first" next_run_restores
echo "1..$n"
[ $failed = 0 ]
