# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=sh
#
# Loading KVM in the test VMs (busybox sh), for scripts/vm/init and
# scripts/vm/hostroot-init: the modules, listed in dependency order in
# /nx/modules.order by the host, and the parameters of an MMU mode.
# Uses vendor, kvm_args, vendor_args and tdp as globals, like the inits.

# KVM module parameters of an MMU mode (see run_nx_tests.sh --mmu):
#   tdp     the TDP MMU (kvm.tdp_mmu=Y, the default)
#   legacy  the legacy TDP MMU (kvm.tdp_mmu=N)
#   shadow  shadow paging (kvm_amd.npt=0 / kvm_intel.ept=0)
# Sets kvm_args and vendor_args.
mmu_params() {
	case $1 in
	tdp) kvm_args=tdp_mmu=Y tdp=1 ;;
	legacy) kvm_args=tdp_mmu=N tdp=1 ;;
	shadow) kvm_args=tdp_mmu=Y tdp=0 ;;
	*) return 1 ;;
	esac
	case $vendor in
	kvm_amd) vendor_args=npt=$tdp ;;
	kvm_intel) vendor_args=ept=$tdp ;;
	esac
}

# Unload kvm and the vendor module (what depends on kvm goes first).
kvm_unload() {
	for m in kvm_amd kvm_intel kvm; do
		[ -e "/sys/module/$m" ] || continue
		rmmod "$m" || return 1
	done
}

# Load the modules in dependency order (computed on the host), kvm and the
# vendor module with MODE's parameters.  Already loaded helpers (irqbypass,
# ccp) stay.  Prints a reason and fails if MODE's parameters do not hold.
kvm_load() {
	mmu_params "$1" || { echo "unknown MMU mode $1"; return 1; }
	while read -r ko; do
		m=${ko%.ko}
		[ -e "/sys/module/$m" ] && continue
		case $m in
		kvm) args=$kvm_args ;;
		"$vendor") args=$vendor_args ;;
		*) args= ;;
		esac
		# shellcheck disable=SC2086 # args are separate words
		insmod "/nx/modules/$ko" $args ||
			{ echo "insmod $ko $args failed"; return 1; }
	done </nx/modules.order
	[ -c /dev/kvm ] || { echo "no /dev/kvm after loading the KVM modules"; return 1; }
	want_tdp_mmu=${kvm_args#tdp_mmu=}
	[ "$tdp" = 0 ] && want_tdp_mmu=N
	got_tdp_mmu=$(cat /sys/module/kvm/parameters/tdp_mmu 2>/dev/null)
	got_tdp=$(cat "/sys/module/$vendor/parameters/${vendor_args%%=*}")
	case $got_tdp in 1 | Y) got_tdp=1 ;; *) got_tdp=0 ;; esac
	if [ "$got_tdp" != "$tdp" ]; then
		echo "$vendor.$vendor_args did not hold (reads $got_tdp)"
		return 1
	fi
	# 6.1 shows the requested tdp_mmu, 6.3+ the one in effect (N under
	# shadow paging); shadow paging never uses the TDP MMU either way.
	if [ "$tdp" = 1 ] && [ -n "$got_tdp_mmu" ] &&
	   [ "$got_tdp_mmu" != "$want_tdp_mmu" ]; then
		echo "kvm.tdp_mmu=$want_tdp_mmu did not hold (reads $got_tdp_mmu)"
		return 1
	fi
}

# Sets vendor and appends its module to /nx/modules.order; 1: neither.
kvm_vendor() {
	touch /nx/modules.order /nx/modules.amd /nx/modules.intel
	if grep -qw svm /proc/cpuinfo; then
		vendor=kvm_amd
		cat /nx/modules.amd >>/nx/modules.order
	elif grep -qw vmx /proc/cpuinfo; then
		vendor=kvm_intel
		cat /nx/modules.intel >>/nx/modules.order
	else
		return 1
	fi
}
