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
# Tests built against the 6.1 framework (make SERIES=6.1), for kernels
# older than 6.8.
NX_BUILD_61=${NX_BUILD_61:-$NX_BUILD/6.1}
# ... against the 7.3 framework (make SERIES=7.3), for 7.x kernels.
NX_BUILD_73=${NX_BUILD_73:-$NX_BUILD/7.3}
# shellcheck source=scripts/host_state.sh
. "$NX_TOP/scripts/host_state.sh"
# shellcheck source=scripts/vm.sh
. "$NX_TOP/scripts/vm.sh"
# shellcheck source=scripts/vm/cases_env.sh
. "$NX_TOP/scripts/vm/cases_env.sh"
# shellcheck source=scripts/cli.sh
. "$NX_TOP/scripts/cli.sh"
# shellcheck source=scripts/catalogue.sh
. "$NX_TOP/scripts/catalogue.sh"
# shellcheck source=scripts/cells.sh
. "$NX_TOP/scripts/cells.sh"
# shellcheck source=scripts/results.sh
. "$NX_TOP/scripts/results.sh"

# The options: set by parse_args, read by this file only (the sourced
# scripts get what they need as arguments; the VM as its run.conf).

NX_MODE=vm
NX_KERNEL=
NX_MODULES=
NX_RESULTS=$NX_TOP/results
NX_LIST=0
NX_FILTERS=()
NX_SABOTAGE=()
NX_KVM_SRC=
NX_KERNEL_SPECS=()
NX_MMU_MODES=()
NX_PERF=0
NX_RESTORE=0
NX_COMPARE=
NX_REPEAT=1
NX_JOBS=
NX_BOOT_TIMEOUT=${NX_BOOT_TIMEOUT:-300}
NX_TEST_TIMEOUT=${NX_TEST_TIMEOUT:-120}
# --repeat N multiplies the default, not a limit the environment set.
NX_RUN_TIMEOUT_SET=${NX_RUN_TIMEOUT:+1}
NX_RUN_TIMEOUT=${NX_RUN_TIMEOUT:-1800}
NX_HUGEPAGES=${NX_HUGEPAGES:-64}
NX_HUGEPAGES_1G=${NX_HUGEPAGES_1G:-1}
NX_VM_MEM=${NX_VM_MEM:-5120}
NX_VM_NUMA=${NX_VM_NUMA:-2}
# NX_ACCEL=kvm|tcg forces QEMU's accelerator (scripts/vm.sh
# nx_vm_choose_accel; default: try KVM, else TCG).
# What the signal handler must reach: the cases running on the host, and
# the run's own scratch folder.
NX_CASES_PID=
NX_TIMER_PID=
NX_RUN_TMP=

usage() {
	cat <<-EOU
	usage: run_nx_tests.sh [--vm | --host] [options]

	  --vm               boot a kernel under QEMU and run there (default)
	  --host             run on this machine's KVM (root, /dev/kvm)
	  --restore          only put back the host state a killed --host run
	                     left (its journal under /run/nx-selftests), say
	                     what changed, and exit
	  --kernel PATH      bzImage to boot (VM mode; default: Debian's
	                     newest 6.12 image, of the build the suite's
	                     source is)
	  --modules DIR      modules for --kernel: a lib/modules/<release>
	                     tree or a folder of .ko files
	  --kernel debian:SPEC[,debian:SPEC]...
	                     Debian kernels to boot one after the other
	                     (repeatable); SPEC: 6.12 (the default), 6.12.N, 6.1
	                     (newest), 6.1.0-N, 7.2, 7.3 (newest of the series),
	                     7.2.N, 7.3.N (scripts/debian_kernel.sh)
	  --mmu MODE[,MODE]...
	                     VM mode: run the tests once per KVM MMU mode,
	                     reloading KVM in between: tdp (kvm.tdp_mmu=Y,
	                     the default), legacy (kvm.tdp_mmu=N), shadow
	                     (kvm_amd.npt=0 / kvm_intel.ept=0)
	  --matrix           --kernel debian:6.1,debian:6.12,debian:7.3
	                     --mmu tdp,legacy,shadow (either may be overridden)
	  --perf             record perf stat counts of the kvm: and kvmmmu:
	                     events of each test (perf/<test>.txt)
	  --kvm-src TREE     VM mode: rebuild kvm.ko and kvm-amd.ko from TREE's
	                     arch/x86/kvm and virt/kvm (a tree of the Linux
	                     version of the kernel: the default, or one
	                     --kernel debian:SPEC of series 6.12 or 7.3)
	                     and boot Debian's kernel with them
	  --jobs N           VM mode: run the tests in N VMs at once (TCG uses
	                     one host core per VM), results merged in
	                     catalogue order; default: the host's cores, as
	                     many as free memory holds at NX_VM_MEM each
	  --list             list the tests, each with what it needs and risks, and exit
	  --test NAME        run only NAME (repeatable; shell globs allowed)
	  --results DIR      where the run's folder goes (default: results/)
	  --repeat N         run each selected case N times in the same boot,
	                     one after the other: one result per case, its
	                     metrics with spread; a case that passes some runs
	                     and fails others is FLAKY (a failure); the
	                     default NX_RUN_TIMEOUT is multiplied by N
	  --compare BASELINE after the run, compare its results with the
	                     results folder BASELINE (a run's, a matrix run's
	                     or several runs'): per test new failure, fixed,
	                     still failing, new skip, new test; per metric
	                     better, same or worse beyond the baseline's
	                     spread; exit 0 no regression, 1 a test failed
	                     that passed in BASELINE (docs/labs.md)
	  --sabotage M.P=V   VM mode: keep writing V to module parameter M.P
	                     (e.g. kvm.nx_huge_pages_recovery_ratio=0) while
	                     the tests run, to see them catch a KVM that
	                     does not do what they set up (repeatable)
	  --bisect[=TREE]    a \`git bisect run\` step: build the kernel at
	                     TREE's (default: the current git tree's) commit,
	                     boot it, run the tests; exit 0 good, 1 bad,
	                     125 skip, 128 abort (see README "Bisecting")
	  --bisect-debian GOOD BAD
	                     find the first Debian kernel version of a series
	                     (e.g. 6.12.107 6.12.117) where the tests fail
	  --bisect-runs N    runs per bisect step (default 1; a failure is
	                     always confirmed by a second run)
	  --help             this text

	Environment: NX_ACCEL=kvm|tcg forces QEMU's accelerator (default:
	KVM if the CPU has svm/vmx and a short QEMU start under KVM reaches
	the kernel, else TCG); a forced KVM that fails exits 125.

	Exit: 0 passed, 1 a test failed, 4 all skipped, 125 kernel not
	prepared or booted (summary.json: status "infrastructure"), 2 usage.  Several cells (kernels x MMU modes):
	1 if any cell failed, else 125 if a kernel did not boot.
	With --compare: 0 no regression, 1 a regression, 125 and 2 as above.
	EOU
}

usage_error() {
	nx_usage_error 2 "$@"
}

need_value() {
	nx_has_value "$@" || usage_error "$1 needs a value"
}

# An empty item in a comma list is a usage error.
check_list() {
	case $2 in
	,* | *,,* | *,) usage_error "$1 $2: empty item in the list" ;;
	esac
}

# --kernel VALUE: a bzImage path, or a list of debian:SPEC.
add_kernel() {
	local spec
	case $1 in
	debian:*) check_list --kernel "$1" ;;
	*) NX_KERNEL=$1; return 0 ;;
	esac
	for spec in ${1//,/ }; do
		[[ $spec =~ ^debian:(6\.12|6\.12\.[0-9]+|6\.1|6\.1\.0-[0-9]+|7\.[23]|7\.[23]\.[0-9]+)$ ]] ||
			usage_error "--kernel $spec: expected debian:SPEC with SPEC 6.12, 6.12.N, 6.1, 6.1.0-N, 7.2, 7.2.N, 7.3 or 7.3.N"
		spec=${spec#debian:}
		case " ${NX_KERNEL_SPECS[*]} " in *" $spec "*) continue ;; esac
		NX_KERNEL_SPECS+=("$spec")
	done
}

# --mmu VALUE: a list of MMU modes.
add_mmu() {
	local m
	check_list --mmu "$1"
	for m in ${1//,/ }; do
		case $m in
		tdp | legacy | shadow) ;;
		*) usage_error "--mmu $m: expected tdp, legacy or shadow" ;;
		esac
		case " ${NX_MMU_MODES[*]} " in *" $m "*) continue ;; esac
		NX_MMU_MODES+=("$m")
	done
}

# VMs to run at once: one per core, as many as the free memory holds with
# NX_VM_MEM and some room for QEMU itself each.
default_jobs() {
	local cores mem_mb n
	cores=$(nproc)
	mem_mb=$(awk '/^MemAvailable:/ { print int($2 / 1024) }' /proc/meminfo)
	n=$((mem_mb / (NX_VM_MEM + 512)))
	[ "$n" -lt "$cores" ] || n=$cores
	[ "$n" -ge 1 ] || n=1
	echo "$n"
}

parse_args() {
	local matrix=0
	while [ $# -gt 0 ]; do
		case $1 in
		--vm) NX_MODE=vm ;;
		--host) NX_MODE=host ;;
		--restore) NX_RESTORE=1 ;;
		--jobs) need_value "$@"; NX_JOBS=$2; shift ;;
		--kernel) need_value "$@"; add_kernel "$2"; shift ;;
		--mmu) need_value "$@"; add_mmu "$2"; shift ;;
		--matrix) matrix=1 ;;
		--perf) NX_PERF=1 ;;
		--modules) need_value "$@"; NX_MODULES=$2; shift ;;
		--kvm-src) need_value "$@"; NX_KVM_SRC=$2; shift ;;
		--list) NX_LIST=1 ;;
		--test) need_value "$@"; NX_FILTERS+=("$2"); shift ;;
		--results) need_value "$@"; NX_RESULTS=$2; shift ;;
		--compare) need_value "$@"; NX_COMPARE=$2; shift ;;
		--repeat) need_value "$@"; NX_REPEAT=$2; shift ;;
		--sabotage) need_value "$@"; NX_SABOTAGE+=("$2"); shift ;;
		-h | --help) usage; exit 0 ;;
		*) usage_error "unknown option '$1'" ;;
		esac
		shift
	done
	if [ $matrix = 1 ]; then
		[ ${#NX_KERNEL_SPECS[@]} -gt 0 ] || [ -n "$NX_KERNEL" ] ||
			NX_KERNEL_SPECS=(6.1 6.12 7.3)
		[ ${#NX_MMU_MODES[@]} -gt 0 ] || NX_MMU_MODES=(tdp legacy shadow)
	fi
	if [ -n "$NX_KERNEL" ] && [ ${#NX_KERNEL_SPECS[@]} -gt 0 ]; then
		usage_error "--kernel PATH and --kernel debian:SPEC exclude each other"
	fi
	if [ "$NX_MODE" = host ] && { [ ${#NX_KERNEL_SPECS[@]} -gt 0 ] ||
	   [ ${#NX_MMU_MODES[@]} -gt 0 ]; }; then
		usage_error "--kernel debian:, --mmu and --matrix work in VM mode only"
	fi
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
		# The series scripts/build_kvm_modules.sh builds for.
		if [ "$NX_MODE" != vm ] || [ -n "$NX_KERNEL" ] ||
		   [ ${#NX_KERNEL_SPECS[@]} -gt 1 ] ||
		   [[ ${NX_KERNEL_SPECS[0]:-6.12} != 6.12* && ${NX_KERNEL_SPECS[0]:-6.12} != 7.3* ]]; then
			usage_error "--kvm-src works with one Debian kernel of series 6.12 or 7.3 (the default or --kernel debian:SPEC) in VM mode only"
		fi
	fi
	[[ $NX_REPEAT =~ ^[1-9][0-9]{0,3}$ ]] ||
		usage_error "--repeat $NX_REPEAT: expected a number of runs (1-9999)"
	[ -n "$NX_RUN_TIMEOUT_SET" ] || NX_RUN_TIMEOUT=$((NX_RUN_TIMEOUT * NX_REPEAT))
	if [ -n "$NX_COMPARE" ]; then
		find "$NX_COMPARE" -name ktap.log -print -quit 2>/dev/null | grep -q . ||
			usage_error "--compare $NX_COMPARE: no results (ktap.log) there"
	fi
	if [ -n "$NX_JOBS" ]; then
		[[ $NX_JOBS =~ ^[1-9][0-9]*$ ]] || usage_error "--jobs $NX_JOBS: expected a number of VMs"
		[ "$NX_MODE" = vm ] || usage_error "--jobs works in VM mode only"
	else
		NX_JOBS=$(default_jobs)
	fi
	case ${NX_ACCEL:-auto} in
	auto | kvm | tcg) ;;
	*) usage_error "NX_ACCEL=$NX_ACCEL: expected kvm or tcg" ;;
	esac
	local s
	for s in "${NX_SABOTAGE[@]}"; do
		[[ $s =~ ^kvm(_amd|_intel)?\.[a-z0-9_]+=[A-Za-z0-9_.+-]+$ ]] ||
			usage_error "--sabotage $s: expected MODULE.PARAM=VALUE"
	done
	if [ "$NX_MODE" = host ] && [ ${#NX_SABOTAGE[@]} -gt 0 ]; then
		usage_error "--sabotage works in VM mode only"
	fi
}

# The framework series of every kernel the run boots (--kernel
# debian:SPEC, --kernel PATH by its release, the host's), one a line: a
# kernel's series depends on the kernel only.
kernel_series() {
	local spec release
	for spec in "${NX_KERNEL_SPECS[@]}"; do
		series_of_spec "$spec"
	done
	if [ "$NX_MODE" = host ]; then
		series_of_release "$(uname -r)"
	elif [ -n "$NX_KERNEL" ]; then
		release=$(nx_bzimage_release "$NX_KERNEL") && series_of_release "$release"
	fi
	return 0
}

# Build the suite unless the caller provides the binaries (NX_NO_BUILD=1):
# against the 6.12 framework (the catalogue --test selects from), and
# against the framework of each kernel's series (make SERIES=6.1, 7.3).
# A series that fails to build leaves its kernels without tests, which
# run_kernel reports.
build_suite() {
	local s
	[ "${NX_NO_BUILD:-0}" = 1 ] && return 0
	"$NX_TOP/scripts/install_deps.sh" suite >&2 || return 1
	if [ "$NX_PERF" = 1 ] && [ "$NX_MODE" = vm ]; then
		"$NX_TOP/scripts/install_deps.sh" perf >&2 ||
			echo "nx: --perf: perf's libraries could not be installed" >&2
	fi
	make -C "$NX_TOP" -s all >&2 || return 1
	for s in $(kernel_series | sort -u); do
		[ "$s" = 6.12 ] && continue
		make -C "$NX_TOP" -s SERIES="$s" all >&2 ||
			echo "nx: make SERIES=$s failed" >&2
	done
}

# The cases of SEL that the tests built for the kernel of KREC (its
# series) offer, into CAT; the build used goes into KREC (suite_series,
# suite_build) and is said.  Prints why there is none to run and returns
# 1: no build of that series, a binary whose -l failed, or a selection
# none of whose cases that build offers.
kernel_cases() {
	local krec=$1 sel=$2 cat=$3 series dir src
	series=$(framework_series "$(nx_krec_get "$krec" series)")
	dir=$(suite_build_dir "$series") || { echo "$dir"; return 1; }
	nx_krec_set "$krec" suite_series "$series"
	nx_krec_set "$krec" suite_build "$dir"
	catalogue_for "$dir" "$sel" 2>"$cat.err" >"$cat" || {
		echo "the tests in $dir cannot list their cases: $(cat "$cat.err")"
		return 1
	}
	rm -f "$cat.err"
	if [ ! -s "$cat" ]; then
		echo "none of the $(grep -c . "$sel") selected cases is offered by the tests in $dir"
		return 1
	fi
	src=$(cat "$dir/.debian-source" 2>/dev/null)
	echo "nx: tests built against the $series framework:" \
		"${dir#"$NX_TOP"/}${src:+ ($src)}" >&2
}

on_signal() {
	echo "nx: interrupted by SIG$1" >&2
	nx_vm_kill_all
	[ -z "$NX_TIMER_PID" ] || kill "$NX_TIMER_PID" 2>/dev/null
	if [ -n "$NX_CASES_PID" ]; then
		kill -TERM "$NX_CASES_PID" 2>/dev/null
		wait "$NX_CASES_PID"
	fi
	nx_state_restore
	[ -z "$NX_RUN_TMP" ] || rm -rf "$NX_RUN_TMP"
	trap - EXIT
	exit 1
}

# The VM's run.conf (scripts/vm/run_conf.sh) into FILE: the options the
# guest acts on, written once per run.
write_run_conf() {
	local f=$1
	: >"$f" &&
		nx_kv_set "$f" hugepages "$NX_HUGEPAGES" &&
		nx_kv_set "$f" test_timeout "$NX_TEST_TIMEOUT" &&
		nx_kv_set "$f" sabotage "${NX_SABOTAGE[*]}" &&
		nx_kv_set "$f" mmu_modes "${NX_MMU_MODES[*]}" &&
		nx_kv_set "$f" perf "$NX_PERF" &&
		nx_kv_set "$f" repeat "$NX_REPEAT" &&
		nx_kv_set "$f" passtrace_dump "${NX_PASSTRACE_DUMP:-}"
}

# The kernel of a run into record KREC (kernel, modules; with SPEC, a
# Debian one, what scripts/debian_kernel.sh says of it; else --kernel
# PATH, else the default).  Prints why not.
fetch_kernel() {
	local spec=$1 krec=$2 out
	if [ -n "$spec" ]; then
		if ! out=$("$NX_TOP/scripts/debian_kernel.sh" "$spec") ||
		   ! nx_krec_put "$krec" <<<"$out"; then
			echo "could not fetch Debian kernel $spec"
			return 1
		fi
	elif [ -n "$NX_KERNEL" ]; then
		nx_krec_set "$krec" kernel "$NX_KERNEL"
		nx_krec_set "$krec" modules "$NX_MODULES"
	else
		nx_vm_default_kernel "$krec" || { echo "could not fetch the kernel"; return 1; }
	fi
	# Rebuilt modules that win over the kernel's (run_canaries.sh).
	[ -z "${NX_MODULES_OVERRIDE:-}" ] ||
		nx_krec_set "$krec" modules_override "$NX_MODULES_OVERRIDE"
}

# --kvm-src: kvm.ko and kvm-amd.ko rebuilt from NX_KVM_SRC for the kernel
# of KREC, which boots with them.  Returns build_kvm_modules.sh's status
# (2: a tree of another version than the kernel, refused).
rebuild_kvm() {
	local krec=$1 out=$NX_CACHE/kvm-modules rc
	[ -n "$NX_KVM_SRC" ] || return 0
	"$NX_TOP/scripts/build_kvm_modules.sh" --release "$(nx_krec_get "$krec" release)" \
		"$NX_KVM_SRC" "$out"
	rc=$?
	[ $rc = 0 ] || return $rc
	nx_krec_set "$krec" modules_override "$out"
	# The headers it built against (build_kvm_modules.sh names them).
	nx_krec_set "$krec" deb_headers "$(cat "$out/.debian-headers" 2>/dev/null)"
}

# Boot the VMs of a kernel (KREC) in KDIR, the cases of CAT dealt out over
# them (shard_cases), each with the run's RUNCONF; then split and merge
# their results into the cells' results.raw.  Returns 0, 1 (a VM died or
# hung), or 125 after writing the infrastructure failure.
boot_kernel() {
	local krec=$1 kdir=$2 cat=$3 runconf=$4 flat=$5
	local vms vdir rc nmodes=${#NX_MMU_MODES[@]}
	vms=$(shard_cases "$cat" "$kdir" "$NX_JOBS" "$NX_RESULTS") || return 125
	for vdir in $vms; do
		nx_build_initramfs "$vdir/initramfs.cpio" "$vdir/cases.txt" \
			"$runconf" "$krec" || {
			infra_failure "$kdir" "could not build the initramfs" "$krec"
			return
		}
	done
	# shellcheck disable=SC2086 # one folder per word
	nx_vm_boot_all "$krec" "$(($(grep -c . "$cat") * (nmodes ? nmodes : 1)))" $vms
	rc=$?
	for vdir in $vms; do
		rm -f "$vdir/initramfs.cpio"
	done
	if [ $rc -eq 125 ]; then
		infra_failure "$kdir" "$(nx_krec_get "$krec" infra_why)" "$krec"
		return
	fi
	# shellcheck disable=SC2086 # one folder per word
	merge_shards "$cat" "$kdir" "$flat" "${NX_MMU_MODES[*]}" $vms
	return $rc
}

# A kernel that failed before it had a results folder: REASON in a new
# one for LABEL (under TOP, or NX_RESULTS).  Returns 125.
early_failure() {
	local top=$1 label=$2 reason=$3 krec=$4 dir
	dir=$(kernel_results_dir "$top" "$label" "$NX_RESULTS") || return 125
	infra_failure "$dir" "$reason" "$krec" "$label"
}

# One kernel (a Debian SPEC, or "" for --kernel PATH or the default):
# fetch it, build the initramfs with the tests of its framework series,
# boot it and summarize each cell.  Results go to a new folder under
# NX_RESULTS, or with TOP set (several cells) to TOP/<release>/<mode>/.
# Appends a line "RC LABEL/MODE=DIR" per cell to the file CELLS.  TMP is
# the run's scratch folder: the kernel's record, the accelerator chosen
# (accel.env) and the VMs' run.conf are there.
run_kernel() {
	local spec=$1 sel=$2 top=$3 cells=$4 tmp=$5
	local krec kdir cat why release series rc crc m cdir flat=0 label
	label=${spec:+debian-$spec}
	label=${label:-kernel}
	krec=$(mktemp "$tmp/kernel.XXXXXX") || return 125
	nx_krec_set "$krec" mode vm
	# Here, not first in fetch_kernel's subshell: asking the archive takes
	# a second, and the initramfs needs the answer again.
	nx_debian_versions ||
		{ early_failure "$top" "$label" "could not resolve Debian's builds" "$krec"; return; }
	why=$(fetch_kernel "$spec" "$krec") ||
		{ early_failure "$top" "$label" "$why" "$krec"; return; }
	release=$(nx_bzimage_release "$(nx_krec_get "$krec" kernel)") || {
		early_failure "$top" "$label" "$(nx_krec_get "$krec" kernel) is not a bzImage" "$krec"
		return
	}
	nx_krec_set "$krec" release "$release"
	rebuild_kvm "$krec"
	case $? in
	0) ;;
	2) return 2 ;;
	*) early_failure "$top" "$label" "could not build kvm modules from $NX_KVM_SRC" "$krec"; return ;;
	esac
	series=$(nx_krec_get "$krec" series) || series=$(series_of_release "$release")
	nx_krec_set "$krec" series "$series"
	# Column label of the kernel: 6.12.117, 6.1.0-56.
	label=${release%-amd64}
	label=${label%+deb*}
	kdir=$(kernel_results_dir "$top" "$release" "$NX_RESULTS") || return 125
	[ -n "$top" ] || flat=1
	nx_vm_accel "$krec" "$tmp/accel.env" || {
		infra_failure "$kdir" "$(nx_krec_get "$krec" accel_why)" "$krec"
		return
	}
	cat=$kdir/cases.txt
	why=$(kernel_cases "$krec" "$sel" "$cat") || {
		rm -f "$cat"
		infra_failure "$kdir" "$why" "$krec"
		return
	}
	boot_kernel "$krec" "$kdir" "$cat" "$tmp/run.conf" "$flat"
	rc=$?
	[ $rc = 125 ] && return 125
	for m in "${NX_MMU_MODES[@]:-tdp}"; do
		if [ $flat = 1 ]; then
			cdir=$kdir
		else
			cdir=$kdir/$m
			echo "nx: cell $label/$m"
		fi
		summarize "$cdir" "$cdir/results.raw" "$m" "$cat" "$krec"
		crc=$?
		# Several VMs (shard_cases made vm-1...): which one ran what.
		[ -d "$kdir/vm-1" ] && name_vm_consoles "$cdir/ktap.log" "$kdir"
		# A guest that died or hung fails the cell it was in.
		[ $crc = 0 ] && crc=$rc
		echo "$crc $label/$m=$cdir" >>"$cells"
		rm -f "$cdir/results.raw"
	done
	rm -f "$kdir/results.raw" "$cat"
	return 0
}

# Every kernel of the run (--kernel) under every MMU mode (--mmu), the
# cases of SEL; TMP the run's scratch folder.  With several cells, their
# table goes to TOP/matrix.txt.  The run's results folder (TOP, else the
# one cell's) goes to TMP/run_dir.  Returns combine_rc of the cells.
run_vm() {
	local sel=$1 tmp=$2 top='' spec rc ncells t0 n m cells=$2/cells
	local -a specs=("${NX_KERNEL_SPECS[@]}") rcs=() table=()
	[ ${#specs[@]} -gt 0 ] || specs=("")
	ncells=$((${#specs[@]} * (${#NX_MMU_MODES[@]} > 1 ? ${#NX_MMU_MODES[@]} : 1)))
	if [ $ncells -gt 1 ]; then
		top=$(new_results_dir "$NX_RESULTS" matrix) || return 125
	fi
	: >"$cells"
	t0=$(date +%s%N)
	for spec in "${specs[@]}"; do
		n=$(grep -c . "$cells")
		run_kernel "$spec" "$sel" "$top" "$cells" "$tmp"
		rc=$?
		[ $rc = 0 ] || rcs+=("$rc")
		# A kernel that did not boot: its cells show as not run.
		if [ "$(grep -c . "$cells")" = "$n" ]; then
			for m in "${NX_MMU_MODES[@]:-tdp}"; do
				echo "- ${spec:-kernel}/$m=/nonexistent" >>"$cells"
			done
		fi
	done
	mapfile -t table < <(cut -d' ' -f2- "$cells")
	mapfile -t -O ${#rcs[@]} rcs < <(cut -d' ' -f1 "$cells" | grep -vx -- -)
	if [ -n "$top" ]; then
		echo "$top" >"$tmp/run_dir"
	else
		grep -v '^- ' "$cells" | head -n 1 | cut -d= -f2- >"$tmp/run_dir"
	fi
	if [ -n "$top" ]; then
		{
			"$NX_BUILD/nx_summary" --table "${table[@]}"
			echo "matrix wall time: $(nx_seconds_between "$t0" "$(date +%s%N)") s" \
				"(${#specs[@]} kernels, ${#table[@]} cells, $NX_JOBS VMs at once)"
		} >"$top/matrix.txt"
		echo "nx: matrix (kernel/mmu), results in $top"
		cat "$top/matrix.txt"
	fi
	combine_rc "${rcs[@]}"
}

# --perf on the host: Debian's perf if it runs here (exported for
# run_cases.sh, named in KREC), otherwise the reason every case reports.
perf_on_host() {
	local krec=$1 bin
	[ "$NX_PERF" = 1 ] || return 0
	if nx_fetch_perf "$krec"; then
		bin=$(nx_krec_get "$krec" perf_bin)
		nx_perf_setup "$bin" "no perf at $bin"
	else
		export NX_PERF_SKIP="could not fetch linux-perf"
	fi
}

# Wait for the cases running on the host (NX_CASES_PID) for LIMIT seconds
# at most; then stop them as a signal would (run_cases.sh stops its case,
# whose harness restores what it changed).  The timer is a process of its
# own (NX_TIMER_PID, without the state lock) and both are waited for by
# the builtin wait, which a signal interrupts at once: a foreground sleep
# would hold the run's SIGINT back until it ended, and bash then drops it.
# 0: they ended, 1: stopped.
wait_cases() {
	local limit=$1 ended
	(exec {NX_STATE_LOCK_FD}>&- && exec sleep "$limit") &
	NX_TIMER_PID=$!
	wait -n -p ended "$NX_CASES_PID" "$NX_TIMER_PID"
	if [ "$ended" = "$NX_TIMER_PID" ]; then
		NX_TIMER_PID=
		kill -TERM "$NX_CASES_PID" 2>/dev/null
		wait "$NX_CASES_PID"
		return 1
	fi
	kill "$NX_TIMER_PID" 2>/dev/null
	wait "$NX_TIMER_PID" 2>/dev/null
	NX_TIMER_PID=
	return 0
}

# The cases of SEL that the tests of this kernel's series offer, on this
# machine's KVM, the host state saved before and restored after (also by
# main's EXIT trap and on_signal); TMP the run's scratch folder, where
# run_dir names the results folder.
run_host() {
	local sel=$1 tmp=$2 krec=$2/host.env cat=$2/cases.txt dir raw rc t0 why
	[ "$(id -u)" = 0 ] || { echo "nx: SKIP --host needs root"; return 4; }
	[ -c /dev/kvm ] || { echo "nx: SKIP --host needs /dev/kvm"; return 4; }
	nx_krec_set "$krec" mode host
	nx_krec_set "$krec" release "$(uname -r)"
	nx_krec_set "$krec" series "$(series_of_release "$(uname -r)")"
	dir=$(new_results_dir "$NX_RESULTS" "$(uname -r)") || return 1
	echo "$dir" >"$tmp/run_dir"
	why=$(kernel_cases "$krec" "$sel" "$cat") || {
		infra_failure "$dir" "$why" "$krec"
		return
	}
	raw=$dir/results.raw
	# A run killed before it could restore (SIGKILL) left a journal.
	nx_state_recover || { echo "nx: could not restore a killed run's host state" >&2; return 125; }
	nx_state_save || { echo "nx: could not save the host state" >&2; return 125; }
	# Cases that write what cannot be restored (nx_huge_pages=never sticks
	# until kvm.ko is reloaded) skip here: this host is not declared
	# disposable (only the suite's VM declares it, NX_DISPOSABLE_HOST).
	nx_state_set kernel/mm/hugepages/hugepages-2048kB/nr_hugepages "$NX_HUGEPAGES"
	perf_on_host "$krec"
	t0=$(date +%s%N)
	# In the background, so that a signal is handled at once (on_signal).
	# The KTAP to RAW, the side files (perf/) to the results folder.
	NX_REPEAT=$NX_REPEAT NX_SIDE_DIR=$dir NX_SUMMARY=$NX_BUILD/nx_summary \
		"$NX_TOP/scripts/run_cases.sh" "$cat" "$NX_TEST_TIMEOUT" >"$raw" &
	NX_CASES_PID=$!
	if ! wait_cases "$NX_RUN_TIMEOUT"; then
		echo "nx: the run did not finish within ${NX_RUN_TIMEOUT}s; stopped"
		nx_krec_set "$krec" missing_why \
			"the run did not finish within NX_RUN_TIMEOUT (${NX_RUN_TIMEOUT}s)"
	fi
	NX_CASES_PID=
	"$NX_BUILD/nx_summary" --ktap "$raw" --cases
	nx_krec_set "$krec" run_s "$(nx_seconds_between "$t0" "$(date +%s%N)")"
	nx_print_params >"$dir/params.txt"
	nx_state_restore || echo "nx: WARNING: host state not fully restored" >&2
	summarize "$dir" "$raw" "" "$cat" "$krec"
	rc=$?
	rm -f "$raw"
	return $rc
}

# On every exit: the host state back (a no-op unless --host saved it),
# the scratch folder gone.
on_exit() {
	nx_state_restore
	[ -z "$NX_RUN_TMP" ] || rm -rf "$NX_RUN_TMP"
}

# --compare: the results of the run (the folder named in RUN_DIR) against
# NX_COMPARE, whose exit status becomes the run's.  A run that could not
# produce results (RC 125) or was misused (2) keeps its RC: no gate may
# pass on results that are not there.
compare_run() {
	local run_dir=$1 rc=$2 dir
	[ -n "$NX_COMPARE" ] || return "$rc"
	case $rc in 2 | 125) return "$rc" ;; esac
	dir=$(cat "$run_dir" 2>/dev/null)
	[ -n "$dir" ] || { echo "nx: --compare: the run left no results" >&2; return 125; }
	echo "nx: compared with $NX_COMPARE"
	"$NX_BUILD/nx_summary" --compare "$NX_COMPARE" "$dir"
}

main() {
	local all sel rc a
	# Bisection picks the kernels and comes back here for each step.
	for a in "$@"; do
		case $a in
		--bisect | --bisect=* | --bisect-debian)
			exec "$NX_TOP/scripts/bisect.sh" "$@" ;;
		esac
	done
	parse_args "$@"
	if [ "$NX_RESTORE" = 1 ]; then
		[ "$(id -u)" = 0 ] || { echo "nx: --restore needs root" >&2; exit 2; }
		nx_state_recover
		exit $?
	fi
	build_suite || { echo "nx: build failed" >&2; exit 125; }
	NX_RUN_TMP=$(mktemp -d "${TMPDIR:-/tmp}/nx-run.XXXXXX") || exit 125
	trap 'on_exit' EXIT
	all=$NX_RUN_TMP/catalogue sel=$NX_RUN_TMP/selected
	catalogue_all "$NX_BUILD" "$NX_RUN_TMP/listed" >"$all" ||
		{ echo "nx: the tests in $NX_BUILD cannot list their cases" >&2; exit 125; }
	if [ $NX_LIST = 1 ]; then
		cat "$NX_RUN_TMP/listed" 2>/dev/null
		exit 0
	fi
	(catalogue_select "$all" "${NX_FILTERS[@]}") >"$sel" || exit 2
	write_run_conf "$NX_RUN_TMP/run.conf" || exit 125
	# A signal kills the VM and restores the host (--host) before exiting.
	trap 'on_signal INT' INT
	trap 'on_signal TERM' TERM
	trap 'on_signal HUP' HUP
	if [ "$NX_MODE" = vm ]; then
		run_vm "$sel" "$NX_RUN_TMP"
	else
		run_host "$sel" "$NX_RUN_TMP"
	fi
	rc=$?
	compare_run "$NX_RUN_TMP/run_dir" "$rc"
	exit
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
