# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# VM mode of run_nx_tests.sh: fetch the kernel, build the initramfs, boot it
# under QEMU and collect what the guest reports.  Sourced; uses NX_TOP,
# NX_CACHE and the Debian builds scripts/debian_version.sh resolves (the
# series in versions.env), and sets NX_BOOT_S, NX_RUN_S,
# NX_ACCEL, NX_ACCEL_WHY, NX_INFRA_WHY and NX_QEMU_PIDS for the caller.
# shellcheck disable=SC2034 # the variables above are the caller's

# Kernel release of a bzImage, from its setup header (kernel_version field).
nx_bzimage_release() {
	local off
	off=$(od -An -tu2 -j $((0x20e)) -N2 "$1" | tr -d ' ')
	[ -n "$off" ] && [ "$off" -gt 0 ] || return 1
	dd if="$1" bs=1 skip=$((off + 0x200)) count=128 status=none |
		tr '\0' '\n' | head -n 1 | cut -d' ' -f1
}

# The Debian builds to fetch (scripts/debian_version.sh: the newest of each
# series in versions.env), asked once per run, when first needed.
nx_debian_versions() {
	local out
	[ "${NX_DEB_RESOLVED:-0}" = 1 ] && return 0
	out=$("$NX_TOP/scripts/debian_version.sh") || return 1
	eval "$out"
	NX_DEB_RESOLVED=1
}

# Default kernel: Debian's image of the same build as the source the suite
# and --kvm-src modules are built from.
nx_vm_default_kernel() {
	nx_debian_versions || return 1
	local rel=${NX_KVER}+deb12-amd64
	local dir=$NX_CACHE/pkgs/linux-image-$rel-$NX_DEB_VERSION

	"$NX_TOP/scripts/debian_pkg.sh" \
		"linux-image-$rel-unsigned=$NX_DEB_VERSION" "$dir" >&2 || return 1
	NX_KERNEL=$dir/boot/vmlinuz-$rel
	NX_MODULES=$dir/lib/modules/$rel
	NX_DEB_IMAGE=linux-image-$rel-unsigned=$NX_DEB_VERSION
}

# Path of module NAME (kvm_amd or kvm-amd) under DIR, any compression.
# Rebuilt modules in NX_MODULES_OVERRIDE (a folder of .ko files) win.
nx_find_module() {
	local alt=${2//_/-} dir ko
	for dir in ${NX_MODULES_OVERRIDE:+"$NX_MODULES_OVERRIDE"} "$1"; do
		ko=$(find "$dir" \( -name "$2.ko*" -o -name "$alt.ko*" \) -print -quit)
		[ -n "$ko" ] && break
	done
	printf '%s\n' "$ko"
}

nx_ko_cat() {
	case $1 in
	*.xz) xz -dc "$1" ;;
	*.zst) zstd -qdc "$1" ;;
	*.gz) gzip -dc "$1" ;;
	*) cat "$1" ;;
	esac
}

# Append NAME's dependencies, then NAME, to NX_ORDER (each once).
nx_module_deps() {
	local dir=$1 name=${2//-/_} ko dep deps
	case " ${NX_ORDER[*]} " in *" $name "*) return 0 ;; esac
	# Built into the kernel (--bisect builds): nothing to load.
	grep -qE "/(${name}|${name//_/-})\.ko\$" "$dir/modules.builtin" \
		2>/dev/null && return 0
	ko=$(nx_find_module "$dir" "$name")
	[ -n "$ko" ] || { echo "nx: module $name not found in $dir" >&2; return 1; }
	deps=$(nx_ko_cat "$ko" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n 1)
	for dep in ${deps//,/ }; do
		nx_module_deps "$dir" "$dep" || return 1
	done
	NX_ORDER+=("$name")
	NX_KO[$name]=$ko
}

# Fetch Debian's perf (linux-perf of NX_PERF_SERIES in versions.env, whose
# tracepoint counting works on 6.12 too) into NX_PERF_BIN.
nx_fetch_perf() {
	nx_debian_versions || return 1
	local pkg=$NX_CACHE/pkgs/linux-perf-$NX_PERF_DEB_VERSION
	"$NX_TOP/scripts/debian_pkg.sh" "linux-perf=$NX_PERF_DEB_VERSION" \
		"$pkg" >&2 || return 1
	NX_DEB_PERF=linux-perf=$NX_PERF_DEB_VERSION
	NX_PERF_BIN=$pkg/usr/bin/perf
}

# --perf: Debian's perf binary and the shared libraries it needs (from this
# host, as ldd resolves them: scripts/install_deps.sh perf installs them)
# into ROOT as /nx/perf/perf.  Without them the guest skips the counts and
# says why.
nx_initramfs_perf() {
	local root=$1 perf lib
	nx_fetch_perf || { echo "nx: --perf: could not fetch linux-perf" >&2; return 0; }
	perf=$NX_PERF_BIN
	if ldd "$perf" | grep -q 'not found'; then
		echo "nx: --perf: libraries of perf missing on this host" \
			"(scripts/install_deps.sh perf):" \
			"$(ldd "$perf" | awk '/not found/ { print $1 }' | tr '\n' ' ')" >&2
		return 0
	fi
	mkdir -p "$root/nx/perf" "$root/lib64" "$root/lib/x86_64-linux-gnu"
	cp "$perf" "$root/nx/perf/perf"
	for lib in $(ldd "$perf" | awk '/=> \// { print $3 }'); do
		cp -L "$lib" "$root/lib/x86_64-linux-gnu/"
	done
	lib=$(ldd "$perf" | awk '$1 ~ /^\/.*ld-linux/ { print $1 }')
	cp -L "$lib" "$root/lib64/"
}

# The common part of an initramfs in ROOT: busybox, INIT as /init,
# scripts/vm/kvm.sh, and the modules named (kvm_amd and kvm_intel, and
# whatever else the VM needs) with their dependencies, in load order in
# nx/modules.order (the vendor modules in nx/modules.amd and .intel: only
# the one for the CPU loads).
nx_initramfs_root() {
	local root=$1 init=$2 bb name
	local -a NX_ORDER=()
	local -A NX_KO=()
	shift 2

	nx_debian_versions || return 1
	bb=$NX_CACHE/pkgs/busybox-static-$NX_BUSYBOX_DEB_VERSION
	"$NX_TOP/scripts/debian_pkg.sh" "busybox-static=$NX_BUSYBOX_DEB_VERSION" \
		"$bb" >&2 || return 1
	NX_DEB_BUSYBOX=busybox-static=$NX_BUSYBOX_DEB_VERSION
	for name in "$@"; do
		nx_module_deps "$NX_MODULES" "$name" || return 1
	done
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,nx/bin,nx/modules}
	cp "$bb/bin/busybox" "$root/bin/busybox"
	cp "$init" "$root/init"
	cp "$NX_TOP/scripts/vm/kvm.sh" "$root/nx/kvm.sh"
	cp "$NX_TOP/scripts/vm/cases_env.sh" "$root/nx/cases_env.sh"
	touch "$root/nx/modules.order"
	for name in "${NX_ORDER[@]}"; do
		nx_ko_cat "${NX_KO[$name]}" >"$root/nx/modules/$name.ko"
		case $name in
		kvm_amd) echo "$name.ko" >>"$root/nx/modules.amd" ;;
		kvm_intel) echo "$name.ko" >>"$root/nx/modules.intel" ;;
		*) echo "$name.ko" >>"$root/nx/modules.order" ;;
		esac
	done
}

# Pack ROOT into the cpio archive OUT, and remove ROOT.
nx_initramfs_pack() {
	(cd "$1" && find . | cpio -o -H newc --quiet) >"$2"
	rm -rf "$1"
}

# Initramfs of the test VM: the common part, the suite's binaries named in
# CATALOGUE (lines "BINARY CASE") and run_cases.sh (scripts/vm/init).
nx_build_initramfs() {
	local out=$1 catalogue=$2 root bin

	root=$(mktemp -d "$NX_CACHE/initramfs.XXXXXX")
	nx_initramfs_root "$root" "$NX_TOP/scripts/vm/init" kvm_amd kvm_intel ||
		{ rm -rf "$root"; return 1; }
	cp "$NX_TOP/scripts/run_cases.sh" "$root/nx/"
	while read -r bin; do
		cp "$bin" "$root/nx/bin/"
	done < <(cut -d' ' -f1 "$catalogue" | sort -u)
	[ "${NX_PERF:-0}" = 1 ] && nx_initramfs_perf "$root"
	sed "s|^[^ ]*/|/nx/bin/|" "$catalogue" >"$root/nx/cases.txt"
	cat >"$root/nx/config" <<-EOC
		NX_HUGEPAGES=$NX_HUGEPAGES
		NX_TEST_TIMEOUT=$NX_TEST_TIMEOUT
		NX_SABOTAGE="${NX_SABOTAGE[*]}"
		NX_MMU_MODES="${NX_MMU_MODES[*]}"
		NX_PERF=${NX_PERF:-0}
		NX_PASSTRACE_DUMP=${NX_PASSTRACE_DUMP:-}
	EOC
	nx_initramfs_pack "$root" "$out"
}

# Initramfs of a VM that is a lab host (scripts/vm/hostroot-init): it loads
# KVM, mounts this machine's root filesystem (9p, read-only) under a tmpfs
# overlay and the folder RESULTS (9p, the only writable share) at the same
# path, and runs CMD there from the checkout.  See nx_vm_hostroot_args.
nx_build_hostroot_initramfs() {
	local out=$1 results=$2 cmd=$3 root

	root=$(mktemp -d "$NX_CACHE/initramfs.XXXXXX")
	nx_initramfs_root "$root" "$NX_TOP/scripts/vm/hostroot-init" \
		9p 9pnet_virtio overlay kvm_amd kvm_intel || { rm -rf "$root"; return 1; }
	{
		printf 'NX_HOST_TOP=%q\n' "$NX_TOP"
		printf 'NX_HOST_RESULTS=%q\n' "$results"
		printf 'NX_HOST_CMD=%q\n' "$cmd"
	} >"$root/nx/config"
	nx_initramfs_pack "$root" "$out"
}

# QEMU options of that VM, into NX_QEMU_EXTRA: / read-only, RESULTS
# writable.  readonly=on is QEMU's own guarantee that the guest cannot
# write to this machine through the root share.
nx_vm_hostroot_args() {
	NX_QEMU_EXTRA=(-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on"
		-device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot"
		-fsdev "local,id=results,path=$1,security_model=none"
		-device "virtio-9p-pci,fsdev=results,mount_tag=results")
}

# Boot NX_KERNEL (its modules in NX_MODULES) as a lab host that runs CMD
# from this checkout, OUT its one writable share, and wait for its TOTAL
# results (the stream: OUT/results.raw).  0: it ran to the end; 125: it
# could not start (NX_INFRA_WHY says why); 1: it died or hung.
nx_vm_hostroot_run() {
	local out=$1 total=$2 cmd=$3 rc
	nx_vm_accel "$NX_KERNEL" >&2 || { NX_INFRA_WHY=$NX_ACCEL_WHY; return 125; }
	nx_build_hostroot_initramfs "$out/initramfs.cpio" "$out" "$cmd" ||
		{ NX_INFRA_WHY="could not build the initramfs"; return 125; }
	nx_vm_hostroot_args "$out"
	nx_vm_boot_all "$total" "$out" >&2
	rc=$?
	rm -f "$out/initramfs.cpio"
	return $rc
}

# Where the accelerator choice looks; the bats tests point these at fakes.
NX_CPUINFO=${NX_CPUINFO:-/proc/cpuinfo}
NX_KVM_DEV=${NX_KVM_DEV:-/dev/kvm}
NX_QEMU=${NX_QEMU:-qemu-system-x86_64}
NX_ACCEL_PROBE_TIMEOUT=${NX_ACCEL_PROBE_TIMEOUT:-20}
# More QEMU options (nx_vm_hostroot_args).
NX_QEMU_EXTRA=()

# Boot KERNEL for a moment under -accel kvm: its first console line
# ("Linux version") proves that QEMU set the vCPU up and the firmware ran.
# A /dev/kvm that cannot nest fails before that (QEMU aborts setting MSRs).
# 0: it got there; 1: it did not, with the reason in NX_ACCEL_WHY.  Called
# with stderr to /dev/null: bash reports the aborted QEMU it reaps there.
nx_kvm_probe() {
	local kernel=$1 dir pid rc t0
	dir=$(mktemp -d "${TMPDIR:-/tmp}/nx-kvm-probe.XXXXXX")
	t0=$(date +%s%N)
	"$NX_QEMU" -accel kvm -cpu host -m 256 -nodefaults -no-reboot \
		-display none -monitor none -kernel "$kernel" \
		-append "console=ttyS0 panic=-1" \
		-chardev "file,id=con,path=$dir/console" -serial chardev:con \
		</dev/null >"$dir/qemu.log" 2>&1 &
	pid=$!
	nx_wait_for "$dir/console" 'Linux version' "$pid" \
		$(($(date +%s) + NX_ACCEL_PROBE_TIMEOUT))
	rc=$?
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	case $rc in
	0) NX_ACCEL_WHY="a QEMU start with -accel kvm reached the kernel in $(nx_seconds_between "$t0" "$(date +%s%N)") s" ;;
	1) NX_ACCEL_WHY="QEMU with -accel kvm stopped before the kernel ran: $(grep -v '^$' "$dir/qemu.log" | tail -n 1)" ;;
	*) NX_ACCEL_WHY="QEMU with -accel kvm did not reach the kernel within ${NX_ACCEL_PROBE_TIMEOUT} s" ;;
	esac
	rm -rf "$dir"
	[ $rc = 0 ]
}

# Why this host cannot give QEMU a KVM that runs our guest (which loads
# kvm_amd or kvm_intel itself, so needs nested SVM/VMX); nothing if it may.
nx_kvm_unusable() {
	if [ ! -c "$NX_KVM_DEV" ] || [ ! -r "$NX_KVM_DEV" ] || [ ! -w "$NX_KVM_DEV" ]; then
		echo "no usable $NX_KVM_DEV"
	elif ! grep -qwE 'svm|vmx' "$NX_CPUINFO" 2>/dev/null; then
		echo "$NX_KVM_DEV present but cannot run a nested SVM/VMX guest" \
			"(no svm or vmx flag in $NX_CPUINFO)"
	fi
}

# Choose QEMU's accelerator once per run, by trying KVM, for KERNEL: sets
# NX_ACCEL (kvm or tcg), NX_ACCEL_WHY and NX_QEMU_ACCEL.  NX_ACCEL_REQ
# (the user's NX_ACCEL: kvm, tcg or auto) forces one; a forced KVM that
# does not work fails (1), with the reason in NX_ACCEL_WHY.
nx_vm_accel() {
	local kernel=$1 why
	[ -n "${NX_QEMU_ACCEL[*]:-}" ] && return 0
	NX_ACCEL=
	case ${NX_ACCEL_REQ:-auto} in
	tcg) NX_ACCEL_WHY="forced by NX_ACCEL=tcg" ;;
	kvm)
		# Forced: tried even without svm/vmx, whose absence is then
		# part of the reason it failed.
		why=$(nx_kvm_unusable)
		nx_kvm_probe "$kernel" 2>/dev/null ||
			{ NX_ACCEL_WHY="NX_ACCEL=kvm: $NX_ACCEL_WHY${why:+ ($why)}"; return 1; }
		NX_ACCEL=kvm
		NX_ACCEL_WHY="forced by NX_ACCEL=kvm; $NX_ACCEL_WHY"
		;;
	*)
		why=$(nx_kvm_unusable)
		if [ -n "$why" ]; then
			NX_ACCEL_WHY="$why: using TCG"
		elif nx_kvm_probe "$kernel" 2>/dev/null; then
			NX_ACCEL=kvm
		else
			NX_ACCEL_WHY="$NX_KVM_DEV present but $NX_ACCEL_WHY: using TCG"
		fi
		;;
	esac
	if [ "${NX_ACCEL:-}" = kvm ]; then
		NX_QEMU_ACCEL=(-accel kvm -cpu host)
	else
		# Multi-threaded TCG crashes the guest when KVM loads.
		NX_ACCEL=tcg
		NX_QEMU_ACCEL=(-accel "tcg,thread=single" -cpu max)
	fi
	echo "nx: accelerator $NX_ACCEL: $NX_ACCEL_WHY"
}

# Wait until FILE holds a line matching PATTERN, PID exits or the deadline
# (seconds since epoch) passes.  0: found, 1: qemu exited, 2: deadline.
nx_wait_for() {
	local file=$1 pattern=$2 pid=$3 deadline=$4
	while :; do
		grep -q "$pattern" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || {
			grep -q "$pattern" "$file" 2>/dev/null && return 0
			return 1
		}
		[ "$(date +%s)" -lt "$deadline" ] || return 2
		sleep 0.2
	done
}

# Seconds, with 0.1 s resolution, between two `date +%s%N` readings.
nx_seconds_between() {
	local ds=$((($2 - $1) / 100000000))
	printf '%d.%d\n' $((ds / 10)) $((ds % 10))
}

# NX_VM_NUMA=2: two NUMA nodes, each with one CPU and half the memory.
nx_vm_numa() {
	local n
	NX_QEMU_NUMA=()
	[ "${NX_VM_NUMA:-1}" = 2 ] || return 0
	for n in 0 1; do
		NX_QEMU_NUMA+=(-object "memory-backend-ram,id=m$n,size=$((NX_VM_MEM / 2))M"
			-numa "node,nodeid=$n,cpus=$n,memdev=m$n")
	done
}

# The QEMU command line, into NX_QEMU_CMD: INITRD, console log, results
# stream (ttyS1).  Every option of the VM is set here.
nx_qemu_cmdline() {
	local initrd=$1 console=$2 results=$3
	# no_timer_check: on a loaded host the early IO-APIC timer check of a
	# TCG guest can fail and panic the boot.
	local append="console=ttyS0 loglevel=4 panic=-1 oops=panic no_timer_check rdinit=/init"
	# 1G hugepages only come from memory reserved at boot.
	append+=" hugepagesz=1G hugepages=$NX_HUGEPAGES_1G"

	local -a NX_QEMU_NUMA
	nx_vm_numa
	NX_QEMU_CMD=("$NX_QEMU" "${NX_QEMU_ACCEL[@]}" -smp 2
		-m "$NX_VM_MEM" "${NX_QEMU_NUMA[@]}"
		-nodefaults -no-reboot -display none -monitor none
		-kernel "$NX_KERNEL" -initrd "$initrd" -append "$append"
		-chardev "file,id=con,path=$console" -serial chardev:con
		-chardev "file,id=res,path=$results" -serial chardev:res
		"${NX_QEMU_EXTRA[@]}")
}

# The last thing a VM that did not get ready said: the guest's own reason,
# a panic, or QEMU's error when it never started.
nx_boot_last_words() {
	local words
	words=$(grep -a -E '^nx-vm:|Kernel panic' "$1/console.log" 2>/dev/null | tail -n 1)
	[ -n "$words" ] || words=$(grep -v '^$' "$1/qemu.log" 2>/dev/null | tail -n 1)
	printf '%s\n' "${words:-no output on the console}" | tr -d '\r'
}

# Start a VM on DIR/initramfs.cpio, its console, results stream and QEMU
# log in DIR; its pid is appended to NX_QEMU_PIDS.
nx_vm_start() {
	local dir=$1
	local -a NX_QEMU_CMD

	nx_qemu_cmdline "$dir/initramfs.cpio" "$dir/console.log" "$dir/results.raw"
	"${NX_QEMU_CMD[@]}" </dev/null >"$dir/qemu.log" 2>&1 &
	NX_QEMU_PIDS+=($!)
}

# Kill every VM of the run (a signal, or one that could not boot).
nx_vm_kill_all() {
	local pid
	for pid in "${NX_QEMU_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	NX_QEMU_PIDS=()
}

# Top-level results so far of the VMs in DIR..., as "DIR:K NAME STATUS"
# (the K-th result of DIR's stream: a name recurs once per MMU mode).
nx_vm_results() {
	local dir
	for dir in "$@"; do
		tr -d '\r' <"$dir/results.raw" 2>/dev/null | awk -v d="$dir" '
			/^ok [0-9]+ / { print d ":" ++k, $3, ($4 == "#" && $5 == "SKIP") ? "skip" : "pass" }
			/^not ok [0-9]+ / { print d ":" ++k, $4, "FAIL" }'
	done
}

# The heartbeat: a line per finished test with the time since T0 (s) and
# an estimate of what is left (TOTAL tests in all), or on a terminal one
# status line kept up to date.  NX_HB_DONE holds the results reported.
nx_vm_heartbeat() {
	local t0=$1 total=$2 now n eta key name status
	shift 2
	now=$(date +%s)
	while read -r key name status; do
		[ -n "${NX_HB_DONE[$key]:-}" ] && continue
		NX_HB_DONE[$key]=1
		n=${#NX_HB_DONE[@]}
		eta=$(((now - t0) * (total - n) / n))
		if [ -t 1 ]; then
			printf '\r\033[Knx: %d/%d done, %d s, about %d s left; last: %s %s' \
				"$n" "$total" $((now - t0)) "$eta" "$name" "$status"
		else
			printf 'nx: [%d/%d] %s %s (%d s, about %d s left)\n' \
				"$n" "$total" "$name" "$status" $((now - t0)) "$eta"
		fi
	done < <(nx_vm_results "$@")
}

# Boot a VM on each DIR/initramfs.cpio at once, with the accelerator
# nx_vm_accel chose, and wait for all to run their TOTAL tests.  Sets
# NX_BOOT_S (the slowest boot) and NX_RUN_S.  Returns 0 all ran to the
# end, 125 one could not boot (the reason in NX_INFRA_WHY; all are
# killed), 1 one died or hung during the tests (named on stdout).
nx_vm_boot_all() {
	local total=$1 t0 t1 i pid dir rc=0 deadline left con
	shift
	local -a dirs=("$@")

	NX_QEMU_PIDS=()
	echo "nx: booting $(basename "$NX_KERNEL") under QEMU ($NX_ACCEL)" \
		"in ${#dirs[@]} VM$([ ${#dirs[@]} = 1 ] || echo s)"
	t0=$(date +%s%N)
	for dir in "${dirs[@]}"; do
		nx_vm_start "$dir"
	done
	deadline=$(($(date +%s) + NX_BOOT_TIMEOUT))
	for i in "${!dirs[@]}"; do
		nx_wait_for "${dirs[$i]}/console.log" '^nx-vm: kvm ready' \
			"${NX_QEMU_PIDS[$i]}" "$deadline"
		rc=$?
		[ $rc = 0 ] && continue
		if [ $rc -eq 1 ]; then
			NX_INFRA_WHY="the VM stopped before KVM was ready"
		else
			NX_INFRA_WHY="the VM did not get KVM ready within ${NX_BOOT_TIMEOUT}s"
		fi
		con=console.log
		[ ${#dirs[@]} = 1 ] || con=${dirs[$i]##*/}/console.log
		NX_INFRA_WHY+=" (see $con): $(nx_boot_last_words "${dirs[$i]}")"
		nx_vm_kill_all
		return 125
	done
	t1=$(date +%s%N)
	NX_BOOT_S=$(nx_seconds_between "$t0" "$t1")
	echo "nx: $(grep -a -m1 '^nx-vm: kvm ready' "${dirs[0]}/console.log") after ${NX_BOOT_S}s"

	deadline=$(($(date +%s) + NX_RUN_TIMEOUT))
	rc=0
	declare -gA NX_HB_DONE=()
	for i in "${!dirs[@]}"; do
		pid=${NX_QEMU_PIDS[$i]}
		while :; do
			nx_vm_heartbeat "$((t1 / 1000000000))" "$total" "${dirs[@]}"
			grep -aq '^nx-vm: done' "${dirs[$i]}/console.log" && break
			kill -0 "$pid" 2>/dev/null || break
			[ "$(date +%s)" -lt "$deadline" ] || break
			sleep 0.5
		done
		left=ok
		grep -aq '^nx-vm: done' "${dirs[$i]}/console.log" || left=bad
		if [ $left = bad ] && kill -0 "$pid" 2>/dev/null; then
			echo "nx: the run did not finish within ${NX_RUN_TIMEOUT}s; VM killed (see ${dirs[$i]}/console.log)"
			kill -9 "$pid" 2>/dev/null
		elif [ $left = bad ]; then
			echo "nx: the VM died during the tests (see ${dirs[$i]}/console.log)"
		fi
		wait "$pid" 2>/dev/null
		[ $left = ok ] || rc=1
	done
	[ -t 1 ] && echo
	NX_QEMU_PIDS=()
	NX_RUN_S=$(nx_seconds_between "$t1" "$(date +%s%N)")
	return $rc
}
