#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Inside the VM of tests/repeat_in_vm.sh: each case of CASES ("BINARY
# NAME" lines) run N times, one after the other, with a pool of POOL 2M
# pages (the runner's NX_HUGEPAGES).  One TAP line per case with its
# count; the reasons of the runs that failed go before it as diagnostics.
#
# usage: repeat_cases.sh N CASES POOL
set -uo pipefail

runs=$1
echo "$3" >/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
mapfile -t cases <"$2"
echo "1..${#cases[@]}"
i=0
for c in "${cases[@]}"; do
	read -r bin name <<<"$c"
	i=$((i + 1))
	pass=0 skip=0 why=
	for _ in $(seq 1 "$runs"); do
		out=$(timeout 300 "$bin" -r "$name" 2>&1)
		case $? in
		0) pass=$((pass + 1)) ;;
		4) skip=$((skip + 1)); why=$(grep -m1 -o 'SKIP.*' <<<"$out") ;;
		*) grep -m1 -E '^not ok|Assertion|expected' <<<"$out" | sed 's/^/# /' ;;
		esac
	done
	if [ $((pass + skip)) = "$runs" ]; then
		echo "ok $i $name: $pass of $runs passed${why:+, $skip skipped: $why}"
	else
		echo "not ok $i $name: $pass of $runs passed, $skip skipped"
	fi
done
