# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The results folder of a cell: ktap.log (with a failure for every case a
# dead guest took with it), cell.txt, and from nx_summary summary.json,
# junit.xml and tests/<name>.log, beside the side files the run put there
# (params.txt, perf/); or the summary.json and junit.xml of a kernel that
# never ran a test.
# Sourced by run_nx_tests.sh; what is known of the kernel and its boot
# comes in its record (KREC, docs/runner.md), the reader and writer is
# NX_BUILD's nx_summary.

# A new folder ROOT/<UTC time>-NAME, printed.
new_results_dir() {
	local dir
	dir=$1/$(date -u +%Y%m%dT%H%M%SZ)-$2
	while [ -e "$dir" ]; do
		dir=$dir.1
	done
	mkdir -p "$dir" && printf '%s\n' "$dir"
}

# The folder of a kernel's results, printed: TOP/NAME with TOP (several
# cells), else a new one under ROOT (--results).
kernel_results_dir() {
	local top=$1 name=$2 root=$3
	if [ -n "$top" ]; then
		mkdir -p "$top/$name" && printf '%s\n' "$top/$name"
	else
		new_results_dir "$root" "$name"
	fi
}

# The cases of CASES ("BINARY NAME" lines) that KTAP file KTAP has no
# result for: a guest that died or hung took them with it, or the run
# was stopped at its deadline (WHY says which).  Each becomes a failure
# naming why, so that no reader has to count results against the plan
# to see it.
missing_results() {
	local ktap=$1 cases=$2 why=$3 n=0 line name results
	local -A has=()
	# Read whole first: a process substitution outlives the runner unreaped.
	results=$("$NX_BUILD/nx_summary" --ktap "$ktap" --cases)
	# "NAME STATUS" lines: the status is the last word.
	while read -r line; do
		[ -n "$line" ] || continue
		has[${line% *}]=1
		n=$((n + 1))
	done <<<"$results"
	cut -d' ' -f2 "$cases" | while read -r name; do
		[ -z "${has[$name]:-}" ] || continue
		n=$((n + 1))
		echo "not ok $n $name # no result: $why"
	done
}

# The --meta arguments of nx_summary, one a line, naming each Debian build
# the kernel of KREC used: the kernel image (and a 7.x kernel's modules),
# the linux-source its tests in BUILD were built from (.debian-source,
# written by make), busybox-static, perf, and with --kvm-src the headers
# the modules were built against.
debian_meta() {
	local krec=$1 build=$2 kv src
	src=$(cat "$build/.debian-source" 2>/dev/null)
	for kv in "image=$(nx_krec_get "$krec" deb_image)" \
		"modules=$(nx_krec_get "$krec" deb_modules)" "source=$src" \
		"busybox=$(nx_krec_get "$krec" deb_busybox)" \
		"perf=$(nx_krec_get "$krec" deb_perf)" \
		"headers=$(nx_krec_get "$krec" deb_headers)"; do
		[ -n "${kv#*=}" ] && printf '%s\n' --meta "debian_$kv"
	done
	return 0
}

# The --meta arguments of nx_summary of the run's mode, the cell's MMU
# mode (if any) and the kernel of KREC (kernel_release, else LABEL; the
# accelerator and why), one a line.
run_meta() {
	local krec=$1 mmu=$2 label=$3 release accel why series build
	release=$(nx_krec_get "$krec" release)
	accel=$(nx_krec_get "$krec" accel)
	why=$(nx_krec_get "$krec" accel_why)
	printf '%s\n' --meta "mode=$(nx_krec_get "$krec" mode)"
	[ -z "$mmu" ] || printf '%s\n' --meta "mmu=$mmu"
	# The tests' build: which framework, which folder (of the checkout).
	series=$(nx_krec_get "$krec" suite_series) &&
		printf '%s\n' --meta "framework_series=$series"
	build=$(nx_krec_get "$krec" suite_build) &&
		printf '%s\n' --meta "suite_build=${build#"$NX_TOP"/}"
	printf '%s\n' --meta "kernel_release=${release:-$label}" \
		--meta "accel=${accel:-none}"
	[ -z "$why" ] || printf '%s\n' --meta "accel_reason=$why"
}

# The folder of test binaries the kernel of KREC ran (kernel_cases), else
# the one of its framework series if there is one; without a series,
# NX_BUILD.
krec_build_dir() {
	local series dir
	nx_krec_get "$1" suite_build && return 0
	series=$(nx_krec_get "$1" series) || { echo "$NX_BUILD"; return 0; }
	dir=$(suite_build_dir "$series") && echo "$dir"
	return 0
}

# Results of a cell in DIR: ktap.log from its KTAP stream RAW, and with
# the side files its run left there (params.txt, perf/<test>.txt with
# --perf, cell.txt's run_s) summary.json, junit.xml, tests/<name>.log
# (each case's output and result), cell.txt and the short summary.  MMU
# names the cell's mode ("" on the host); CASES, if given, the cases the
# cell was to run; KREC the kernel and its boot.
summarize() {
	local dir=$1 raw=$2 mmu=${3:-} cases=${4:-} krec=$5 rc run_s boot_s
	local -a meta rmeta
	# A serial port may have put \r before each \n.
	tr -d '\r' <"$raw" >"$dir/ktap.log"
	if [ -n "$cases" ]; then
		missing_results "$dir/ktap.log" "$cases" \
			"$(nx_krec_get "$krec" missing_why ||
			   echo "the guest died or hung before the test reported (see console.log)")" \
			>"$dir/missing.ktap"
		cat "$dir/missing.ktap" >>"$dir/ktap.log"
		rm -f "$dir/missing.ktap"
	fi
	# A guest that died before the end of the cell sent no parameters.
	touch "$dir/params.txt"
	# The guest's time of the cell, else the whole run's.
	run_s=$(nx_kv_get "$dir/cell.txt" run_s) ||
		run_s=$(nx_krec_get "$krec" run_s || echo 0)
	boot_s=$(nx_krec_get "$krec" boot_s || echo 0)
	printf 'kernel_release=%s\nmmu=%s\nboot_s=%s\nrun_s=%s\n' \
		"$(nx_krec_get "$krec" release)" "${mmu:-host}" "$boot_s" "$run_s" \
		>"$dir/cell.txt"
	mapfile -t meta < <(debian_meta "$krec" "$(krec_build_dir "$krec")")
	mapfile -t rmeta < <(run_meta "$krec" "$mmu" "")
	"$NX_BUILD/nx_summary" --ktap "$dir/ktap.log" --out "$dir/summary.json" \
		--junit "$dir/junit.xml" --case-logs "$dir/tests" \
		"${meta[@]}" --params "$dir/params.txt" "${rmeta[@]}" \
		--run-metric "boot_s=$boot_s" --run-metric "run_s=$run_s"
	rc=$?
	echo "nx: results in $dir"
	return $rc
}

# A kernel that failed before any test ran (not fetched, not booted, QEMU
# aborted): the summary.json and junit.xml in its results folder DIR say
# so, with REASON, for a lab's dashboard.  KREC is what is known of the kernel,
# LABEL its name if KREC has no release yet.  Returns 125.
infra_failure() {
	local dir=$1 reason=$2 krec=$3 label=${4:-}
	local -a meta
	echo "nx: $reason" >&2
	mapfile -t meta < <(debian_meta "$krec" "$(krec_build_dir "$krec")"
		run_meta "$krec" "" "$label")
	"$NX_BUILD/nx_summary" --infrastructure "$reason" \
		--out "$dir/summary.json" --junit "$dir/junit.xml" "${meta[@]}" \
		>/dev/null
	echo "nx: results in $dir"
	return 125
}
