#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/bisect.sh without kernels: argument handling, the verdict of a
# step (exit-code mapping, reruns), and the Debian version search driven by
# a fake step and a fake version list.  Nothing is built or booted.

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2030/SC2031: each test sets its variables in its own subshell on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2030,SC2031,SC2154

load test_helper

setup() {
	FAKE=$BATS_TEST_TMPDIR
	# Versions of a fake 6.12 series, oldest first (debian_kernel.sh --list).
	cat >"$FAKE/debian_kernel.sh" <<-'EOF'
		#!/bin/bash
		[ "$1" = --list ] || exit 1
		case $2 in
		6.12) printf '6.12.%s\n' 100 101 102 103 104 105 106 107 108 109 110 ;;
		6.1) printf '6.1.0-%s\n' 47 48 49 50 ;;
		*) exit 1 ;;
		esac
	EOF
	# A step: bad from $FIRST_BAD on, 125 for the versions in $SKIP; each
	# call is logged.
	cat >"$FAKE/step" <<-'EOF'
		#!/bin/bash
		echo "$1" >>"$FAKE/steps"
		case " ${SKIP:-} " in *" $1 "*) exit 125 ;; esac
		[ "${1##*[.-]}" -ge "${FIRST_BAD##*[.-]}" ] && exit 1
		exit 0
	EOF
	chmod +x "$FAKE/debian_kernel.sh" "$FAKE/step"
	export FAKE NX_DEBIAN_KERNEL=$FAKE/debian_kernel.sh NX_BISECT_STEP=$FAKE/step
}

# run_nx ARG...: run_nx_tests.sh, which hands --bisect* to bisect.sh.
run_nx() {
	NX_NO_BUILD=1 NX_CACHE=$FAKE/cache capture "$NX_TOP/run_nx_tests.sh" "$@"
}

# A fake runner replaying the exit codes in $FAKE/codes, one per run.
fake_runner() {
	cat >"$FAKE/runner" <<-'EOF'
		#!/bin/bash
		echo "$*" >>"$FAKE/runs"
		n=$(wc -l <"$FAKE/runs")
		exit "$(sed -n "${n}p" "$FAKE/codes")"
	EOF
	chmod +x "$FAKE/runner"
	printf '%s\n' "$@" >"$FAKE/codes"
}

# verdict [--bisect-runs N] CODE...: bisect_verdict over runs exiting CODE...
verdict() {
	local runs=1
	if [ "$1" = --bisect-runs ]; then
		runs=$2
		shift 2
	fi
	fake_runner "$@"
	NX_RUNNER=$FAKE/runner NX_BISECT_RUNS=$runs capture bash -c \
		'. "$NX_TOP/scripts/bisect.sh"; NX_BISECT_RUNS=$1; bisect_verdict --kernel K' \
		_ "$runs"
}

runs_made() {
	if [ -e "$FAKE/runs" ]; then wc -l <"$FAKE/runs"; else echo 0; fi
}

@test "bisect: options that pick the kernel abort a git bisect step (128)" {
	for opt in "--kernel x" "--modules x" "--kvm-src x" "--host" "--list"; do
		# shellcheck disable=SC2086 # two words on purpose
		run_nx --bisect $opt
		assert_status 128
		[[ $stderr == *"does not go with bisection"* ]] ||
			flunk "$opt: $stderr"
	done
}

@test "bisect: a usage error aborts git bisect run (128), not 'bad' (2)" {
	run_nx --bisect --frobnicate
	assert_status 128
	run_nx --bisect --bisect-runs 0
	assert_status 128
	run_nx --bisect --test
	assert_status 128
}

@test "bisect: a folder that is no kernel tree aborts (128)" {
	mkdir -p "$FAKE/notlinux"
	run_nx --bisect="$FAKE/notlinux"
	assert_status 128
	[[ $stderr == *"not a Linux tree"* ]] || flunk "$stderr"
	cd "$FAKE/notlinux"
	run_nx --bisect
	assert_status 128
	[[ $stderr == *"not inside a git tree"* ]] || flunk "$stderr"
}

@test "bisect: a kernel that does not build is skipped (125)" {
	mkdir -p "$FAKE/linux/arch/x86/kvm"
	touch "$FAKE/linux/Makefile"
	fake_runner 0
	NX_NO_BUILD=1 NX_CACHE=$FAKE/cache NX_RUNNER=$FAKE/runner capture bash -c '
		. "$NX_TOP/scripts/bisect.sh"
		bisect_deps() { :; }
		bisect_build() { return 1; }
		NX_BISECT_TREE=$1 bisect_git_step' _ "$FAKE/linux"
	assert_status 125
	assert_eq "$(runs_made)" 0 "runs after a failed build"
	grep -q ' worktree skip build-failed ' "$FAKE"/cache/bisect/linux-*/steps.log
}

@test "bisect: a built kernel boots with --kernel and its built-in modules" {
	mkdir -p "$FAKE/linux/arch/x86/kvm"
	touch "$FAKE/linux/Makefile"
	fake_runner 0
	NX_NO_BUILD=1 NX_CACHE=$FAKE/cache NX_RUNNER=$FAKE/runner capture bash -c '
		. "$NX_TOP/scripts/bisect.sh"
		bisect_deps() { :; }
		bisect_build() { :; }
		NX_PASS=(--test "a*")
		NX_BISECT_TREE=$1 bisect_git_step' _ "$FAKE/linux"
	assert_status 0
	out=$(find "$FAKE/cache/bisect" -mindepth 1 -maxdepth 1 -name 'linux-*')
	# The results go to a folder of the step's own (nx_summary reads it).
	assert_eq "$(sed 's/ --results [^ ]*nx-bisect\.[^ ]*$/ --results DIR/' "$FAKE/runs")" \
		"--kernel $out/arch/x86/boot/bzImage --modules $out/nx-modules --test a* --results DIR"
}

@test "bisect: verdicts: pass good, confirmed failure bad, else skip" {
	verdict 0
	assert_status 0
	assert_eq "$(runs_made)" 1 "runs for a pass"
	rm "$FAKE/runs"
	verdict 1 1
	assert_status 1
	assert_eq "$(runs_made)" 2 "runs for a failure"
	rm "$FAKE/runs"
	verdict 1 0
	assert_status 125
	[[ $stderr == *"inconsistent"* ]] || flunk "$stderr"
	rm "$FAKE/runs"
	verdict 4
	assert_status 125
	rm "$FAKE/runs"
	verdict 125
	assert_status 125
	rm "$FAKE/runs"
	verdict 1 125
	assert_status 125
	rm "$FAKE/runs"
	verdict 2
	assert_status 128
}

# A fake runner that fails every run; run N's ktap.log, in a run folder
# under its --results DIR, holds line N of $FAKE/reasons.
reason_runner() {
	[ -x "$NX_TOP/build/nx_summary" ] || skip "build/nx_summary not built"
	cat >"$FAKE/runner" <<-'EOF'
		#!/bin/bash
		while [ $# -gt 0 ]; do
			[ "$1" = --results ] && dir=$2
			shift
		done
		echo x >>"$FAKE/runs"
		n=$(wc -l <"$FAKE/runs")
		mkdir -p "$dir/run-$n"
		sed -n "${n}p" "$FAKE/reasons" >"$dir/run-$n/ktap.log"
		exit 1
	EOF
	chmod +x "$FAKE/runner"
}

@test "bisect: a failure for another reason on the rerun is skipped" {
	reason_runner
	printf '%s\n' "not ok 1 a.b # after 12 passes: got 0x1f" \
		"not ok 1 a.b # after 9 passes: got 0x3" >"$FAKE/reasons"
	NX_RUNNER=$FAKE/runner capture bash -c \
		'. "$NX_TOP/scripts/bisect.sh"; bisect_verdict --kernel K'
	assert_status 1
	rm -f "$FAKE/runs"
	printf '%s\n' "not ok 1 a.b # after recovery: got 4112" \
		"not ok 1 a.b # KVM_GET_TSC_KHZ did not provide a valid TSC" \
		>"$FAKE/reasons"
	NX_RUNNER=$FAKE/runner capture bash -c \
		'. "$NX_TOP/scripts/bisect.sh"; bisect_verdict --kernel K'
	assert_status 125
	[[ $stderr == *"failed differently"* ]] || flunk "$stderr"
}

@test "bisect: a boot without a TSC frequency is booted again, not counted" {
	reason_runner
	tsc="not ok 1 a.b # KVM_GET_TSC_KHZ did not provide a valid TSC frequency."
	printf '%s\n' "$tsc" "not ok 1 a.b # after recovery: got 4112" \
		"not ok 1 a.b # after recovery: got 4112" >"$FAKE/reasons"
	NX_RUNNER=$FAKE/runner capture bash -c \
		'. "$NX_TOP/scripts/bisect.sh"; bisect_verdict --kernel K'
	assert_status 1
	assert_eq "$(runs_made)" 3 "runs"
	rm -f "$FAKE/runs"
	printf '%s\n' "$tsc" "$tsc" "$tsc" >"$FAKE/reasons"
	NX_RUNNER=$FAKE/runner capture bash -c \
		'. "$NX_TOP/scripts/bisect.sh"; bisect_verdict --kernel K'
	assert_status 125
	[[ $stderr == *"boots without a TSC frequency"* ]] || flunk "$stderr"
}

@test "bisect: --bisect-runs N needs N unanimous runs" {
	verdict --bisect-runs 3 0 0 0
	assert_status 0
	assert_eq "$(runs_made)" 3 "runs"
	rm "$FAKE/runs"
	verdict --bisect-runs 3 0 0 1
	assert_status 125
	rm "$FAKE/runs"
	verdict --bisect-runs 3 1 1 1
	assert_status 1
	assert_eq "$(runs_made)" 3 "runs"
}

@test "bisect-debian: finds the first bad version of every position in log2 steps" {
	for first in 101 102 103 104 105 106 107 108 109 110; do
		rm -f "$FAKE/steps"
		FIRST_BAD=6.12.$first run_nx --bisect-debian 6.12.100 6.12.110
		assert_status 0
		assert_eq "$output" "6.12.$first" "first bad version"
		# The bad end's check, then for 9 versions in between at most
		# ceil(log2(10)) = 4 steps.
		assert_eq "$(head -n 1 "$FAKE/steps")" 6.12.110 "first step"
		n=$(wc -l <"$FAKE/steps")
		[ "$n" -le 5 ] || flunk "$n steps for first bad 6.12.$first"
	done
}

@test "bisect-debian: adjacent versions need only the bad end's check" {
	FIRST_BAD=6.12.104 run_nx --bisect-debian 6.12.103 6.12.104
	assert_status 0
	assert_eq "$output" 6.12.104
	assert_eq "$(cat "$FAKE/steps")" 6.12.104 "steps"
}

@test "bisect-debian: a bad end that passes or cannot be tested ends it" {
	FIRST_BAD=6.12.111 run_nx --bisect-debian 6.12.100 6.12.110
	assert_status 1
	assert_eq "$output" ""
	[[ $stderr == *"6.12.110 passes: nothing to bisect"* ]] || flunk "$stderr"
	assert_eq "$(cat "$FAKE/steps")" 6.12.110 "steps"
	FIRST_BAD=6.12.105 SKIP=6.12.110 run_nx --bisect-debian 6.12.100 6.12.110
	assert_status 2
}

@test "bisect-debian: a skipped version is stepped around" {
	FIRST_BAD=6.12.107 SKIP=6.12.105 run_nx --bisect-debian 6.12.100 6.12.110
	assert_status 0
	assert_eq "$output" 6.12.107
}

@test "bisect-debian: a skip next to the first bad leaves both as candidates" {
	FIRST_BAD=6.12.106 SKIP=6.12.106 run_nx --bisect-debian 6.12.100 6.12.110
	assert_status 1
	assert_eq "$output" "6.12.106
6.12.107" "candidates"
}

@test "bisect-debian: works on the 6.1 series' ABI names" {
	FIRST_BAD=6.1.0-49 run_nx --bisect-debian 6.1.0-47 6.1.0-50
	assert_status 0
	assert_eq "$output" 6.1.0-49
}

@test "bisect-debian: refuses unknown, reversed and mixed versions (2)" {
	run_nx --bisect-debian 6.12.99 6.12.110
	assert_status 2
	[[ $stderr == *"no version 6.12.99"* ]] || flunk "$stderr"
	run_nx --bisect-debian 6.12.110 6.12.100
	assert_status 2
	[[ $stderr == *"must be older"* ]] || flunk "$stderr"
	run_nx --bisect-debian 6.1.0-47 6.12.110
	assert_status 2
	run_nx --bisect-debian 6.12.100
	assert_status 2
	run_nx --bisect-debian 6.12.100 6.12.110 --bisect
	assert_status 128
}

@test "bisect-debian: a step that aborts stops the search" {
	printf '#!/bin/bash\nexit 128\n' >"$FAKE/step"
	run_nx --bisect-debian 6.12.100 6.12.110
	assert_status 2
}

@test "bisect-debian: the default step boots --kernel debian:VERSION" {
	fake_runner 1 1 0
	NX_RUNNER=$FAKE/runner NX_BISECT_STEP='' run_nx \
		--bisect-debian 6.12.100 6.12.102 --test 'x*'
	assert_status 0
	assert_eq "$output" 6.12.102
	assert_eq "$(sed 's/ --results [^ ]*nx-bisect\.[^ ]*$/ --results DIR/' "$FAKE/runs")" \
		"--kernel debian:6.12.102 --test x* --results DIR
--kernel debian:6.12.102 --test x* --results DIR
--kernel debian:6.12.101 --test x* --results DIR" "runs"
}

# A fake kernel tree whose kconfig steps are shell: tinyconfig writes one
# line, merge_config.sh appends the fragment, olddefconfig drops the lines
# of $DROP (an option this "tree" does not have).
fake_kconfig_tree() {
	mkdir -p "$FAKE/linux/arch/x86/kvm" "$FAKE/linux/scripts/kconfig"
	touch "$FAKE/linux/Makefile"
	cat >"$FAKE/linux/scripts/kconfig/merge_config.sh" <<-'EOF2'
		#!/bin/bash
		cat "$5" >>"$4"
	EOF2
	chmod +x "$FAKE/linux/scripts/kconfig/merge_config.sh"
}

config_step() {
	NX_CACHE=$FAKE/cache capture bash -c '
		. "$NX_TOP/scripts/bisect.sh"
		bisect_make() {
			local out=$2
			case $* in
			*tinyconfig*) echo CONFIG_TINY=y >"$out/.config" ;;
			*olddefconfig*)
				grep -vx "${DROP:-none}" "$out/.config" >"$out/.c"
				mv "$out/.c" "$out/.config" ;;
			esac
		}
		mkdir -p "$2" && bisect_config "$1" "$2"' _ "$FAKE/linux" "$FAKE/out"
}

@test "bisect: the config is tinyconfig plus the fragment, rewritten only when changed" {
	fake_kconfig_tree
	config_step
	assert_status 0
	grep -qx CONFIG_TINY=y "$FAKE/out/.config"
	grep -qx CONFIG_KVM_AMD=y "$FAKE/out/.config"
	if grep -q '#' "$FAKE/out/.config"; then
		flunk "comments of the fragment reached .config"
	fi
	touch -d @1000000000 "$FAKE/out/.config"
	config_step
	assert_status 0
	assert_eq "$(stat -c %Y "$FAKE/out/.config")" 1000000000 ".config mtime"
}

@test "bisect: a required option missing from the tree fails the config" {
	fake_kconfig_tree
	DROP=CONFIG_KVM_AMD=y config_step
	assert_status 1
	[[ $stderr == *"CONFIG_KVM_AMD=y did not stick"* ]] || flunk "$stderr"
	# An optional one may go.
	DROP=CONFIG_FTRACE=y config_step
	assert_status 0
}

@test "bisect: every fragment line is CONFIG_X=y, KVM and kvm_amd required" {
	while read -r line; do
		[[ $line =~ ^CONFIG_[A-Z0-9_]+=y$ ]] || flunk "bad fragment line '$line'"
	done < <(bash -c '. "$NX_TOP/scripts/bisect.sh"; bisect_fragment')
	capture bash -c '. "$NX_TOP/scripts/bisect.sh"; bisect_required'
	assert_has_line CONFIG_KVM=y
	assert_has_line CONFIG_KVM_AMD=y
}

@test "bisect: KVM listed in modules.builtin needs no module file" {
	mkdir -p "$FAKE/builtin" "$FAKE/none"
	printf 'kernel/arch/x86/kvm/%s.ko\n' kvm kvm-amd >"$FAKE/builtin/modules.builtin"
	capture bash -c '
		NX_TOP=$1; NX_CACHE=$2/cache
		. "$NX_TOP/scripts/vm.sh"
		order=$(nx_module_deps "$2/builtin" "" kvm_amd) && echo "order: $order"
		nx_module_deps "$2/none" "" kvm_amd || echo "none: refused"' \
		_ "$NX_TOP" "$FAKE"
	assert_status 0
	assert_has_line "order: "
	assert_has_line "none: refused"
}
