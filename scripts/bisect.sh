#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Bisection for run_nx_tests.sh (which execs this for --bisect*).
#
#   --bisect[=TREE]          one `git bisect run` step: build the kernel at
#                            TREE's checkout (default: the git tree holding
#                            the current directory) with a small config
#                            (tinyconfig + configs/nx-bisect.config, KVM
#                            built in), boot it, run the tests.
#                            Exit 0 good, 1 bad, 125 skip (could not build
#                            or boot, all tests skipped, or a verdict that
#                            changed on a rerun), 128 abort (usage, setup).
#   --bisect-debian GOOD BAD binary search over the Debian kernel versions
#                            of one series between GOOD (tests pass) and
#                            BAD (a test fails, checked first); prints the
#                            first bad one.  Exit 0 found, 1 undecided
#                            (skips) or BAD passes, 2 usage or abort.
#   --bisect-runs N          run the tests N times per step (default 1); the
#                            verdict must be unanimous, and a failure always
#                            needs a second run that fails too.
#
# Other options (--test, --results, --sabotage) go to run_nx_tests.sh.
set -uo pipefail

NX_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NX_CACHE=${NX_CACHE:-$NX_TOP/.cache}
NX_RUNNER=${NX_RUNNER:-$NX_TOP/run_nx_tests.sh}
# The results reader (make tools builds it).
NX_SUMMARY=${NX_SUMMARY:-$NX_TOP/build/nx_summary}
NX_DEBIAN_KERNEL=${NX_DEBIAN_KERNEL:-$NX_TOP/scripts/debian_kernel.sh}
NX_BISECT_FRAGMENT=${NX_BISECT_FRAGMENT:-$NX_TOP/configs/nx-bisect.config}
NX_BISECT_JOBS=${NX_BISECT_JOBS:-2}
# git bisect run aborts on an exit code of 128 or more.
NX_BISECT_ABORT=128
# shellcheck source=scripts/cli.sh
. "$NX_TOP/scripts/cli.sh"

NX_BISECT_MODE=
NX_BISECT_TREE=
NX_BISECT_GOOD=
NX_BISECT_BAD=
NX_BISECT_RUNS=1
NX_BISECT_RESULTS=
NX_PASS=()

bisect_log() {
	echo "nx-bisect: $*" >&2
}

# A usage error aborts a `git bisect run`; otherwise exit 2.
bisect_usage_error() {
	if [ "$NX_BISECT_MODE" = git ]; then
		nx_usage_error $NX_BISECT_ABORT "$@"
	fi
	nx_usage_error 2 "$@"
}

bisect_need_value() {
	nx_has_value "$@" || bisect_usage_error "$1 needs a value"
}

bisect_parse_args() {
	local a
	# The mode first: it decides how a usage error exits.
	for a in "$@"; do
		case $a in
		--bisect | --bisect=*) NX_BISECT_MODE=git ;;
		--bisect-debian) NX_BISECT_MODE=debian ;;
		esac
	done
	while [ $# -gt 0 ]; do
		case $1 in
		--bisect) ;;
		--bisect=*)
			NX_BISECT_TREE=${1#--bisect=}
			[ -n "$NX_BISECT_TREE" ] ||
				bisect_usage_error "--bisect= needs a tree"
			;;
		--bisect-debian)
			bisect_need_value "$@"
			bisect_need_value "$1" "${3:-}"
			NX_BISECT_GOOD=$2 NX_BISECT_BAD=$3
			shift 2
			;;
		--bisect-runs)
			bisect_need_value "$@"
			[[ $2 =~ ^[1-9][0-9]*$ ]] ||
				bisect_usage_error "--bisect-runs $2: expected a count"
			NX_BISECT_RUNS=$2
			shift
			;;
		--test | --sabotage)
			bisect_need_value "$@"
			NX_PASS+=("$1" "$2")
			shift
			;;
		--results)
			bisect_need_value "$@"
			NX_BISECT_RESULTS=$2
			shift
			;;
		-h | --help) exec "$NX_RUNNER" --help ;;
		--kernel | --modules | --kvm-src | --host | --vm | --list)
			bisect_usage_error "$1 does not go with bisection (it picks the kernel)"
			;;
		*) bisect_usage_error "unknown option '$1'" ;;
		esac
		shift
	done
	if [ "$NX_BISECT_MODE" = git ] && [ -n "$NX_BISECT_GOOD" ]; then
		bisect_usage_error "--bisect and --bisect-debian exclude each other"
	fi
}

# Build folder of TREE: one per tree path, so that successive steps of a
# bisection rebuild incrementally.
bisect_build_dir() {
	local real
	real=$(cd "$1" && pwd -P) || return 1
	printf '%s/bisect/%s-%s\n' "$NX_CACHE" "$(basename "$real")" \
		"$(printf '%s' "$real" | sha1sum | cut -c1-8)"
}

# The fragment as Kconfig reads it (without the "# required" notes), and
# the list of its required lines.
bisect_fragment() {
	sed 's/[[:space:]]*#.*$//; /^$/d' "$NX_BISECT_FRAGMENT"
}

bisect_required() {
	sed -n 's/[[:space:]]*#[[:space:]]*required[[:space:]]*$//p' \
		"$NX_BISECT_FRAGMENT"
}

bisect_make() {
	local tree=$1 out=$2
	shift 2
	# Fixed build identity: the same commit gives the same objects, so
	# ccache hits and init/version.c does not change from step to step.
	KBUILD_BUILD_TIMESTAMP=@0 KBUILD_BUILD_USER=nx KBUILD_BUILD_HOST=bisect \
		CCACHE_DIR=${CCACHE_DIR:-$NX_CACHE/ccache} CCACHE_BASEDIR=$tree \
		make -C "$tree" O="$out" ARCH=x86_64 CC="ccache gcc" \
		HOSTCC="ccache gcc" "$@"
}

# .config of the checkout: tinyconfig plus the fragment, generated afresh
# every step (so it depends on the commit only) and put in place only when
# it differs, to keep the build incremental.  1: a required option did not
# stick (this commit cannot run the suite).
bisect_config() {
	local tree=$1 out=$2 gen=$2/nx-config line
	# The folder stays between steps: its kconfig tools are built once.
	mkdir -p "$gen" && rm -f "$gen/.config" || return 1
	bisect_make "$tree" "$gen" -s tinyconfig || return 1
	bisect_fragment >"$gen/fragment"
	(cd "$gen" && "$tree/scripts/kconfig/merge_config.sh" -m -O "$gen" \
		"$gen/.config" "$gen/fragment") >"$gen/merge.log" 2>&1 || return 1
	bisect_make "$tree" "$gen" -s olddefconfig || return 1
	while read -r line; do
		grep -qx "$line" "$gen/.config" || {
			bisect_log "$line did not stick in this tree's config"
			return 1
		}
	done < <(bisect_required)
	if ! cmp -s "$gen/.config" "$out/.config"; then
		cp "$gen/.config" "$out/.config" || return 1
	fi
}

# Build TREE into OUT; the log goes to OUT/build.log.
bisect_build() {
	local tree=$1 out=$2
	mkdir -p "$out" || return 1
	bisect_config "$tree" "$out" || return 1
	bisect_make "$tree" "$out" -j"$NX_BISECT_JOBS" bzImage \
		>"$out/build.log" 2>&1 || {
		tail -n 20 "$out/build.log" >&2
		return 1
	}
	# KVM is built in: the runner must not look for modules.
	mkdir -p "$out/nx-modules" &&
		printf 'kernel/arch/x86/kvm/%s.ko\n' kvm kvm-amd kvm-intel \
			>"$out/nx-modules/modules.builtin"
}

# One run of the tests on the kernel chosen by "$@" (runner options):
# the runner's exit code (0 pass, 1 fail, 4 all skipped, 125 no boot).
# Its results go to a folder of their own (under --results, kept; else
# removed after), which nx_summary reads: sets NX_BISECT_SIG to the run's
# failures with their reasons, numbers masked (addresses and counts vary,
# the reason not).
bisect_run_once() {
	local dir rc
	if [ -n "${NX_BISECT_RESULTS:-}" ]; then
		mkdir -p "$NX_BISECT_RESULTS" &&
			dir=$(mktemp -d "$NX_BISECT_RESULTS/step.XXXXXX") || return 125
	else
		dir=$(mktemp -d "${TMPDIR:-/tmp}/nx-bisect.XXXXXX") || return 125
	fi
	NX_NO_BUILD=${NX_BISECT_NO_BUILD:-${NX_NO_BUILD:-0}} \
		"$NX_RUNNER" "$@" ${NX_PASS[@]+"${NX_PASS[@]}"} --results "$dir" >&2
	rc=$?
	NX_BISECT_SIG=$("$NX_SUMMARY" --results "$dir" --signature 2>/dev/null)
	[ -n "${NX_BISECT_RESULTS:-}" ] || rm -rf "$dir"
	return "$rc"
}

# A boot whose TSC calibration failed (the small kernel has no HPET or
# ACPI PM timer to calibrate against, and a loaded host can spoil it) gives
# KVM no TSC frequency, and every test fails creating its vCPU.  That says
# nothing about the commit: such a run does not count.
bisect_boot_broken() {
	case $NX_BISECT_SIG in
	*"KVM_GET_TSC_KHZ did not provide a valid TSC frequency"*) return 0 ;;
	esac
	return 1
}

bisect_deps() {
	"$NX_TOP/scripts/install_deps.sh" bisect >&2
}

# Verdict of a step from its runs, deterministic by construction: the
# tests run NX_BISECT_RUNS times, a failure is always confirmed by one
# more run, and only a unanimous result counts: the same tests failing
# for the same reasons.  A test that passes once and fails once on the
# same kernel, or fails for another reason (a boot whose TSC calibration
# failed, say), would make the step flip on a rerun; such a step is
# skipped (125) instead of steering the search.  0 good, 1 bad, 125 skip.
bisect_verdict() {
	local i=0 rc pass=0 fail=0 runs=$NX_BISECT_RUNS sig='' broken=0
	while [ $i -lt "$runs" ]; do
		bisect_run_once "$@"
		rc=$?
		if [ "$rc" = 1 ] && bisect_boot_broken; then
			broken=$((broken + 1))
			bisect_log "the guest kernel has no TSC frequency (its calibration failed): boot again"
			[ $broken -lt 3 ] && continue
			bisect_log "$broken boots without a TSC frequency: skip"
			return 125
		fi
		i=$((i + 1))
		case $rc in
		0) pass=$((pass + 1)) ;;
		1)
			fail=$((fail + 1))
			[ "$runs" -ge 2 ] || runs=2
			if [ $fail -eq 1 ]; then
				sig=$NX_BISECT_SIG
			elif [ "$NX_BISECT_SIG" != "$sig" ]; then
				bisect_log "failed differently on a rerun: skip"
				printf '  %s\n' "$sig" "--- then ---" "$NX_BISECT_SIG" >&2
				return 125
			fi
			;;
		4) bisect_log "all tests skipped on this kernel: skip"; return 125 ;;
		2) bisect_log "the runner refused its options: abort"; return $NX_BISECT_ABORT ;;
		*) bisect_log "no verdict (runner exit $rc): skip"; return 125 ;;
		esac
	done
	if [ $fail -eq 0 ]; then
		bisect_log "good ($pass of $runs runs passed)"
		return 0
	fi
	if [ $pass -eq 0 ]; then
		bisect_log "bad ($fail of $runs runs failed)"
		return 1
	fi
	bisect_log "inconsistent ($fail of $runs runs failed): skip"
	return 125
}

# The kernel tree of a --bisect step: --bisect=TREE or the git tree that
# holds the current directory.
bisect_find_tree() {
	local tree=$NX_BISECT_TREE
	if [ -z "$tree" ]; then
		tree=$(git rev-parse --show-toplevel 2>/dev/null) || {
			bisect_log "not inside a git tree; run from the kernel tree or use --bisect=TREE"
			return 1
		}
	fi
	if [ ! -f "$tree/Makefile" ] || [ ! -d "$tree/arch/x86/kvm" ]; then
		bisect_log "$tree: not a Linux tree with arch/x86/kvm"
		return 1
	fi
	(cd "$tree" && pwd -P)
}

# Append one line per step to the build folder's steps.log.
bisect_note() {
	local out=$1 what=$2
	printf '%s %s %s\n' "$(date -u +%FT%TZ)" "$NX_BISECT_COMMIT" "$what" \
		>>"$out/steps.log"
}

# One `git bisect run` step.  Exit 0 good, 1 bad, 125 skip, 128 abort.
bisect_git_step() {
	local tree out t0 t1 rc
	tree=$(bisect_find_tree) || return $NX_BISECT_ABORT
	bisect_deps || return $NX_BISECT_ABORT
	# The suite does not change during a bisection: build it up front,
	# so that a broken suite aborts instead of skipping every commit.
	if [ "${NX_NO_BUILD:-0}" != 1 ]; then
		make -C "$NX_TOP" -s all >&2 || {
			bisect_log "the suite does not build: abort"
			return $NX_BISECT_ABORT
		}
	fi
	NX_BISECT_NO_BUILD=1
	NX_BISECT_COMMIT=$(git -C "$tree" rev-parse --short=12 HEAD 2>/dev/null ||
		echo worktree)
	out=$(bisect_build_dir "$tree") && mkdir -p "$out" ||
		return $NX_BISECT_ABORT
	bisect_log "building $tree at $NX_BISECT_COMMIT in $out"
	t0=$(date +%s)
	if ! bisect_build "$tree" "$out"; then
		bisect_log "kernel build failed (see $out/build.log): skip"
		bisect_note "$out" "skip build-failed $(($(date +%s) - t0))s"
		return 125
	fi
	t1=$(date +%s)
	bisect_log "built in $((t1 - t0))s"
	bisect_verdict --kernel "$out/arch/x86/boot/bzImage" \
		--modules "$out/nx-modules"
	rc=$?
	bisect_note "$out" "exit=$rc build=$((t1 - t0))s tests=$(($(date +%s) - t1))s"
	return $rc
}

# Series of a Debian kernel version: 6.12.113 -> 6.12, 6.1.0-56 -> 6.1.
bisect_series() {
	[[ $1 =~ ^([0-9]+\.[0-9]+)\. ]] || return 1
	printf '%s\n' "${BASH_REMATCH[1]}"
}

# A package-bisection step: the tests on Debian's kernel VERSION.
bisect_debian_step() {
	bisect_verdict --kernel "debian:$1"
}

# Binary search between GOOD and BAD over the series' versions (oldest
# first, from debian_kernel.sh --list), after checking that BAD fails.  NX_BISECT_STEP names the step
# command (default bisect_debian_step), called with a version: 0 good,
# 1 bad, 125 skip, 128 or more abort.  Exit 0: the first bad version is
# printed; 1: skipped versions leave several candidates (all printed).
bisect_debian() {
	local series step=${NX_BISECT_STEP:-bisect_debian_step}
	local -a vers=() skip=()
	local i g=-1 b=-1 m rc n=0 best list
	series=$(bisect_series "$NX_BISECT_GOOD") ||
		bisect_usage_error "$NX_BISECT_GOOD: not a Debian kernel version"
	[ "$(bisect_series "$NX_BISECT_BAD")" = "$series" ] ||
		bisect_usage_error "$NX_BISECT_GOOD and $NX_BISECT_BAD are not of one series"
	list=$("$NX_DEBIAN_KERNEL" --list "$series") || list=
	[ -n "$list" ] || bisect_usage_error "no version list for series $series"
	mapfile -t vers <<<"$list"
	for i in "${!vers[@]}"; do
		[ "${vers[$i]}" = "$NX_BISECT_GOOD" ] && g=$i
		[ "${vers[$i]}" = "$NX_BISECT_BAD" ] && b=$i
	done
	[ "$g" -ge 0 ] || bisect_usage_error "no version $NX_BISECT_GOOD in series $series (${vers[*]})"
	[ "$b" -ge 0 ] || bisect_usage_error "no version $NX_BISECT_BAD in series $series (${vers[*]})"
	[ "$g" -lt "$b" ] || bisect_usage_error "good $NX_BISECT_GOOD must be older than bad $NX_BISECT_BAD"
	bisect_log "$((b - g - 1)) versions between good ${vers[$g]} and bad ${vers[$b]}"
	# A bad end that passes would make the search name it anyway.
	bisect_log "step 1: ${vers[$b]} (is the bad end bad?)"
	"$step" "${vers[$b]}"
	rc=$?
	n=1
	case $rc in
	1) ;;
	0)
		bisect_log "${vers[$b]} passes: nothing to bisect"
		return 1
		;;
	*)
		bisect_log "${vers[$b]} could not be tested (exit $rc): nothing to bisect"
		return 2
		;;
	esac
	while [ $((b - g)) -gt 1 ]; do
		# The untested, unskipped version nearest the middle.
		best=
		for ((i = g + 1; i < b; i++)); do
			[ "${skip[$i]:-0}" = 1 ] && continue
			if [ -z "$best" ] ||
				[ $(((2 * i - g - b) ** 2)) -lt $(((2 * best - g - b) ** 2)) ]; then
				best=$i
			fi
		done
		[ -n "$best" ] || break
		m=$best
		n=$((n + 1))
		bisect_log "step $n: ${vers[$m]}"
		"$step" "${vers[$m]}"
		rc=$?
		case $rc in
		0) g=$m; bisect_log "${vers[$m]} is good" ;;
		1) b=$m; bisect_log "${vers[$m]} is bad" ;;
		125) skip[m]=1; bisect_log "${vers[$m]} skipped" ;;
		*)
			bisect_log "step ${vers[$m]} aborted (exit $rc)"
			return 2
			;;
		esac
	done
	if [ $((b - g)) -eq 1 ]; then
		bisect_log "first bad version after $n steps: ${vers[$b]} (last good: ${vers[$g]})"
		printf '%s\n' "${vers[$b]}"
		return 0
	fi
	bisect_log "undecided after $n steps: the first bad version is one of (skipped ones untestable):"
	printf '%s\n' "${vers[@]:$((g + 1)):$((b - g))}"
	return 1
}

bisect_main() {
	bisect_parse_args "$@"
	case $NX_BISECT_MODE in
	git) bisect_git_step ;;
	debian) bisect_debian ;;
	*) bisect_usage_error "bisect.sh needs --bisect or --bisect-debian" ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then bisect_main "$@"; exit $?; fi
