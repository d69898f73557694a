# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# What a run of the cases needs to know of the KVM it runs on, the same in
# the VM (scripts/vm/init, busybox sh; copied to /nx/cases_env.sh) and on a
# lab host (run_nx_tests.sh --host, bash).

# The KVM module parameters in force, one "MODULE.NAME=VALUE" line each:
# a cell's params.txt.
nx_print_params() {
	for p in /sys/module/kvm/parameters/* /sys/module/kvm_amd/parameters/* \
		/sys/module/kvm_intel/parameters/*; do
		[ -r "$p" ] || continue
		m=${p#/sys/module/}
		echo "${m%%/*}.${p##*/}=$(cat "$p" 2>/dev/null)"
	done
}

# --perf with PERF: exports NX_PERF_CMD (run_cases.sh wraps each case in
# perf stat of the kvm: and kvmmmu: events) if it runs here, else
# NX_PERF_SKIP, the reason every case reports: MISSING when there is no
# PERF, or perf's own last line.
nx_perf_setup() {
	if [ ! -x "$1" ]; then
		NX_PERF_SKIP=$2
	elif ! "$1" stat -e 'kvm:*' -e 'kvmmmu:*' -o /dev/null true \
		>/tmp/nx-perf.err 2>&1; then
		NX_PERF_SKIP="perf stat of kvm:*,kvmmmu:* failed: $(tail -n 1 /tmp/nx-perf.err)"
	else
		NX_PERF_CMD=$1
		export NX_PERF_CMD
		return 0
	fi
	export NX_PERF_SKIP
}
