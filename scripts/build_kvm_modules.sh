#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Rebuild kvm.ko and kvm-amd.ko (kvm-intel.ko with --intel) from a kernel
# source tree, for Debian's default kernel (NX_KVER, the 6.12 build
# scripts/debian_version.sh resolves), so that a patched KVM can be booted
# with NX_MODULES_OVERRIDE=OUTDIR.
#
# usage: build_kvm_modules.sh [--intel] KVM_SRC OUTDIR
#
# Only KVM_SRC's arch/x86/kvm and virt/kvm are compiled, as an external
# module build against Debian's linux-headers and linux-kbuild packages
# (fetched and unpacked under $NX_CACHE/pkgs, never installed): changes to
# shared headers (e.g. arch/x86/include/asm/kvm_host.h) are NOT picked up.
# KVM_SRC is only read.  Its KVM sources are mirrored into a build folder
# under $NX_CACHE/kvm-build, one per source path, copying only what changed,
# so a rebuild after a one-line change recompiles one file and relinks.
#
# Exit: 0 built, 1 failed (the full log is printed), 2 usage or a tree of
# another version than NX_KVER.
set -euo pipefail

NX_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NX_CACHE=${NX_CACHE:-$NX_TOP/.cache}
# Headers and kbuild of the build the default image is.
versions=$("$NX_TOP/scripts/debian_version.sh" 6.12) || exit 1
eval "$versions"

me=build_kvm_modules

usage() {
	echo "usage: $me.sh [--intel] KVM_SRC OUTDIR"
}

usage_error() {
	echo "$me: $*" >&2
	usage >&2
	exit 2
}

die() {
	echo "$me: $*" >&2
	exit 1
}

step() {
	echo "$me: $*"
}

# Run a command with its output in LOG; on failure show the whole log.
logged() {
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		cat "$log" >&2
		die "failed: $* (log: $log)"
	fi
}

# Seconds since T0 (an $EPOCHREALTIME reading), 0.1 s resolution.
elapsed() {
	local now=${EPOCHREALTIME/./} t0=${1/./}
	local ds=$(((now - t0) / 100000))
	printf '%d.%d\n' $((ds / 10)) $((ds % 10))
}

# What `make kernelversion` prints, read from the top Makefile without
# running make in a tree we must not touch.
tree_version() {
	awk -F' *= *' '
		$1 == "VERSION" { v = $2 } $1 == "PATCHLEVEL" { p = $2 }
		$1 == "SUBLEVEL" { s = $2 } $1 == "EXTRAVERSION" { e = $2 }
		/^# \*DOCUMENTATION\*/ { exit }
		END {
			out = v
			if (p != "") { out = out "." p; if (s != "") out = out "." s }
			print out e
		}' "$1/Makefile"
}

intel=0
while [ $# -gt 0 ]; do
	case $1 in
	--intel) intel=1 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	-*) usage_error "unknown option '$1'" ;;
	*) break ;;
	esac
	shift
done
[ $# -eq 2 ] || usage_error "expected KVM_SRC and OUTDIR"
[ -d "$1" ] || usage_error "$1: no such folder"
src=$(cd "$1" && pwd -P)
for f in Makefile arch/x86/kvm/Makefile virt/kvm/Makefile.kvm; do
	[ -f "$src/$f" ] || usage_error "$src has no $f"
done

ver=$(tree_version "$src")
if [ "$ver" != "$NX_KVER" ]; then
	echo "$me: $src is Linux $ver but the kernel to boot is Debian's $NX_DEB_VERSION (Linux $NX_KVER); refusing to mix them" >&2
	exit 2
fi

mkdir -p "$2"
outdir=$(cd "$2" && pwd -P)
modules=(kvm kvm-amd)
[ $intel = 1 ] && modules+=(kvm-intel)

release=$NX_KVER+deb12-amd64
work=$NX_CACHE/kvm-build
mkdir -p "$work"

# --- Debian's headers, assembled once per version -------------------------
# The three packages unpack to separate folders, but their relative symlinks
# (headers/scripts -> ../../lib/linux-kbuild-*/scripts) and the arch
# Makefile's absolute `include /usr/src/...-common/Makefile` expect one /usr.
# Merge copies of them into one root; the package caches stay pristine.
kroot=$work/headers-$NX_KVER-$NX_DEB_VERSION
kdir=$kroot/usr/src/linux-headers-$release
exec {lock}>"$work/.headers.lock"
flock "$lock"
if [ ! -e "$kroot/.ready" ]; then
	log=$work/headers.log
	: >"$log"
	pkgs=("linux-headers-$release" "linux-headers-$NX_KVER+deb12-common"
		"linux-kbuild-$NX_KVER+deb12")
	rm -rf "$kroot" "$kroot.tmp"
	mkdir -p "$kroot.tmp"
	for p in "${pkgs[@]}"; do
		# debian_pkg.sh needs an absolute DEST (it cd's to write its log).
		logged "$log" "$NX_TOP/scripts/debian_pkg.sh" "$p=$NX_DEB_VERSION" \
			"$NX_CACHE/pkgs/$p-$NX_DEB_VERSION"
		cp -a "$NX_CACHE/pkgs/$p-$NX_DEB_VERSION/usr" "$kroot.tmp/"
	done
	mv "$kroot.tmp" "$kroot"
	common=$kroot/usr/src/linux-headers-$NX_KVER+deb12-common
	[ -f "$common/Makefile" ] || die "no $common/Makefile in the headers"
	rm -f "$kdir/Makefile"
	echo "include $common/Makefile" >"$kdir/Makefile"
	touch "$kroot/.ready"
	step "headers: linux-headers-$release $NX_DEB_VERSION unpacked"
else
	step "headers: linux-headers-$release $NX_DEB_VERSION (cached)"
fi
exec {lock}>&-

# --- The compiler Debian built the kernel with ----------------------------
# .kernelvariables: "override CROSS_COMPILE = x86_64-linux-gnu-" and
# "CC = $(if ...) $(CROSS_COMPILE)gcc-12".  Another gcc would build modules
# that mismatch the kernel's flags and plugins.
kv=$kdir/.kernelvariables
cross=$(sed -n 's/^override CROSS_COMPILE = *//p' "$kv")
ccline=$(grep -m1 '^CC = ' "$kv" || true)
ccname=${ccline##*[ )]}
if [ -z "$cross" ] || [ -z "$ccname" ]; then
	die "cannot read the compiler from $kv"
fi
cc=$cross$ccname
if ! command -v "$cc" >/dev/null; then
	# Native gcc-N ships the triplet-named driver; on another host
	# architecture it is the cross compiler package.
	case $(dpkg --print-architecture) in
	amd64) ccpkg=$ccname ;;
	*) ccpkg=$ccname-${cross%-}; ccpkg=${ccpkg//_/-} ;;
	esac
	[ "$(id -u)" = 0 ] || die "$cc is missing; install $ccpkg as root"
	step "compiler: installing $ccpkg for $cc"
	logged "$work/apt.log" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "$ccpkg"
fi
command -v make >/dev/null || die "make is missing (scripts/install_deps.sh)"

# --- Mirror the KVM sources into the build folder --------------------------
# Keyed by the source path, so two trees never share objects.  An M= build
# puts objects next to the sources, hence a mirror rather than the tree.
base=$(basename "$src")
key=${base//[^A-Za-z0-9._+-]/_}-$(printf '%s' "$src" | sha1sum | cut -c1-8)
build=$work/tree-$key
tree=$build/tree
mkdir -p "$build"
exec {lock}>"$build/.lock"
if ! flock -n "$lock"; then
	step "waiting for another build of $src"
	flock "$lock"
fi
echo "$src" >"$build/source"

list=$build/sources.list
(cd "$src" && find arch/x86/kvm virt/kvm -type f | LC_ALL=C sort) >"$list.new"
changed=0
while IFS= read -r f; do
	if ! cmp -s "$src/$f" "$tree/$f"; then
		mkdir -p "$(dirname "$tree/$f")"
		# A changed file gets the current time, not the source's: a
		# file put back to older content (and an older mtime) must
		# still be newer than the objects built from it.
		rm -f "$tree/$f"
		cp --preserve=mode "$src/$f" "$tree/$f"
		changed=$((changed + 1))
	fi
done <"$list.new"
removed=0
if [ -f "$list" ]; then
	while IFS= read -r f; do
		rm -f "$tree/$f"
		removed=$((removed + 1))
	done < <(LC_ALL=C comm -23 "$list" "$list.new")
fi
mv "$list.new" "$list"

# In an M= build $(srctree) is the headers tree: point the kvm Makefile's
# $(srctree)/arch/x86/kvm and $(srctree)/virt/kvm at the mirror.  A Kbuild
# file takes precedence over the Makefile next to it.  trace.h includes
# itself as "../../arch/x86/kvm/trace.h" from include/trace/define_trace.h;
# an include/trace folder in the mirror makes that path land on our copy.
mkdir -p "$tree/include/trace"
kbuild=$tree/arch/x86/kvm/Kbuild
{
	echo "# Generated by scripts/$me.sh from $src/arch/x86/kvm/Makefile"
	sed -e "s|\$(srctree)/arch/x86/kvm|$tree/arch/x86/kvm|g" \
		-e "s|\$(srctree)/virt/kvm|$tree/virt/kvm|g" \
		"$tree/arch/x86/kvm/Makefile"
	echo "ccflags-y += -I $tree/include/trace"
} >"$kbuild.new"
if cmp -s "$kbuild.new" "$kbuild"; then
	rm -f "$kbuild.new"
else
	mv "$kbuild.new" "$kbuild"
fi
step "sync: $changed changed, $removed removed -> ${build#"$NX_TOP"/}"

# --- Build ---------------------------------------------------------------
# pahole is absent, so no BTF for modules.  Without --intel, leave
# kvm-intel out of the build instead of compiling it for nothing.
makeargs=(-C "$kdir" M="$tree/arch/x86/kvm" -j"$(nproc)"
	CONFIG_DEBUG_INFO_BTF_MODULES=)
[ $intel = 1 ] || makeargs+=(CONFIG_KVM_INTEL=)
log=$build/build.log
t0=$EPOCHREALTIME
logged "$log" make "${makeargs[@]}" modules
# Objects of the sources, not the .mod.o glue modpost adds for each module.
compiled=$(grep -E '^ +(CC|AS) \[M\] ' "$log" |
	grep -cvE '\.mod\.o$|\.module-common\.o$' || true)
warnings=$(grep -c 'warning:' "$log" || true)
step "make: ${modules[*]} built in $(elapsed "$t0")s ($compiled compiled, $warnings warnings; log ${log#"$NX_TOP"/})"

# --- Strip and install -----------------------------------------------------
# Debug info makes kvm.ko ~23 MB; the initramfs only needs the code.
for m in "${modules[@]}"; do
	ko=$tree/arch/x86/kvm/$m.ko
	[ -f "$ko" ] || die "make succeeded but $ko is missing"
	"${cross}strip" --strip-debug -o "$outdir/.$m.ko.tmp" "$ko"
	mv "$outdir/.$m.ko.tmp" "$outdir/$m.ko"
done
# OUTDIR must hold this build's modules only: a kvm-intel.ko left by an
# earlier --intel build would override Debian's and mix two builds.
[ $intel = 1 ] || rm -f "$outdir/kvm-intel.ko"
step "installed: ${modules[*]/%/.ko} -> $outdir"
