#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the selected cases one by one and write one KTAP document to stdout,
# kselftest-runner style: each case's own output as "# " diagnostics, then
# one top-level result line.  POSIX sh: it runs on the host (--host) and
# in the VM's busybox initramfs alike.
#
# usage: run_cases.sh CATALOGUE TIMEOUT_S
#   CATALOGUE: lines "BINARY CASE_NAME", in run order.
#   TIMEOUT_S: per-case limit; the binary enforces it, and this script
#              kills the binary after TIMEOUT_S + 30 in case it cannot.
#
# The KTAP document is all it writes to stdout: what else a run learns
# goes to files of its own, in NX_SIDE_DIR (docs/runner.md).
#
# Environment:
#   NX_SUMMARY    the results reader (build/nx_summary; /nx/nx_summary in
#                 the VM, the default: beside this script), which finds
#                 each case's reason in its KTAP
# and optionally:
#   NX_SIDE_DIR   the folder of the side files: with --perf,
#                 perf/CASE.txt, each case's counts (or why there are
#                 none)
#   NX_SKIP_ALL   run nothing: every case is skipped with this reason (an
#                 MMU mode the VM could not set up)
#   NX_PERF_CMD   a perf binary: each case runs under `perf stat` of the
#                 kvm: and kvmmmu: events, into NX_SIDE_DIR/perf/CASE.txt
#   NX_PERF_SKIP  why --perf counts cannot be taken (a line per case)
#   NX_REPEAT     run each case this many times, one after the other
#                 (--repeat): each run's output, then "# nx_repeat: run K
#                 of N: pass|fail|skip", then one result for the case: ok
#                 if no run failed (SKIP if all skipped), not ok with the
#                 last failure's reason if none passed, and if some passed
#                 and some failed "not ok ... # FLAKY passed P of N: WHY",
#                 a failure of its own kind, never a pass

catalogue=$1
timeout_s=$2
repeat=${NX_REPEAT:-1}
summary=${NX_SUMMARY:-$(dirname "$0")/nx_summary}
side=${NX_SIDE_DIR:-}
# Without the reader no reason could be told: a run that says nothing
# useful is worse than none.
[ -x "$summary" ] || { echo "run_cases.sh: no results reader at $summary (NX_SUMMARY)" >&2; exit 2; }
if [ -n "${NX_PERF_CMD:-}${NX_PERF_SKIP:-}" ] && [ -z "$side" ]; then
	echo "run_cases.sh: --perf needs NX_SIDE_DIR for the counts" >&2
	exit 2
fi
out=$(mktemp "${TMPDIR:-/tmp}/nx-case.XXXXXX") || exit 1
perf_out=$out.perf
rc_file=$out.rc

child=
# GNU timeout puts the case in a process group of its own, which a lab's
# SIGKILL of the run's group would leave running (and changing the host
# under the restore of its journal): --foreground keeps it in ours.
# Busybox's timeout has no such option, and needs none.
fg=
timeout --foreground 1 true 2>/dev/null && fg=--foreground
# A runner killed alone (SIGKILL, no group): stop before the next case.
runner=$PPID

# A signal stops the running binary (its harness then restores what the
# case changed) before this script goes, instead of after the case ends.
stop() {
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"
	rm -f "$out" "$perf_out" "$perf_out.log" "$rc_file"
	exit 130
}
trap stop INT TERM HUP

# Run case NAME of binary BIN once: its output (and perf counts) as "# "
# lines; result (pass, fail, skip) and reason say how it ended.
run_case() {
	bin=$1 name=$2
	rm -f "$perf_out" "$perf_out.log" "$rc_file"
	if [ -n "${NX_PERF_CMD:-}" ]; then
		# perf stat exits 0 when its command dies of a signal: the
		# case's own status goes through a file.  perf's warnings go
		# with its counts, not into the case's output.
		# shellcheck disable=SC2016 # the inner sh expands them
		timeout ${fg:+"$fg"} -s KILL $((timeout_s + 30)) "$NX_PERF_CMD" stat \
			-e 'kvm:*' -e 'kvmmmu:*' -o "$perf_out" -- \
			/bin/sh -c 'o=$1 r=$2; shift 2; "$@" >"$o" 2>&1; echo $? >"$r"' \
			sh "$out" "$rc_file" "$bin" -t "$timeout_s" -r "$name" \
			>"$perf_out.log" 2>&1 </dev/null &
	else
		timeout ${fg:+"$fg"} -s KILL $((timeout_s + 30)) "$bin" -t "$timeout_s" \
			-r "$name" >"$out" 2>&1 </dev/null &
	fi
	child=$!
	wait "$child"
	rc=$?
	child=
	if [ $rc != 137 ] && [ -s "$rc_file" ]; then
		rc=$(cat "$rc_file")
	fi
	# awk, not sed: a line cut short by a crash must still end in a
	# newline, or the result line below would be glued onto it.
	awk '{ print "# " $0 }' "$out"
	if [ -n "${NX_PERF_CMD:-}${NX_PERF_SKIP:-}" ]; then
		mkdir -p "$side/perf"
		# Every run's counts, one after the other (--repeat).
		if [ -n "${NX_PERF_CMD:-}" ] && [ -s "$perf_out" ]; then
			cat "$perf_out" "$perf_out.log"
		else
			echo "SKIP ${NX_PERF_SKIP:-perf stat wrote no counts}"
		fi >>"$side/perf/$name.txt"
	fi
	# The reason of the binary's own result ("SKIP" taken off).
	reason=$("$summary" --ktap "$out" --reason "$name")
	case $rc in
	0) result=pass reason= ;;
	4) result=skip ;;
	137) result=fail reason="TIMEOUT: killed after $((timeout_s + 30))s" ;;
	*) result=fail reason=${reason:-exit $rc} ;;
	esac
}

n=$(grep -c . "$catalogue")
echo "TAP version 13"
echo "1..$n"
i=0
while read -r bin name; do
	[ -n "$name" ] || continue
	if ! kill -0 "$runner" 2>/dev/null; then
		echo "# run_cases: the runner (pid $runner) is gone: no more cases"
		break
	fi
	i=$((i + 1))
	echo "# selftests: nx: $name"
	if [ -n "${NX_SKIP_ALL:-}" ]; then
		echo "ok $i $name # SKIP $NX_SKIP_ALL"
		continue
	fi
	passed=0 failed=0 run=0 why='' skip_why=''
	while [ "$run" -lt "$repeat" ]; do
		run=$((run + 1))
		run_case "$bin" "$name"
		case $result in
		pass) passed=$((passed + 1)) ;;
		skip) skip_why=$reason ;;
		*) failed=$((failed + 1)) why=$reason ;;
		esac
		[ "$repeat" = 1 ] ||
			echo "# nx_repeat: run $run of $repeat: $result${reason:+: $reason}"
	done
	if [ "$failed" = 0 ] && [ "$passed" = 0 ]; then
		echo "ok $i $name # SKIP $skip_why"
	elif [ "$failed" = 0 ]; then
		echo "ok $i $name"
	elif [ "$passed" = 0 ]; then
		echo "not ok $i $name # $why"
	else
		echo "not ok $i $name # FLAKY passed $passed of $((passed + failed)): $why"
	fi
done <"$catalogue"
rm -f "$out" "$perf_out" "$perf_out.log" "$rc_file"
