# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Several VMs and cells of one kernel: dealing the cases out over the VMs
# (--jobs), splitting each VM's stream into its cells (--mmu), merging
# the VMs' streams and side files of a cell into one, and the exit code
# of several cells.  Sourced by run_nx_tests.sh; every input is an
# argument (the results reader is NX_BUILD's nx_summary: nothing here
# reads KTAP itself).

# "NAME MS" of each case: NX_DURATIONS (default configs/durations.txt: how
# long each took in a warm run on the development machine), then the
# newest run under RESULTS (its newest ktap.log), whose lines win.  A
# scheduling hint only: without it a fresh clone's first run (CI, make
# check) deals the cases round robin, and one VM ran 67 s of cases while
# the other had 40 s.
last_durations() {
	local f
	sed '/^#/d' "${NX_DURATIONS:-$NX_TOP/configs/durations.txt}" 2>/dev/null
	f=$(find "$1" -name ktap.log -printf '%T@ %p\n' 2>/dev/null |
		sort -n | tail -n 1 | cut -d' ' -f2-)
	[ -n "$f" ] || return 0
	"$NX_BUILD/nx_summary" --ktap "$f" --durations 2>/dev/null
}

# Split CATALOGUE (DIR/cases.txt) over JOBS VMs (--jobs, never more than
# the cases): one VM runs in DIR itself; several in DIR/vm-1..N, each with
# its own cases.txt in catalogue order.  Longest first, each case goes to
# the VM with the least work so far, by last_durations (a case it does
# not know counts as 1 s).  Prints the folders.
shard_cases() {
	local cat=$1 dir=$2 jobs=$3 results=$4 n i
	n=$(grep -c . "$cat")
	[ "$jobs" -lt "$n" ] && n=$jobs
	if [ "$n" -le 1 ]; then
		echo "$dir"
		return 0
	fi
	for i in $(seq 1 "$n"); do
		mkdir -p "$dir/vm-$i" || return 1
		: >"$dir/vm-$i/cases.txt"
	done
	{ last_durations "$results"; echo --; cat "$cat"; } | awk -v n="$n" -v dir="$dir" '
		!cases { if ($0 == "--") cases = 1; else ms[$1] = $2; next }
		NF { k++; line[k] = $0; w[k] = ($2 in ms) ? ms[$2] : 1000 }
		END {
			# Longest first (a stable selection sort: a few dozen cases).
			for (i = 1; i <= k; i++) order[i] = i
			for (i = 1; i <= k; i++)
				for (j = i + 1; j <= k; j++)
					if (w[order[j]] > w[order[i]]) {
						t = order[i]; order[i] = order[j]; order[j] = t
					}
			for (i = 1; i <= k; i++) {
				best = 1
				for (v = 2; v <= n; v++) if (load[v] < load[best]) best = v
				load[best] += w[order[i]]
				vm[order[i]] = best
			}
			for (i = 1; i <= k; i++)
				print line[i] > (dir "/vm-" vm[i] "/cases.txt")
		}'
	for i in $(seq 1 "$n"); do
		echo "$dir/vm-$i"
	done
}

# The side files a VM sent (VDIR/side.tar: a tar archive per cell, one
# after the other, scripts/vm/init) into VDIR/side/MODE/.  A VM that died
# while sending leaves an archive cut short: what it holds whole is kept.
unpack_side() {
	local vdir=$1
	mkdir -p "$vdir/side" || return 1
	if [ -s "$vdir/side.tar" ] &&
	   ! tar -x -i -f "$vdir/side.tar" -C "$vdir/side" 2>"$vdir/side.err"; then
		echo "nx: $vdir: side files cut short: $(tail -n 1 "$vdir/side.err")" >&2
	fi
	rm -f "$vdir/side.tar" "$vdir/side.err"
}

# Split a VM's results stream RAW into BASE/MODE/results.raw for each of
# MODES (space-separated, --mmu): the guest runs the cells in that order,
# one KTAP document each (nx_summary --split).  A mode whose cell never
# began gets an empty stream.
split_cells() {
	local raw=$1 base=$2 modes=${3:-tdp} m
	local -a outs=()
	for m in $modes; do
		mkdir -p "$base/$m" || return 1
		outs+=("$base/$m/results.raw")
	done
	"$NX_BUILD/nx_summary" --split "$raw" "${outs[@]}"
}

# The side files of cell MODE from the VMs in VDIR... (unpack_side) into
# the cell's folder CELL: the parameters of the first VM that sent them,
# every VM's perf/, and in cell.txt the longest run_s.
gather_side() {
	local cell=$1 m=$2 vdir src s run_s=
	shift 2
	for vdir in "$@"; do
		src=$vdir/side/$m
		[ -d "$src" ] || continue
		[ -e "$cell/params.txt" ] || [ ! -e "$src/params.txt" ] ||
			cp "$src/params.txt" "$cell/params.txt"
		if [ -d "$src/perf" ]; then
			mkdir -p "$cell/perf" && cp "$src/perf/"* "$cell/perf/"
		fi
		s=$(nx_kv_get "$src/cell.txt" run_s) || continue
		[ -n "$run_s" ] && [ "$s" -le "$run_s" ] || run_s=$s
	done
	[ -z "$run_s" ] || printf 'mmu=%s\nrun_s=%s\n' "$m" "$run_s" >"$cell/cell.txt"
}

# The results of the VMs in VMDIR... (or DIR itself), per cell of MODES
# (FLAT: the one cell is DIR itself): each cell's results.raw, one KTAP
# document in catalogue order (nx_summary --merge: renumbered, "1..N" the
# whole catalogue, so a test whose VM died goes missing, which fails the
# cell), and its side files (gather_side).
merge_shards() {
	local cat=$1 dir=$2 flat=$3 modes=${4:-tdp} m vdir cdir
	shift 4
	for vdir in "$@"; do
		# A VM that never started its tests sent nothing.
		touch "$vdir/results.raw"
		unpack_side "$vdir" || return 1
		[ "$flat" = 1 ] || split_cells "$vdir/results.raw" "$vdir" "$modes" ||
			return 1
	done
	for m in $modes; do
		cdir=$dir
		[ "$flat" = 1 ] || cdir=$dir/$m
		mkdir -p "$cdir" || return 1
		if [ "$1" != "$dir" ]; then
			local -a raws=()
			for vdir in "$@"; do
				if [ "$flat" = 1 ]; then
					raws+=("$vdir/results.raw")
				else
					raws+=("$vdir/$m/results.raw")
				fi
			done
			"$NX_BUILD/nx_summary" --merge "$cat" "${raws[@]}" \
				>"$cdir/results.raw" || return 1
			rm -f "${raws[@]}"
		fi
		gather_side "$cdir" "$m" "$@"
	done
	for vdir in "$@"; do
		rm -rf "$vdir/side"
	done
}

# After a sharded run: which VM's console log to read for each failure.
name_vm_consoles() {
	local ktap=$1 dir=$2 name vdir
	"$NX_BUILD/nx_summary" --ktap "$ktap" --failed | while read -r name; do
		for vdir in "$dir"/vm-*; do
			grep -q " $name\$" "$vdir/cases.txt" &&
				echo "nx: $name ran in $vdir: see its console.log"
		done
	done
}

# Combine the exit codes of cells: a failure wins, then a kernel that did
# not boot (125), a refused --kvm-src tree (2); 4 only if every cell
# skipped everything.
combine_rc() {
	local rc all_skip=1 any=0
	local -a seen=("$@")
	for rc in 1 125 2; do
		case " ${seen[*]} " in *" $rc "*) return "$rc" ;; esac
	done
	for rc in "${seen[@]}"; do
		any=1
		[ "$rc" = 4 ] || all_skip=0
	done
	[ $any = 1 ] && [ $all_skip = 1 ] && return 4
	return 0
}
