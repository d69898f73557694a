#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The table of a matrix run: one row per test, one column per cell
# (kernel x MMU mode), each entry PASS, FAIL, SKIP or "-" (the cell did not
# run that test), then one line per cell with its counts and run time.
# It joins the cells' ktap.log files, which awk reads directly; the
# per-cell summary.json files stay nx_summary's.
#
# usage: matrix_table.sh LABEL=CELL_DIR...
#   CELL_DIR/ktap.log  the cell's KTAP document (missing: the cell never ran)
#   CELL_DIR/cell.txt  optional "run_s=N" (the cell's wall time)
#
# Exit: 0 every cell ran and none failed, 1 otherwise, 2 usage.
set -uo pipefail

[ $# -ge 1 ] || { echo "usage: matrix_table.sh LABEL=CELL_DIR..." >&2; exit 2; }

args=()
for a in "$@"; do
	case $a in
	?*=?*) ;;
	*) echo "matrix_table: '$a' is not LABEL=CELL_DIR" >&2; exit 2 ;;
	esac
	dir=${a#*=}
	run_s=
	[ -r "$dir/cell.txt" ] && run_s=$(sed -n 's/^run_s=//p' "$dir/cell.txt")
	ktap=$dir/ktap.log
	[ -r "$ktap" ] || ktap=/dev/null
	# One record per cell: label, run time, ktap path (awk reads it).
	args+=("${a%%=*}" "${run_s:--}" "$ktap")
done

awk '
function trimmed(s) {
	sub(/ +$/, "", s)
	print s
}

BEGIN {
	ncell = (ARGC - 1) / 3
	ntest = 0
	for (c = 1; c <= ncell; c++) {
		label[c] = ARGV[3 * c - 2]
		time[c] = ARGV[3 * c - 1]
		file = ARGV[3 * c]
		ran[c] = 0
		while ((getline line < file) > 0) {
			if (line !~ /^(not )?ok [0-9]+ /)
				continue
			ran[c] = 1
			split(line, w, " ")
			name = (w[1] == "not") ? w[4] : w[3]
			if (w[1] == "not")
				st = "FAIL"
			else if (line ~ / # [Ss][Kk][Ii][Pp]/)
				st = "SKIP"
			else
				st = "PASS"
			if (!(name in row)) {
				row[name] = ++ntest
				order[ntest] = name
			}
			res[c, name] = st
			count[c, st]++
		}
		close(file)
	}
	namew = length("test")
	for (t = 1; t <= ntest; t++)
		if (length(order[t]) > namew)
			namew = length(order[t])
	out = sprintf("%-" namew "s", "test")
	for (c = 1; c <= ncell; c++) {
		w[c] = length(label[c]) < 4 ? 4 : length(label[c])
		out = out sprintf("  %-" w[c] "s", label[c])
	}
	trimmed(out)
	for (t = 1; t <= ntest; t++) {
		out = sprintf("%-" namew "s", order[t])
		for (c = 1; c <= ncell; c++) {
			st = ((c, order[t]) in res) ? res[c, order[t]] : "-"
			out = out sprintf("  %-" w[c] "s", st)
		}
		trimmed(out)
	}
	bad = 0
	for (c = 1; c <= ncell; c++) {
		if (!ran[c]) {
			printf "cell %s: did not run\n", label[c]
			bad = 1
			continue
		}
		printf "cell %s: %d passed, %d failed, %d skipped, %s s\n",
			label[c], count[c, "PASS"], count[c, "FAIL"],
			count[c, "SKIP"], time[c]
		if (count[c, "FAIL"] > 0)
			bad = 1
	}
	exit bad
}' "${args[@]}"
