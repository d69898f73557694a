# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The kernel record (KREC): what the runner's pieces know of a kernel and
# its boot, a record of scripts/kv.sh.  Its keys are declared here, once:
# nx_krec_get, nx_krec_set and nx_krec_put refuse any other, so that a
# misspelt key fails where it is used instead of reading as "not set",
# and docs/runner.md's table is this list (nx_krec_table;
# tests/bats/krec.bats compares them).  Sourced.

# shellcheck source=scripts/kv.sh
. "$NX_TOP/scripts/kv.sh"

# One line per row of the table: KEYS (space-separated)|WRITTEN BY|READ BY.
# shellcheck disable=SC2016 # Markdown's backquotes, not commands
NX_KREC_KEYS='mode|`run_kernel` (`vm`), `run_host` (`host`)|`summary.json`
kernel modules|`debian_kernel.sh`, `fetch_kernel`, `nx_vm_default_kernel`|initramfs, QEMU
series|`debian_kernel.sh`, else `run_kernel` from the release, `run_host` from `uname -r`|`kernel_cases`
suite_series suite_build|`kernel_cases`: the framework series and the folder of the tests the kernel runs|`summary.json` (`framework_series`, `suite_build`), `debian_meta`
release|`run_kernel` (from the bzImage), `run_host` (`uname -r`)|`summarize`, `cell.txt`
deb_image deb_modules|`debian_kernel.sh`, `nx_vm_default_kernel`|`summary.json`
deb_busybox deb_perf perf_bin|`nx_initramfs_root`, `nx_fetch_perf`|`summary.json`, perf on the host
modules_override|`fetch_kernel` (`NX_MODULES_OVERRIDE`), `rebuild_kvm`|`nx_module_order`
deb_headers|`rebuild_kvm` (what `build_kvm_modules.sh` built against)|`summary.json`
accel accel_why|`nx_vm_accel`|QEMU, `summary.json`
share|`nx_build_hostroot_initramfs`|QEMU (the 9p shares of a lab-host VM)
boot_s run_s infra_why|`nx_vm_boot_all`, `run_host`|`summarize`, `infra_failure`
missing_why|`run_host` (the run stopped at `NX_RUN_TIMEOUT`)|`summarize` (the reason of each case without a result)'

# 0 if KEY is one of the record's; else says so on stderr, 1.
nx_krec_key() {
	local row
	while IFS='|' read -r row _; do
		case " $row " in *" $1 "*) return 0 ;; esac
	done <<<"$NX_KREC_KEYS"
	echo "nx_krec: '$1' is not a key of the kernel record (scripts/krec.sh)" >&2
	return 1
}

# nx_kv_get of a declared KEY of record KREC.
nx_krec_get() {
	nx_krec_key "$2" && nx_kv_get "$1" "$2"
}

# nx_kv_set of a declared KEY of record KREC.
nx_krec_set() {
	nx_krec_key "$2" && nx_kv_set "$1" "$2" "$3"
}

# Copy the "key=value" lines of stdin into record KREC, each key declared;
# a line with any other key stops the copy (1).
nx_krec_put() {
	local line
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		nx_krec_key "${line%%=*}" || return 1
		nx_kv_put "$1" <<<"$line" || return 1
	done
}

# The table of docs/runner.md's "The kernel record (KREC)".
nx_krec_table() {
	local keys by reads k sep
	echo '| key | written by | read by |'
	echo '| --- | --- | --- |'
	while IFS='|' read -r keys by reads; do
		printf '|'
		sep=' '
		for k in $keys; do
			# shellcheck disable=SC2016 # Markdown's backquotes
			printf '%s`%s`' "$sep" "$k"
			sep=', '
		done
		printf ' | %s | %s |\n' "$by" "$reads"
	done <<<"$NX_KREC_KEYS"
}
