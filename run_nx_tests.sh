#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run the NX huge page recovery suite against real KVM code.
#
#   --vm (default)  boot a kernel under QEMU and run the suite inside it
#   --host          run on this machine's own KVM (root and /dev/kvm)
#
# Exit: 0 all ran and passed (skips reported), 1 a test failed, 4 all
# skipped, 125 the kernel could not be prepared or booted (git bisect run
# skips the commit), 2 usage.
set -uo pipefail

NX_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NX_CACHE=${NX_CACHE:-$NX_TOP/.cache}
NX_BUILD=${NX_BUILD:-$NX_TOP/build}
# shellcheck source=versions.env
. "$NX_TOP/versions.env"
# shellcheck source=scripts/host_state.sh
. "$NX_TOP/scripts/host_state.sh"
# shellcheck source=scripts/vm.sh
. "$NX_TOP/scripts/vm.sh"

NX_MODE=vm
NX_KERNEL=
NX_MODULES=
NX_RESULTS=$NX_TOP/results
NX_LIST=0
NX_FILTERS=()
NX_SABOTAGE=()
NX_KVM_SRC=
NX_BOOT_TIMEOUT=${NX_BOOT_TIMEOUT:-300}
NX_TEST_TIMEOUT=${NX_TEST_TIMEOUT:-120}
NX_RUN_TIMEOUT=${NX_RUN_TIMEOUT:-1800}
NX_HUGEPAGES=${NX_HUGEPAGES:-64}
NX_HUGEPAGES_1G=${NX_HUGEPAGES_1G:-1}
NX_VM_MEM=${NX_VM_MEM:-5120}
NX_VM_NUMA=${NX_VM_NUMA:-2}
NX_QEMU_PID=
NX_CASES_PID=

usage() {
	cat <<-EOU
	usage: run_nx_tests.sh [--vm | --host] [options]

	  --vm               boot a kernel under QEMU and run there (default)
	  --host             run on this machine's KVM (root, /dev/kvm)
	  --kernel PATH      bzImage to boot (VM mode; default: Debian's
	                     linux-image-$NX_KVER+deb12-amd64-unsigned)
	  --modules DIR      modules for --kernel: a lib/modules/<release>
	                     tree or a folder of .ko files
	  --kvm-src TREE     VM mode: rebuild kvm.ko and kvm-amd.ko from TREE's
	                     arch/x86/kvm and virt/kvm (a Linux $NX_KVER tree)
	                     and boot Debian's kernel with them
	  --list             list the tests and exit
	  --test NAME        run only NAME (repeatable; shell globs allowed)
	  --results DIR      where the run's folder goes (default: results/)
	  --sabotage M.P=V   VM mode: keep writing V to module parameter M.P
	                     (e.g. kvm.nx_huge_pages_recovery_ratio=0) while
	                     the tests run, to see them catch a KVM that
	                     does not do what they set up (repeatable)
	  --help             this text

	Exit: 0 passed, 1 a test failed, 4 all skipped, 125 kernel not
	prepared or booted, 2 usage.
	EOU
}

usage_error() {
	echo "run_nx_tests.sh: $*" >&2
	echo "Try 'run_nx_tests.sh --help'." >&2
	exit 2
}

need_value() {
	if [ $# -lt 2 ] || [ -z "$2" ] || [ "${2#--}" != "$2" ]; then
		usage_error "$1 needs a value"
	fi
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--vm) NX_MODE=vm ;;
		--host) NX_MODE=host ;;
		--kernel) need_value "$@"; NX_KERNEL=$2; shift ;;
		--modules) need_value "$@"; NX_MODULES=$2; shift ;;
		--kvm-src) need_value "$@"; NX_KVM_SRC=$2; shift ;;
		--list) NX_LIST=1 ;;
		--test) need_value "$@"; NX_FILTERS+=("$2"); shift ;;
		--results) need_value "$@"; NX_RESULTS=$2; shift ;;
		--sabotage) need_value "$@"; NX_SABOTAGE+=("$2"); shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage_error "unknown option '$1'" ;;
		esac
		shift
	done
	if [ -n "$NX_KERNEL" ]; then
		[ -f "$NX_KERNEL" ] || usage_error "--kernel $NX_KERNEL: no such file"
		[ -n "$NX_MODULES" ] || usage_error "--kernel needs --modules DIR"
	fi
	if [ -n "$NX_MODULES" ]; then
		[ -n "$NX_KERNEL" ] || usage_error "--modules needs --kernel PATH"
		[ -d "$NX_MODULES" ] || usage_error "--modules $NX_MODULES: no such folder"
	fi
	if [ "$NX_MODE" = host ] && [ -n "$NX_KERNEL" ]; then
		usage_error "--kernel and --host exclude each other"
	fi
	if [ -n "$NX_KVM_SRC" ]; then
		[ -d "$NX_KVM_SRC/arch/x86/kvm" ] ||
			usage_error "--kvm-src $NX_KVM_SRC: no arch/x86/kvm there"
		if [ "$NX_MODE" != vm ] || [ -n "$NX_KERNEL" ]; then
			usage_error "--kvm-src works with the default kernel in VM mode only"
		fi
	fi
	local s
	for s in "${NX_SABOTAGE[@]}"; do
		[[ $s =~ ^kvm(_amd|_intel)?\.[a-z0-9_]+=[A-Za-z0-9_.+-]+$ ]] ||
			usage_error "--sabotage $s: expected MODULE.PARAM=VALUE"
	done
	if [ "$NX_MODE" = host ] && [ ${#NX_SABOTAGE[@]} -gt 0 ]; then
		usage_error "--sabotage works in VM mode only"
	fi
}

# Build the suite unless the caller provides the binaries (NX_NO_BUILD=1).
build_suite() {
	[ "${NX_NO_BUILD:-0}" = 1 ] && return 0
	"$NX_TOP/scripts/install_deps.sh" suite >&2 || return 1
	make -C "$NX_TOP" -s all >&2
}

# "BINARY CASE" lines of every case the binaries offer.
catalogue_all() {
	local bin
	for bin in "$NX_BUILD"/*_test; do
		[ -x "$bin" ] || continue
		"$bin" -l 2>/dev/null | grep -v '^Random seed' |
			sed "s|^|$bin |"
	done
}

# Keep the catalogue lines whose case matches a --test filter; an unknown
# filter is a usage error.
catalogue_select() {
	local all=$1 f line matched name
	local -a keep=()
	if [ ${#NX_FILTERS[@]} -eq 0 ]; then
		cat "$all"
		return 0
	fi
	for f in "${NX_FILTERS[@]}"; do
		matched=0
		while read -r line; do
			name=${line#* }
			# shellcheck disable=SC2053 # the filter is a glob on purpose
			if [[ $name == $f ]]; then
				matched=1
				keep+=("$line")
			fi
		done <"$all"
		[ $matched = 1 ] || usage_error "no test named '$f' (see --list)"
	done
	printf '%s\n' "${keep[@]}" | awk '!seen[$0]++'
}

new_results_dir() {
	local dir
	dir=$NX_RESULTS/$(date -u +%Y%m%dT%H%M%SZ)-$1
	while [ -e "$dir" ]; do
		dir=$dir.1
	done
	mkdir -p "$dir" && printf '%s\n' "$dir"
}

on_signal() {
	echo "nx: interrupted by SIG$1" >&2
	[ -n "$NX_QEMU_PID" ] && kill -9 "$NX_QEMU_PID" 2>/dev/null
	if [ -n "$NX_CASES_PID" ]; then
		kill -TERM "$NX_CASES_PID" 2>/dev/null
		wait "$NX_CASES_PID"
	fi
	nx_state_restore
	trap - EXIT
	exit 1
}

# Results of a run: ktap.log, params, summary.json and the short summary.
summarize() {
	local dir=$1 raw=$2 rc
	tr -d '\r' <"$raw" | grep -av '^# nx_param: ' >"$dir/ktap.log"
	tr -d '\r' <"$raw" | sed -n 's/^# nx_param: //p' >"$dir/params.txt"
	"$NX_BUILD/nx_summary" --ktap "$dir/ktap.log" --out "$dir/summary.json" \
		--params "$dir/params.txt" --meta "mode=$NX_MODE" \
		--meta "kernel_release=$NX_RELEASE" --meta "accel=${NX_ACCEL:-none}" \
		--run-metric "boot_s=${NX_BOOT_S:-0}" --run-metric "run_s=${NX_RUN_S:-0}"
	rc=$?
	echo "nx: results in $dir"
	return $rc
}

run_vm() {
	local cat=$1 dir rc
	if [ -z "$NX_KERNEL" ]; then
		nx_vm_default_kernel || { echo "nx: could not fetch the kernel" >&2; return 125; }
	fi
	if [ -n "$NX_KVM_SRC" ]; then
		NX_MODULES_OVERRIDE=$NX_CACHE/kvm-modules
		"$NX_TOP/scripts/build_kvm_modules.sh" "$NX_KVM_SRC" \
			"$NX_MODULES_OVERRIDE"
		case $? in
		0) ;;
		2) return 2 ;; # a tree of another version: refused
		*) return 125 ;;
		esac
	fi
	NX_RELEASE=$(nx_bzimage_release "$NX_KERNEL") ||
		{ echo "nx: $NX_KERNEL is not a bzImage" >&2; return 125; }
	dir=$(new_results_dir "$NX_RELEASE") || return 125
	nx_build_initramfs "$dir/initramfs.cpio" "$cat" ||
		{ echo "nx: could not build the initramfs" >&2; return 125; }
	nx_vm_boot "$dir/initramfs.cpio" "$dir"
	rc=$?
	rm -f "$dir/initramfs.cpio"
	[ $rc -eq 125 ] && return 125
	summarize "$dir" "$dir/results.raw" || rc=$?
	rm -f "$dir/results.raw"
	return $rc
}

run_host() {
	local cat=$1 dir raw rc t0
	[ "$(id -u)" = 0 ] || { echo "nx: SKIP --host needs root"; return 4; }
	[ -c /dev/kvm ] || { echo "nx: SKIP --host needs /dev/kvm"; return 4; }
	NX_RELEASE=$(uname -r)
	dir=$(new_results_dir "$NX_RELEASE") || return 1
	raw=$dir/results.raw
	nx_state_save || { echo "nx: could not read the host state" >&2; return 1; }
	trap 'nx_state_restore' EXIT
	nx_state_set kernel/mm/hugepages/hugepages-2048kB/nr_hugepages "$NX_HUGEPAGES"
	t0=$(date +%s%N)
	# In the background, so that a signal is handled at once (on_signal).
	"$NX_TOP/scripts/run_cases.sh" "$cat" "$NX_TEST_TIMEOUT" >"$raw" &
	NX_CASES_PID=$!
	wait "$NX_CASES_PID"
	NX_CASES_PID=
	grep -E '^(not )?ok ' "$raw"
	NX_RUN_S=$(nx_seconds_between "$t0" "$(date +%s%N)")
	for p in /sys/module/kvm*/parameters/*; do
		m=${p#/sys/module/}
		echo "# nx_param: ${m%%/*}.${p##*/}=$(cat "$p" 2>/dev/null)"
	done >>"$raw"
	nx_state_restore || echo "nx: WARNING: host state not fully restored" >&2
	summarize "$dir" "$raw"
	rc=$?
	rm -f "$raw"
	return $rc
}

main() {
	local all sel rc
	parse_args "$@"
	build_suite || { echo "nx: build failed" >&2; exit 125; }
	all=$(mktemp) sel=$(mktemp)
	catalogue_all >"$all"
	if [ $NX_LIST = 1 ]; then
		cut -d' ' -f2 "$all"
		rm -f "$all" "$sel"
		exit 0
	fi
	(catalogue_select "$all") >"$sel" || { rm -f "$all" "$sel"; exit 2; }
	# A signal kills the VM and restores the host (--host) before exiting.
	trap 'on_signal INT' INT
	trap 'on_signal TERM' TERM
	trap 'on_signal HUP' HUP
	if [ "$NX_MODE" = vm ]; then
		run_vm "$sel"
	else
		run_host "$sel"
	fi
	rc=$?
	rm -f "$all" "$sel"
	exit $rc
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
