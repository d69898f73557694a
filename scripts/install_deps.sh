#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install, from Debian's archive, what is missing for a purpose:
#   suite  build the tests and run them in a QEMU VM (run_nx_tests.sh)
#   check  the project's own tests as well (make check)
#   perf   the suite, and the libraries Debian's perf (linux-perf, unpacked
#          into the VM by run_nx_tests.sh --perf) is linked against
#   bisect build kernels too (run_nx_tests.sh --bisect): ccache caches
#          the objects across bisect steps
# Does nothing when everything is there, so it is cheap to call each run.
set -euo pipefail

suite=(gcc:gcc make:make qemu-system-x86_64:qemu-system-x86 cpio:cpio
	xz:xz-utils perl:perl)
# busybox: run_cases.sh is tested under the shell and tools the VM has.
check=(bats:bats shellcheck:shellcheck python3:python3 patch:patch git:git
	rsync:rsync busybox:busybox)
bisect=(ccache:ccache flex:flex bison:bison bc:bc git:git)
# linux-perf's Depends (series 6.1, checked on 6.1.192-3), without perl and
# python3 themselves.
perf_libs=(libbabeltrace1 libcap2 libdw1 libelf1 liblzma5 libnuma1 libopencsd1
	libperl5.36 libpython3.11 libslang2 libunwind8 libzstd1 zlib1g)

want=("${suite[@]}")
case ${1:-suite} in
suite) ;;
check) want+=("${check[@]}") ;;
perf) ;;
bisect) want+=("${bisect[@]}") ;;
*) echo "usage: install_deps.sh [suite|check|perf|bisect]" >&2; exit 2 ;;
esac

missing=()
for pair in "${want[@]}"; do
	command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if [ "${1:-suite}" = perf ]; then
	for pkg in "${perf_libs[@]}"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ] ||
			missing+=("$pkg")
	done
fi
# Static test binaries need the C library's archive, the NUMA test libnuma's.
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || missing+=(libc6-dev)
[ -e /usr/lib/x86_64-linux-gnu/libnuma.a ] || missing+=(libnuma-dev)
# The 7.x framework links libuuid (its cgroup and VFIO helpers).
[ -e /usr/lib/x86_64-linux-gnu/libuuid.a ] || missing+=(uuid-dev)
# make check reads junit.xml and summary.json with readers of their own
# (tests/formats_check.py), not with the suite's writer: Debian's modules,
# so Debian's python3, whatever else is first in PATH.  The report page
# (tools/nx_report.py) plots with matplotlib; make check renders it in
# headless Chromium.
if [ "${1:-suite}" = check ]; then
	for mod in junitparser:python3-junitparser jsonschema:python3-jsonschema \
		matplotlib:python3-matplotlib; do
		/usr/bin/python3 -c "import ${mod%%:*}" 2>/dev/null ||
			missing+=("${mod#*:}")
	done
	command -v chromium >/dev/null || missing+=(chromium)
fi
# objtool and the kernel's signing tools link against these.
if [ "${1:-suite}" = bisect ]; then
	[ -e /usr/include/libelf.h ] || missing+=(libelf-dev)
	[ -e /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install_deps: missing ${missing[*]}; install them as root" >&2
	exit 1
fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
