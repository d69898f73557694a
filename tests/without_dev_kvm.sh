#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run a command as on a host without /dev/kvm, whatever this machine has:
# in a mount namespace of its own whose /dev is a copy without the kvm
# node (the directories in /dev, such as pts and shm, bound as they are).
# Nothing outside the namespace changes.  Needs root.
#
# usage: without_dev_kvm.sh CMD [ARG...]
set -euo pipefail

[ $# -gt 0 ] || { echo "usage: without_dev_kvm.sh CMD [ARG...]" >&2; exit 2; }
if [ -z "${NX_IN_NAMESPACE:-}" ]; then
	NX_IN_NAMESPACE=1 exec unshare --mount --propagation private "$0" "$@"
fi
unset NX_IN_NAMESPACE

dev=$(mktemp -d "${TMPDIR:-/tmp}/nx-dev.XXXXXX")
mount -t tmpfs -o mode=755 nx-dev "$dev"
for e in /dev/* /dev/.[!.]*; do
	[ -e "$e" ] || [ -L "$e" ] || continue
	[ "$e" = /dev/kvm ] && continue
	if [ -d "$e" ] && [ ! -L "$e" ]; then
		mkdir "$dev/${e#/dev/}"
		mount --rbind "$e" "$dev/${e#/dev/}"
	else
		cp -a "$e" "$dev/"
	fi
done
mount --move "$dev" /dev
rmdir "$dev"
[ ! -e /dev/kvm ] || { echo "without_dev_kvm.sh: /dev/kvm still there" >&2; exit 1; }
exec "$@"
