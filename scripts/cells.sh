# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Several VMs and cells of one kernel: dealing the cases out over the VMs
# (--jobs), splitting each VM's stream into its cells (--mmu), merging
# the VMs' streams of a cell into one, and the exit code of several
# cells.  Sourced by run_nx_tests.sh; every input is an argument (the
# results reader is NX_BUILD's nx_summary).

# "NAME MS" of each case of the newest run under RESULTS (its newest
# ktap.log): how long the cases took last time (none on a first run).
last_durations() {
	local f
	f=$(find "$1" -name ktap.log -printf '%T@ %p\n' 2>/dev/null |
		sort -n | tail -n 1 | cut -d' ' -f2-)
	[ -n "$f" ] || return 0
	"$NX_BUILD/nx_summary" --ktap "$f" --durations 2>/dev/null
}

# Split CATALOGUE (DIR/cases.txt) over JOBS VMs (--jobs, never more than
# the cases): one VM runs in DIR itself; several in DIR/vm-1..N, each with
# its own cases.txt in catalogue order.  Longest first, each case goes to
# the VM with the least work so far, by the durations of the last run
# under RESULTS (a case it did not have counts as 1 s; with no last run
# that deals them round robin).  Prints the folders.
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

# Split a VM's results stream at its "# nx_cell: begin MODE" lines into
# BASE/MODE/results.raw (BASE/results.raw itself when FLAT=1: a run of
# one cell keeps the folder layout of a plain run), for each of MODES
# (space-separated, --mmu).  A mode whose cell never began gets an empty
# stream.
split_cells() {
	local raw=$1 base=$2 flat=$3 modes=${4:-tdp} m
	for m in $modes; do
		[ "$flat" = 1 ] || mkdir -p "$base/$m"
	done
	tr -d '\r' <"$raw" | awk -v base="$base" -v flat="$flat" '
		/^# nx_cell: begin / {
			f = flat ? base "/cell.raw" : base "/" $4 "/results.raw"
		}
		f { print > f }'
	if [ "$flat" = 1 ]; then
		# A guest that died before its first cell: keep what it sent.
		[ -e "$base/cell.raw" ] || cp "$raw" "$base/cell.raw"
		mv "$base/cell.raw" "$raw"
		return 0
	fi
	for m in $modes; do
		[ -e "$base/$m/results.raw" ] || : >"$base/$m/results.raw"
	done
}

# The results streams of the VMs in VMDIR... (or DIR itself), one per
# cell of MODES (FLAT: the one cell is DIR itself), as one stream in
# catalogue order: each test's block
# (from its "# selftests: nx: NAME" line to its result line) renumbered,
# "1..N" the whole catalogue (a test whose VM died goes missing, which
# fails the cell), the parameters of the first VM, the longest run_s.
merge_shards() {
	local cat=$1 dir=$2 flat=$3 modes=${4:-tdp} m vdir
	shift 4
	if [ "$1" = "$dir" ]; then
		split_cells "$dir/results.raw" "$dir" "$flat" "$modes"
		return
	fi
	for vdir in "$@"; do
		# A VM that never started its tests sent nothing.
		touch "$vdir/results.raw"
		split_cells "$vdir/results.raw" "$vdir" "$flat" "$modes"
	done
	for m in $modes; do
		local -a raws=()
		for vdir in "$@"; do
			if [ "$flat" = 1 ]; then
				raws+=("$vdir/results.raw")
			else
				raws+=("$vdir/$m/results.raw")
			fi
		done
		if [ "$flat" = 1 ]; then
			merge_streams "$cat" "${raws[@]}" >"$dir/results.raw"
		else
			mkdir -p "$dir/$m"
			merge_streams "$cat" "${raws[@]}" >"$dir/$m/results.raw"
		fi
		rm -f "${raws[@]}"
	done
}

# The streams of FILE... merged in the order of catalogue CAT (merge_shards).
merge_streams() {
	awk 'FNR == 1 { f++ }
	f == 1 { if (NF) order[++n] = $2; next }
	/^# nx_cell: begin / { begin = $0; next }
	/^# nx_cell: end / {
		mode = $4
		sub(/.*run_s=/, "")
		if ($0 + 0 > run_s) run_s = $0 + 0
		next
	}
	/^# nx_(param|perf): / { if (f == 2 || $2 == "nx_perf:") tail[++nt] = $0; next }
	/^TAP version / || /^1\.\.[0-9]+$/ { next }
	/^# selftests: nx: / { cur = $4; block[cur] = $0 "\n"; next }
	/^(not )?ok [0-9]+ / && cur != "" { result[cur] = $0; cur = ""; next }
	cur != "" { block[cur] = block[cur] $0 "\n"; next }
	{ head[++nh] = $0 }
	END {
		if (begin != "") print begin
		for (i = 1; i <= nh; i++) print head[i]
		print "TAP version 13"
		print "1.." n
		k = 0
		for (i = 1; i <= n; i++) {
			name = order[i]
			if (!(name in result)) continue
			k++
			line = result[name]
			if (!sub(/^not ok [0-9]+/, "not ok " k, line))
				sub(/^ok [0-9]+/, "ok " k, line)
			printf "%s%s\n", block[name], line
		}
		for (i = 1; i <= nt; i++) print tail[i]
		if (mode != "") print "# nx_cell: end " mode " run_s=" run_s
	}' "$@"
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
