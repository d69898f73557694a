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

catalogue=$1
timeout_s=$2
out=$(mktemp "${TMPDIR:-/tmp}/nx-case.XXXXXX") || exit 1

child=

# A signal stops the running binary (its harness then restores what the
# case changed) before this script goes, instead of after the case ends.
stop() {
	[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"
	rm -f "$out"
	exit 130
}
trap stop INT TERM HUP

n=$(grep -c . "$catalogue")
echo "TAP version 13"
echo "1..$n"
i=0
while read -r bin name; do
	[ -n "$name" ] || continue
	i=$((i + 1))
	echo "# selftests: nx: $name"
	timeout -s KILL $((timeout_s + 30)) "$bin" -t "$timeout_s" -r "$name" \
		>"$out" 2>&1 </dev/null &
	child=$!
	wait "$child"
	rc=$?
	child=
	# awk, not sed: a line cut short by a crash must still end in a
	# newline, or the result line below would be glued onto it.
	awk '{ print "# " $0 }' "$out"
	reason=$(sed -n "s/^\(not \)\{0,1\}ok 1 $name # //p" "$out" | tail -n 1)
	case $rc in
	0) echo "ok $i $name" ;;
	4) echo "ok $i $name # SKIP ${reason#SKIP }" ;;
	137) echo "not ok $i $name # TIMEOUT: killed after $((timeout_s + 30))s" ;;
	*) echo "not ok $i $name # ${reason:-exit $rc}" ;;
	esac
done <"$catalogue"
rm -f "$out"
