#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The README's git bisection recipe, end to end, without an upstream clone:
# a small history made from the Debian source tree (.cache/linux-$NX_KVER)
#
#   good      Debian linux-source, pristine
#   neutral   a Documentation change (nothing rebuilds)
#   neutral   a comment in arch/x86/kvm/mmu/mmu.c (one file recompiles)
#   breaking  recovery unaccounts split pages but never zaps them
#             (tests/canaries/recovery-skips-zap.patch)
#   neutral   a comment in virt/kvm/kvm_main.c
#
# then `git bisect run run_nx_tests.sh --bisect --test GLOB` between the
# first and the last commit, which must name the breaking commit.
# Whole kernel builds: minutes to an hour; not part of make check.
#
# usage: scripts/bisect_demo.sh [--test GLOB]...   (default: the split
#        tests' split_and_recover, which the breaking commit fails)
# Exit 0: git bisect named the breaking commit; 1 otherwise.
set -uo pipefail

NX_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NX_CACHE=${NX_CACHE:-$NX_TOP/.cache}
# shellcheck source=scripts/kv.sh
. "$NX_TOP/scripts/kv.sh"
versions=$("$NX_TOP/scripts/debian_version.sh" 6.12) || exit 1
nx_kv_import <<<"$versions" || exit 1
SRC=$NX_CACHE/linux-$NX_KVER
DEMO=${NX_BISECT_DEMO:-$NX_CACHE/bisect-demo/linux}
BREAK=$NX_TOP/tests/canaries/recovery-skips-zap.patch

log() {
	echo "bisect_demo: $*" >&2
}

die() {
	log "$*"
	exit 1
}

dgit() {
	git -C "$DEMO" -c user.name=nx-bisect-demo -c user.email=demo@invalid \
		-c core.compression=1 "$@"
}

commit_all() {
	dgit add -A && dgit commit -q -m "$1"
}

# Append a comment line to FILE (a C file) and commit.
neutral_c() {
	printf '/* %s */\n' "$2" >>"$DEMO/$1" && commit_all "$3"
}

# The pristine commit, made once (copying the tree and committing it
# take minutes), tagged nx-demo-good.
make_pristine() {
	local tmp=$DEMO.tmp
	[ -f "$SRC/Makefile" ] || die "no kernel source in $SRC (run make first)"
	rm -rf "$DEMO" "$tmp"
	mkdir -p "$(dirname "$DEMO")" || return 1
	log "copying $SRC"
	cp -a "$SRC" "$tmp" || return 1
	# Debian's packaging ignores everything at the top level.
	sed -i '/^# Debian packaging/,$d' "$tmp/.gitignore"
	sed -i '${/^#$/d}' "$tmp/.gitignore"
	git -C "$tmp" init -q -b master || return 1
	log "committing the pristine tree"
	DEMO=$tmp dgit add -A && DEMO=$tmp dgit add -f .gitignore &&
		DEMO=$tmp dgit commit -q -m "Debian linux-source $NX_KVER (pristine)" &&
		DEMO=$tmp dgit tag nx-demo-good || return 1
	# Generated files of the prepared tree (make headers): an O= build
	# wants a clean source tree.
	DEMO=$tmp dgit clean -qxdf && mv "$tmp" "$DEMO"
}

# The commits after the pristine one (cheap; remade unless complete).
make_history() {
	if [ "$(dgit tag -l nx-demo-good 2>/dev/null)" != nx-demo-good ]; then
		make_pristine || return 1
	fi
	if [ "$(dgit tag -l nx-demo-bad)" = nx-demo-bad ]; then
		log "reusing the history in $DEMO"
		return 0
	fi
	dgit checkout -q -f -B master nx-demo-good && dgit clean -qxdf || return 1
	echo "NX demo: a neutral change." >>"$DEMO/Documentation/virt/kvm/api.rst"
	commit_all "Documentation: a neutral change" || return 1
	neutral_c arch/x86/kvm/mmu/mmu.c "NX demo: a neutral comment." \
		"KVM: x86/mmu: a neutral comment" || return 1
	patch -s -p1 -d "$DEMO" <"$BREAK" || return 1
	commit_all "KVM: x86/mmu: recovery unaccounts split pages but never zaps them" &&
		dgit tag -f nx-demo-break >/dev/null || return 1
	neutral_c virt/kvm/kvm_main.c "NX demo: another neutral comment." \
		"KVM: a neutral comment" && dgit tag -f nx-demo-bad >/dev/null
}

main() {
	local -a tests=() args=()
	local out want got t0
	while [ $# -gt 0 ]; do
		case $1 in
		--test) [ $# -ge 2 ] || die "--test needs a value"; tests+=("$2"); shift ;;
		*) die "unknown option '$1'" ;;
		esac
		shift
	done
	[ ${#tests[@]} -gt 0 ] || tests=('nx_split_recovery.*.split_and_recover')
	for t in "${tests[@]}"; do
		args+=(--test "$t")
	done
	"$NX_TOP/scripts/install_deps.sh" bisect || exit 1
	t0=$(date +%s)
	make_history || die "could not make the demo history"
	log "history ready in $(($(date +%s) - t0))s:"
	dgit log --oneline --decorate >&2
	want=$(dgit rev-parse nx-demo-break)
	out=$(mktemp)
	dgit bisect reset >/dev/null 2>&1
	dgit bisect start nx-demo-bad nx-demo-good >&2 || die "git bisect start failed"
	t0=$(date +%s)
	(cd "$DEMO" && git bisect run "$NX_TOP/run_nx_tests.sh" --bisect \
		"${args[@]}") 2>&1 | tee "$out"
	log "git bisect run took $(($(date +%s) - t0))s"
	dgit bisect log >&2
	got=$(sed -n 's/^\([0-9a-f]\{40\}\) is the first bad commit$/\1/p' "$out")
	dgit bisect reset >/dev/null 2>&1
	rm -f "$out"
	if [ "$got" != "$want" ]; then
		die "git bisect named '${got:-nothing}', expected $want (the breaking commit)"
	fi
	log "PASS: git bisect named the breaking commit $want"
}

main "$@"
