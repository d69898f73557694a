# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# The VM's one configuration, /nx/run.conf: key=value lines written on the
# host (run_nx_tests.sh write_run_conf for the test VM, scripts/vm.sh
# nx_build_hostroot_initramfs for a lab host), read here as data, never
# run.  For scripts/vm/init and scripts/vm/hostroot-init (busybox sh).

# The value of KEY (its last line); empty if none.
run_conf() {
	sed -n "s/^$1=//p" /nx/run.conf | tail -n 1
}
