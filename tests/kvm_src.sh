# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# kvm_src_copy TREE DEST: a tree holding only what
# scripts/build_kvm_modules.sh reads of TREE (its Makefile, arch/x86/kvm,
# virt/kvm), to patch without touching TREE.  Sourced by the check scripts.
kvm_src_copy() {
	rm -rf "$2"
	mkdir -p "$2/arch/x86" "$2/virt" &&
		cp "$1/Makefile" "$2/" &&
		cp -a "$1/arch/x86/kvm" "$2/arch/x86/" &&
		cp -a "$1/virt/kvm" "$2/virt/"
}
