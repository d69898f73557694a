#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# scripts/host_state.sh against a fake sysfs tree (NX_SYSFS_ROOT): save,
# change, restore; and restore from the traps main() of
# run_nx_tests.sh installs, on EXIT and on signals (fixtures/state_driver, a
# bash script that sources run_nx_tests.sh, hence host_state.sh).

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2154

load test_helper

setup() {
	SYSFS=$BATS_TEST_TMPDIR/sysfs
	make_fake_sysfs "$SYSFS"
}

# state SCRIPT: run SCRIPT in a bash that sourced host_state.sh (at top
# level: its NX_SAVED is a global associative array).
state() {
	NX_SYSFS_ROOT=$SYSFS capture bash -c 'set -uo pipefail
		. "$NX_TOP/scripts/host_state.sh" || exit 99
		'"$1"
}

# knobs: "KNOB=CONTENTS" of every knob file of the fake tree (one line).
knobs() {
	local k v
	for k in "$NX_KNOB_NX" "$NX_KNOB_RATIO" "$NX_KNOB_PERIOD" \
		"$NX_KNOB_HP" "$NX_KNOB_THP"; do
		if [ -f "$SYSFS/$k" ]; then
			v=
			IFS= read -r v <"$SYSFS/$k" || true
			echo "${k##*/}=$v"
		elif [ -e "$SYSFS/$k" ]; then
			echo "${k##*/} not a file"
		else
			echo "${k##*/} missing"
		fi
	done
}

# The fake tree after a restore: THP holds the selected word only.
RESTORED="nx_huge_pages=Y
nx_huge_pages_recovery_ratio=60
nx_huge_pages_recovery_period_ms=0
nr_hugepages=3
enabled=madvise"

CHANGE='nx_state_set kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 64
	nx_state_set kernel/mm/transparent_hugepage/enabled never
	nx_state_set module/kvm/parameters/nx_huge_pages N
	nx_state_set module/kvm/parameters/nx_huge_pages_recovery_ratio 1
	nx_state_set module/kvm/parameters/nx_huge_pages_recovery_period_ms 100'

CHANGED="nx_huge_pages=N
nx_huge_pages_recovery_ratio=1
nx_huge_pages_recovery_period_ms=100
nr_hugepages=64
enabled=never"

@test "save reads every knob, THP as its selected word, and writes nothing" {
	local before
	before=$(snapshot_tree "$SYSFS")
	state 'nx_state_save || exit 1
		for k in "${NX_STATE_KNOBS[@]}"; do
			echo "${k##*/}=${NX_SAVED[$k]}"
		done
		echo "saved=$NX_STATE_SAVED"'
	assert_status 0
	assert_eq "$stderr" ""
	# Found in the tree: the parameters in name order.
	assert_eq "$output" "nx_huge_pages=Y
nx_huge_pages_recovery_period_ms=0
nx_huge_pages_recovery_ratio=60
nr_hugepages=3
enabled=madvise
saved=1"
	assert_eq "$(snapshot_tree "$SYSFS")" "$before" "fake sysfs"
}

@test "save, change, restore puts the original values back" {
	state 'nx_state_save || exit 1
		'"$CHANGE"'
		echo "changed"
		nx_state_restore'
	assert_status 0
	assert_eq "$stderr" ""
	assert_eq "$output" "changed"
	assert_eq "$(knobs)" "$RESTORED" "knobs after restore"
	# One line, the selected word only.
	assert_eq "$(od -An -c "$SYSFS/$NX_KNOB_THP" | tr -s ' ')" " m a d v i s e \n"
}

@test "restore writes only the knobs that changed" {
	state 'nx_state_save || exit 1
		nx_state_set module/kvm/parameters/nx_huge_pages_recovery_ratio 1
		echo 5 >"$NX_SYSFS_ROOT/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
		nx_state_restore'
	assert_status 0
	assert_eq "$(knobs)" "nx_huge_pages=Y
nx_huge_pages_recovery_ratio=60
nx_huge_pages_recovery_period_ms=0
nr_hugepages=3
enabled=always [madvise] never"
	# The others keep their old mtime: not rewritten.
	assert_eq "$(cd "$SYSFS" && find . -type f -newermt @1000000001 | sort)" \
		"./$NX_KNOB_HP
./$NX_KNOB_RATIO" "files written"
}

@test "restore is idempotent: a second call writes nothing, undoes nothing" {
	state 'nx_state_save || exit 1
		'"$CHANGE"'
		nx_state_restore || exit 1
		find "$NX_SYSFS_ROOT" -type f -exec touch -d @1000000000 {} +
		echo 7 >"$NX_SYSFS_ROOT/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
		touch -d @1000000000 "$NX_SYSFS_ROOT/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
		nx_state_restore || exit 2
		echo "saved=$NX_STATE_SAVED"'
	assert_status 0
	assert_eq "$output" "saved=0"
	# A later change stays: after a signal trap restored, the EXIT trap
	# must not restore again.
	assert_eq "$(knobs)" "${RESTORED/nr_hugepages=3/nr_hugepages=7}"
	assert_eq "$(find "$SYSFS" -type f -newermt @1000000001)" "" \
		"files written by the second restore"
}

@test "restore without a save does nothing" {
	local before
	before=$(snapshot_tree "$SYSFS")
	state 'nx_state_restore'
	assert_status 0
	assert_eq "$(snapshot_tree "$SYSFS")" "$before" "fake sysfs"
}

@test "missing knob files are skipped by save and not created by restore" {
	rm "$SYSFS/$NX_KNOB_PERIOD" "$SYSFS/$NX_KNOB_THP"
	state 'nx_state_save || exit 1
		echo "saved: ${!NX_SAVED[*]}"
		nx_state_set kernel/mm/hugepages/hugepages-2048kB/nr_hugepages 64
		nx_state_set module/kvm/parameters/nx_huge_pages N
		nx_state_restore'
	assert_status 0
	assert_eq "$stderr" ""
	[[ $output != *recovery_period_ms* && $output != *transparent* ]] ||
		flunk "saved a missing knob: $output"
	assert_eq "$(knobs)" "nx_huge_pages=Y
nx_huge_pages_recovery_ratio=60
nx_huge_pages_recovery_period_ms missing
nr_hugepages=3
enabled missing"
}

@test "an empty sysfs tree: save and restore succeed and create nothing" {
	local empty=$BATS_TEST_TMPDIR/empty
	mkdir "$empty"
	SYSFS=$empty state 'nx_state_save && nx_state_restore && echo "n=${#NX_SAVED[@]}"'
	assert_status 0
	assert_eq "$output" "n=0"
	assert_eq "$(find "$empty" -mindepth 1)" "" "created files"
}

@test "a knob that cannot be restored: reported, the others still restored" {
	state 'nx_state_save || exit 1
		'"$CHANGE"'
		rm "$NX_SYSFS_ROOT/module/kvm/parameters/nx_huge_pages_recovery_ratio"
		mkdir "$NX_SYSFS_ROOT/module/kvm/parameters/nx_huge_pages_recovery_ratio"
		nx_state_restore
		echo "rc=$?"'
	assert_status 0
	assert_eq "$output" "rc=1"
	assert_eq "$stderr" "nx: could not restore module/kvm/parameters/nx_huge_pages_recovery_ratio to '60'"
	assert_eq "$(knobs)" "${RESTORED/nx_huge_pages_recovery_ratio=60/nx_huge_pages_recovery_ratio not a file}"
}

@test "values without brackets are kept whole" {
	echo "never" >"$SYSFS/$NX_KNOB_THP"
	state 'nx_state_value kernel/mm/transparent_hugepage/enabled
		nx_state_value kernel/mm/hugepages/hugepages-2048kB/nr_hugepages'
	assert_status 0
	assert_eq "$output" "never
3"
}

# drive ARG...: run fixtures/state_driver ARG... to its end.
drive() {
	NX_SYSFS_ROOT=$SYSFS capture "$NX_FIXTURES/state_driver" "$@"
}

@test "trap: restored on a normal exit and on exit 3, the status kept" {
	drive exit 0
	assert_status 0
	assert_eq "$stderr" ""
	assert_eq "$(knobs)" "$RESTORED"
	make_fake_sysfs "$SYSFS"
	drive exit 3
	assert_status 3
	assert_eq "$stderr" ""
	assert_eq "$(knobs)" "$RESTORED"
}

@test "trap: restored when set -u kills the script" {
	drive unbound
	[ "$status" -ne 0 ] || flunk "exit status 0"
	[[ $stderr == *"nx_no_such_variable: unbound variable"* ]] || flunk "$stderr"
	[[ $stderr != *"still running"* ]] || flunk "$stderr"
	assert_eq "$(knobs)" "$RESTORED"
}

# signal SIG: start the driver in the background with SIG at its default
# disposition (a background job of a non-interactive shell ignores SIGINT,
# and bash cannot trap a signal ignored on entry), wait until it changed
# the knobs, send SIG and wait for its end.
signal() {
	local sig=$1 ready=$BATS_TEST_TMPDIR/ready pid fd line=
	mkfifo "$ready"
	exec {fd}<>"$ready"
	NX_SYSFS_ROOT=$SYSFS env --default-signal="$sig" \
		"$NX_FIXTURES/state_driver" wait "$ready" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	read -r -t 20 -u "$fd" line || true
	exec {fd}<&-
	assert_eq "$line" ready "the driver's ready line" ||
		flunk "$(<"$BATS_TEST_TMPDIR/err")"
	assert_eq "$(knobs)" "$CHANGED" "knobs before the signal"
	kill -s "$sig" "$pid"
	status=0
	wait "$pid" || status=$?
	output=$(<"$BATS_TEST_TMPDIR/out")
	stderr=$(<"$BATS_TEST_TMPDIR/err")
}

@test "trap: restored on SIGTERM, exit 1" {
	signal TERM
	assert_eq "$stderr" "nx: interrupted by SIGTERM"
	assert_status 1
	assert_eq "$(knobs)" "$RESTORED"
}

@test "trap: restored on SIGINT, exit 1" {
	signal INT
	assert_eq "$stderr" "nx: interrupted by SIGINT"
	assert_status 1
	assert_eq "$(knobs)" "$RESTORED"
}

@test "trap: restored on SIGHUP, exit 1" {
	signal HUP
	assert_eq "$stderr" "nx: interrupted by SIGHUP"
	assert_status 1
	assert_eq "$(knobs)" "$RESTORED"
}
