#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Rebuild kvm.ko and kvm-amd.ko (kvm-intel.ko with --intel) from a kernel
# source tree, for the Debian kernel build of the tree's version, so that a
# patched KVM can be booted with NX_MODULES_OVERRIDE=OUTDIR.  The tree's
# version decides: 6.12.N builds for the 6.12 build scripts/debian_version.sh
# resolves (Debian 12's default kernel), 7.3.N for its 7.3 build
# (trixie-backports, +deb13); a tree of another version than that build is
# refused.  With --release REL, the kernel that will load the modules must be
# REL (e.g. 7.3.4+deb13-amd64), or the tree is refused too.
#
# usage: build_kvm_modules.sh [--intel] [--release REL] KVM_SRC OUTDIR
#
# Only KVM_SRC's arch/x86/kvm and virt/kvm are compiled, as an external
# module build against Debian's linux-headers and linux-kbuild packages
# (fetched and unpacked under $NX_CACHE/pkgs, never installed): changes to
# shared headers (e.g. arch/x86/include/asm/kvm_host.h) are NOT picked up.
# KVM_SRC is only read.  Its KVM sources are mirrored into a build folder
# under $NX_CACHE/kvm-build, one per source path, copying only what changed,
# so a rebuild after a one-line change recompiles one file and relinks.
#
# Debian 13's builds (7.3) need what Debian 12 lacks; both are made once
# per Debian build under $NX_CACHE/kvm-build (nothing generated goes
# elsewhere):
#  - gcc-14: a wrapper of that name runs the newest gcc of the machine,
#    translating or dropping the flags it does not know;
#  - kbuild host tools (modpost, objtool) that need a newer glibc: rebuilt
#    from the prepared tree $NX_CACHE/linux-VERSION (scripts/prepare_ksrc.sh)
#    with Debian's .config, and put in the headers' kbuild folder.  Building
#    them needs flex, bison and libelf-dev (installed as root if missing).
# NX_BUILD_JOBS sets make's -j (default: the number of CPUs).
#
# Exit: 0 built, 1 failed (the full log is printed), 2 usage or a tree of
# another version than the Debian build (or than --release).
set -euo pipefail

NX_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NX_CACHE=${NX_CACHE:-$NX_TOP/.cache}
jobs=${NX_BUILD_JOBS:-$(nproc)}

me=build_kvm_modules

usage() {
	echo "usage: $me.sh [--intel] [--release REL] KVM_SRC OUTDIR"
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
want_release=
while [ $# -gt 0 ]; do
	case $1 in
	--intel) intel=1 ;;
	--release)
		[ $# -ge 2 ] || usage_error "--release needs a value"
		want_release=$2
		shift
		;;
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
# The Debian build of the tree's series: its version group in
# scripts/debian_version.sh and the suffix of its package names.
case $ver in
6.12.*) group=6.12 deb=deb12 ;;
7.3.*) group=7.3 deb=deb13 ;;
*)
	echo "$me: $src is Linux $ver: only trees of Debian's 6.12 and 7.3 builds can be built" >&2
	exit 2
	;;
esac
# shellcheck source=scripts/kv.sh
. "$NX_TOP/scripts/kv.sh"
versions=$("$NX_TOP/scripts/debian_version.sh" "$group") || exit 1
nx_kv_import <<<"$versions" || exit 1
if [ "$group" = 7.3 ]; then
	NX_KVER=$NX_73_KVER
	NX_DEB_VERSION=$NX_73_DEB_VERSION
fi
if [ "$ver" != "$NX_KVER" ]; then
	echo "$me: $src is Linux $ver but the kernel to boot is Debian's $NX_DEB_VERSION (Linux $NX_KVER); refusing to mix them" >&2
	exit 2
fi
release=$NX_KVER+$deb-amd64
if [ -n "$want_release" ] && [ "$want_release" != "$release" ]; then
	echo "$me: $src is Linux $ver (Debian's $release) but the kernel to boot is $want_release; refusing to mix them" >&2
	exit 2
fi

mkdir -p "$2"
outdir=$(cd "$2" && pwd -P)
modules=(kvm kvm-amd)
[ $intel = 1 ] && modules+=(kvm-intel)

work=$NX_CACHE/kvm-build
mkdir -p "$work"

# The dynamic loader finds every library and symbol version PROGRAM needs.
# (Not `ldd | grep -q`: with pipefail, grep's early exit fails the pipe.)
runs_here() {
	local out
	out=$(ldd "$1" 2>&1) || true
	[[ $out != *"not found"* ]]
}

# --- Kbuild host tools this machine cannot run ---------------------------
# Debian 13's linux-kbuild (7.3) links modpost and objtool against glibc
# 2.38; Debian 12 has 2.36.  Rebuild the tools of the headers' kbuild folder
# KB whose libraries or symbol versions are missing here (ldd: "not found")
# from the same source, with Debian's .config (made fit for the local gcc by
# olddefconfig), and put them in place of the packaged ones.
host_tools() {
	local kb=$1 f rel p from ksrc=$NX_CACHE/linux-$NX_KVER
	local h=$work/hosttools-$NX_KVER-$NX_DEB_VERSION
	local -a broken=() replaced=() left=() missing=()
	while IFS= read -r f; do
		cmp -s -n 4 "$f" <(printf '\177ELF') || continue
		runs_here "$f" || broken+=("${f#"$kb"/}")
	done < <(find "$kb" -type f -perm -u+x | LC_ALL=C sort)
	[ ${#broken[@]} -gt 0 ] || return 0
	step "host tools: ${broken[*]} cannot run here; rebuilding them from $ksrc"
	command -v flex >/dev/null || missing+=(flex)
	command -v bison >/dev/null || missing+=(bison)
	[ -e /usr/include/libelf.h ] || missing+=(libelf-dev)
	if [ ${#missing[@]} -gt 0 ]; then
		[ "$(id -u)" = 0 ] || die "building the host tools needs ${missing[*]}; install them as root"
		step "host tools: installing ${missing[*]}"
		logged "$work/apt.log" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends "${missing[@]}"
	fi
	logged "$log" "$NX_TOP/scripts/prepare_ksrc.sh" "$NX_CACHE" "$group" \
		"$NX_DEB_VERSION" "$ksrc/.prepared"
	# The prepared tree ran `make headers`, so an O= build calls it unclean
	# (arch/x86/include/generated): build from a farm of symlinks into it
	# that leaves that folder out.  The tree itself is only read.
	rm -rf "$h"
	mkdir -p "$h/out"
	farm "$ksrc" "$h/src" arch/x86/include/generated
	rm -f "$h/src/.prepared"
	cp "$kdir/.config" "$h/out/.config"
	local t0=$EPOCHREALTIME
	local -a mk=(make -C "$h/src" O="$h/out" -j"$jobs" CC=gcc HOSTCC=gcc)
	logged "$h/build.log" "${mk[@]}" olddefconfig
	logged "$h/build.log" "${mk[@]}" modules_prepare
	for rel in "${broken[@]}"; do
		# modpost.real-lsb-64 is modpost for 64-bit little-endian
		# objects, objtool.real-x86 objtool for x86: what an x86_64
		# module build runs.  Other variants are not.
		case $rel in
		scripts/mod/modpost.real-lsb-64) p=scripts/mod/modpost ;;
		tools/objtool/objtool.real-x86) p=tools/objtool/objtool ;;
		*.real-*) left+=("$rel"); continue ;;
		*) p=$rel ;;
		esac
		from=$h/out/$p
		if [ -x "$from" ] && runs_here "$from"; then
			rm -f "$kb/$rel"
			cp "$from" "$kb/$rel"
			replaced+=("$rel")
		else
			left+=("$rel")
		fi
	done
	step "host tools: rebuilt in $(elapsed "$t0")s: ${replaced[*]:-none}${left:+; not rebuilt (an x86_64 module build without BTF does not run them): ${left[*]}}"
}

# farm SRC DEST SKIP: DEST mirrors SRC with symlinks, one per entry, except
# that the folders on the way to SKIP (a path inside SRC) are real folders
# and SKIP itself is left out.
farm() {
	local from=$1 to=$2 skip=$3 e n first=${3%%/*}
	mkdir -p "$to"
	for e in "$from"/* "$from"/.[!.]*; do
		[ -e "$e" ] || [ -L "$e" ] || continue
		n=${e##*/}
		if [ "$n" = "$first" ]; then
			[ "$skip" = "$first" ] || farm "$e" "$to/$n" "${skip#*/}"
		else
			ln -s "$e" "$to/$n"
		fi
	done
}

# --- Debian's headers, assembled once per version -------------------------
# The three packages unpack to separate folders, but their relative symlinks
# (headers/scripts -> ../../lib/linux-kbuild-*/scripts) and the arch
# Makefile's absolute `include /usr/src/...-common/Makefile` (and 7.3's
# KBUILD_OUTPUT=/usr/src/...) expect one /usr.  Merge copies of them into
# one root; the package caches stay pristine.
kroot=$work/headers-$NX_KVER-$NX_DEB_VERSION
kdir=$kroot/usr/src/linux-headers-$release
exec {lock}>"$work/.headers.lock"
flock "$lock"
if [ ! -e "$kroot/.ready" ]; then
	log=$work/headers.log
	: >"$log"
	pkgs=("linux-headers-$release" "linux-headers-$NX_KVER+$deb-common"
		"linux-kbuild-$NX_KVER+$deb")
	rm -rf "$kroot" "$kroot.tmp"
	mkdir -p "$kroot.tmp"
	for p in "${pkgs[@]}"; do
		# debian_pkg.sh needs an absolute DEST (it cd's to write its log).
		logged "$log" "$NX_TOP/scripts/debian_pkg.sh" "$p=$NX_DEB_VERSION" \
			"$NX_CACHE/pkgs/$p-$NX_DEB_VERSION"
		cp -a "$NX_CACHE/pkgs/$p-$NX_DEB_VERSION/usr" "$kroot.tmp/"
	done
	mv "$kroot.tmp" "$kroot"
	common=$kroot/usr/src/linux-headers-$NX_KVER+$deb-common
	[ -f "$common/Makefile" ] || die "no $common/Makefile in the headers"
	grep -q "^include /usr/src/linux-headers-$NX_KVER+$deb-common/Makefile\$" \
		"$kdir/Makefile" || die "$kdir/Makefile does not include the -common one"
	host_tools "$kroot/usr/lib/linux-kbuild-$NX_KVER+$deb"
	touch "$kroot/.ready"
	step "headers: linux-headers-$release $NX_DEB_VERSION unpacked"
else
	step "headers: linux-headers-$release $NX_DEB_VERSION (cached)"
fi
# Each time, from the package's own copy: the paths name this checkout's
# cache, which may have moved or be reached through another link since.
sed "s|/usr/src/|$kroot/usr/src/|g" \
	"$NX_CACHE/pkgs/linux-headers-$release-$NX_DEB_VERSION/usr/src/linux-headers-$release/Makefile" \
	>"$kdir/Makefile.new"
mv -f "$kdir/Makefile.new" "$kdir/Makefile"
exec {lock}>&-

# --- The compiler Debian built the kernel with ----------------------------
# .kernelvariables: "override CROSS_COMPILE = x86_64-linux-gnu-" and
# "CC = $(if ...) $(CROSS_COMPILE)gcc-12".  Another gcc would build modules
# that mismatch the kernel's flags and plugins.  Debian 13's builds (7.3)
# name gcc-14, which Debian 12 does not have: then a wrapper of that name
# runs the newest gcc there is (gcc-12), with the flags the newer gcc's
# Kconfig checks enabled translated or dropped.  Checked on 7.3.4: such
# modules load and run on Debian's kernel.
kv=$kdir/.kernelvariables
cross=$(sed -n 's/^override CROSS_COMPILE = *//p' "$kv")
ccline=$(grep -m1 '^CC = ' "$kv" || true)
ccname=${ccline##*[ )]}
if [ -z "$cross" ] || [ -z "$ccname" ]; then
	die "cannot read the compiler from $kv"
fi
cc=$cross$ccname
# Native gcc-N ships the triplet-named driver; on another host
# architecture it is the cross compiler package.
case $(dpkg --print-architecture) in
amd64) ccpkg=$ccname ;;
*) ccpkg=$ccname-${cross%-}; ccpkg=${ccpkg//_/-} ;;
esac
if ! command -v "$cc" >/dev/null && ! apt-cache show "$ccpkg" >/dev/null 2>&1; then
	real=$(compgen -c "${cross}gcc-" | grep -xE "${cross//./\\.}gcc-[0-9]+" |
		sort -uV | tail -n 1 || true)
	[ -n "$real" ] || die "$cc is missing, $ccpkg is not in the archive, and there is no other ${cross}gcc-N"
	wrapdir=$work/cc-$NX_KVER-$NX_DEB_VERSION
	mkdir -p "$wrapdir"
	cat >"$wrapdir/$cc.new" <<-EOF
	#!/bin/bash
	# Generated by scripts/$me.sh: $cc for Debian's $release, which
	# this machine lacks, as $real minus the flags it does not know.
	args=()
	for a in "\$@"; do
		case \$a in
		-fmin-function-alignment=*) args+=("-falign-functions=\${a#*=}") ;;
		-finline-stringops*) ;;
		*) args+=("\$a") ;;
		esac
	done
	exec $(command -v "$real") "\${args[@]}"
	EOF
	chmod +x "$wrapdir/$cc.new"
	mv "$wrapdir/$cc.new" "$wrapdir/$cc"
	PATH=$wrapdir:$PATH
	step "compiler: $cc is $real through ${wrapdir#"$NX_TOP"/}/$cc"
elif ! command -v "$cc" >/dev/null; then
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
makeargs=(-C "$kdir" M="$tree/arch/x86/kvm" -j"$jobs"
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
# The headers package they were built against (run_nx_tests.sh's metadata).
echo "linux-headers-$release=$NX_DEB_VERSION" >"$outdir/.debian-headers"
step "installed: ${modules[*]/%/.ko} -> $outdir"
