# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# VM mode of run_nx_tests.sh: fetch the kernel, build the initramfs, boot it
# under QEMU and collect what the guest reports.  Sourced.
#
# What a boot needs and what it found travel in a kernel record (KREC, a
# file of key=value lines, scripts/kv.sh; scripts/krec.sh declares the keys):
# the functions here take it, and the other files they need, as arguments,
# and read nothing of their caller's variables.  From the environment they
# read only the documented knobs (NX_ACCEL, NX_BOOT_TIMEOUT, NX_RUN_TIMEOUT,
# NX_VM_MEM, NX_VM_NUMA, NX_HUGEPAGES_1G, NX_QEMU and the paths NX_TOP,
# NX_CACHE and NX_BUILD, whose nx_summary reads the results).  Their own state is the QEMUs running (NX_VM_PIDS, for
# nx_vm_kill_all from a signal handler) and the Debian builds resolved once
# per run (nx_debian_versions).

# shellcheck source=scripts/krec.sh
. "$NX_TOP/scripts/krec.sh"

# Kernel release of a bzImage, from its setup header (kernel_version field).
nx_bzimage_release() {
	local off
	off=$(od -An -tu2 -j $((0x20e)) -N2 "$1" | tr -d ' ')
	[ -n "$off" ] && [ "$off" -gt 0 ] || return 1
	dd if="$1" bs=1 skip=$((off + 0x200)) count=128 status=none |
		tr '\0' '\n' | head -n 1 | cut -d' ' -f1
}

# The Debian builds to fetch (scripts/debian_version.sh: the newest of each
# series in versions.env) as NX_KVER, NX_DEB_VERSION, NX_PERF_DEB_VERSION
# and NX_BUSYBOX_DEB_VERSION, resolved once per run, when first needed
# (NX_DEB_RESOLVED=1: already given, as the bats tests do).
nx_debian_versions() {
	local out
	[ "${NX_DEB_RESOLVED:-0}" = 1 ] && return 0
	out=$("$NX_TOP/scripts/debian_version.sh") || return 1
	nx_kv_import <<<"$out" || return 1
	NX_DEB_RESOLVED=1
}

# Default kernel, into KREC (kernel, modules, deb_image): Debian's image of
# the same build as the source the suite and --kvm-src modules are built
# from.
nx_vm_default_kernel() {
	local krec=$1 rel dir
	nx_debian_versions || return 1
	rel=${NX_KVER}+deb12-amd64
	dir=$NX_CACHE/pkgs/linux-image-$rel-$NX_DEB_VERSION
	"$NX_TOP/scripts/debian_pkg.sh" \
		"linux-image-$rel-unsigned=$NX_DEB_VERSION" "$dir" >&2 || return 1
	nx_krec_set "$krec" kernel "$dir/boot/vmlinuz-$rel"
	nx_krec_set "$krec" modules "$dir/lib/modules/$rel"
	nx_krec_set "$krec" deb_image "linux-image-$rel-unsigned=$NX_DEB_VERSION"
}

# Path of module NAME (kvm_amd or kvm-amd) under DIR, any compression.
# Rebuilt modules in OVERRIDE (a folder of .ko files), if given, win.
nx_find_module() {
	local dir=$1 name=$2 override=${3:-} alt=${2//_/-} d ko
	for d in ${override:+"$override"} "$dir"; do
		ko=$(find "$d" \( -name "$name.ko*" -o -name "$alt.ko*" \) -print -quit)
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

# "NAME PATH" lines of module NAME's dependencies, then NAME, in load
# order, leaving out the names in SEEN (space-separated) and what is built
# into the kernel (--bisect builds).  DIR and OVERRIDE as nx_find_module.
nx_module_deps() {
	local dir=$1 override=$2 name=${3//-/_} seen=" ${4:-} " ko dep deps out
	case $seen in *" $name "*) return 0 ;; esac
	grep -qE "/(${name}|${name//_/-})\.ko\$" "$dir/modules.builtin" \
		2>/dev/null && return 0
	ko=$(nx_find_module "$dir" "$name" "$override")
	[ -n "$ko" ] || { echo "nx: module $name not found in $dir" >&2; return 1; }
	deps=$(nx_ko_cat "$ko" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n 1)
	for dep in ${deps//,/ }; do
		out=$(nx_module_deps "$dir" "$override" "$dep" "$seen") || return 1
		[ -n "$out" ] || continue
		printf '%s\n' "$out"
		seen+=" $(cut -d' ' -f1 <<<"$out" | tr '\n' ' ')"
	done
	echo "$name $ko"
}

# "NAME PATH" lines of the modules NAME... and their dependencies, each
# once, in load order, for the kernel of KREC (its modules, and rebuilt
# ones in modules_override).
nx_module_order() {
	local krec=$1 dir override name out seen=''
	shift
	dir=$(nx_krec_get "$krec" modules) || { echo "nx: no modules for the kernel" >&2; return 1; }
	override=$(nx_krec_get "$krec" modules_override)
	for name in "$@"; do
		out=$(nx_module_deps "$dir" "$override" "$name" "$seen") || return 1
		[ -n "$out" ] || continue
		printf '%s\n' "$out"
		seen+=" $(cut -d' ' -f1 <<<"$out" | tr '\n' ' ')"
	done
}

# Fetch Debian's perf (linux-perf of NX_PERF_SERIES in versions.env, whose
# tracepoint counting works on 6.12 too), naming it in KREC (deb_perf,
# perf_bin).
nx_fetch_perf() {
	local krec=$1 pkg
	nx_debian_versions || return 1
	pkg=$NX_CACHE/pkgs/linux-perf-$NX_PERF_DEB_VERSION
	"$NX_TOP/scripts/debian_pkg.sh" "linux-perf=$NX_PERF_DEB_VERSION" \
		"$pkg" >&2 || return 1
	nx_krec_set "$krec" deb_perf "linux-perf=$NX_PERF_DEB_VERSION"
	nx_krec_set "$krec" perf_bin "$pkg/usr/bin/perf"
}

# --perf: Debian's perf binary and the shared libraries it needs (from this
# host, as ldd resolves them: scripts/install_deps.sh perf installs them)
# into ROOT as /nx/perf/perf.  Without them the guest skips the counts and
# says why.
nx_initramfs_perf() {
	local root=$1 krec=$2 perf lib
	nx_fetch_perf "$krec" || { echo "nx: --perf: could not fetch linux-perf" >&2; return 0; }
	perf=$(nx_krec_get "$krec" perf_bin)
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

# The common part of an initramfs in ROOT for the kernel of KREC: busybox
# (named in KREC as deb_busybox), INIT as /init, RUNCONF as /nx/run.conf,
# scripts/vm/ (/nx/*.sh), and the modules named (kvm_amd and kvm_intel,
# and whatever else the VM needs) with their dependencies, in load order
# in nx/modules.order (the vendor modules in nx/modules.amd and .intel:
# only the one for the CPU loads).
nx_initramfs_root() {
	local root=$1 init=$2 runconf=$3 krec=$4 bb order name ko f
	shift 4

	nx_debian_versions || return 1
	bb=$NX_CACHE/pkgs/busybox-static-$NX_BUSYBOX_DEB_VERSION
	"$NX_TOP/scripts/debian_pkg.sh" "busybox-static=$NX_BUSYBOX_DEB_VERSION" \
		"$bb" >&2 || return 1
	nx_krec_set "$krec" deb_busybox "busybox-static=$NX_BUSYBOX_DEB_VERSION"
	order=$(nx_module_order "$krec" "$@") || return 1
	mkdir -p "$root"/{bin,dev,proc,sys,tmp,nx/bin,nx/modules}
	cp "$bb/bin/busybox" "$root/bin/busybox"
	cp "$init" "$root/init"
	cp "$runconf" "$root/nx/run.conf"
	for f in kvm.sh cases_env.sh run_conf.sh; do
		cp "$NX_TOP/scripts/vm/$f" "$root/nx/$f"
	done
	touch "$root/nx/modules.order"
	while read -r name ko; do
		[ -n "$name" ] || continue
		nx_ko_cat "$ko" >"$root/nx/modules/$name.ko"
		case $name in
		kvm_amd) echo "$name.ko" >>"$root/nx/modules.amd" ;;
		kvm_intel) echo "$name.ko" >>"$root/nx/modules.intel" ;;
		*) echo "$name.ko" >>"$root/nx/modules.order" ;;
		esac
	done <<<"$order"
}

# Pack ROOT into the cpio archive OUT, and remove ROOT.
nx_initramfs_pack() {
	(cd "$1" && find . | cpio -o -H newc --quiet) >"$2"
	rm -rf "$1"
}

# Initramfs OUT of the test VM (scripts/vm/init) for the kernel of KREC:
# the common part, RUNCONF (the run's options: run_nx_tests.sh
# write_run_conf), the suite's binaries named in CATALOGUE (lines "BINARY
# CASE"), run_cases.sh and nx_summary; perf when RUNCONF asks for it.
nx_build_initramfs() {
	local out=$1 catalogue=$2 runconf=$3 krec=$4 root bin

	root=$(mktemp -d "$NX_CACHE/initramfs.XXXXXX")
	nx_initramfs_root "$root" "$NX_TOP/scripts/vm/init" "$runconf" "$krec" \
		kvm_amd kvm_intel || { rm -rf "$root"; return 1; }
	cp "$NX_TOP/scripts/run_cases.sh" "$root/nx/"
	while read -r bin; do
		cp "$bin" "$root/nx/bin/"
	done < <(cut -d' ' -f1 "$catalogue" | sort -u)
	# run_cases.sh's reader of each case's KTAP (static, like the tests).
	cp "$NX_BUILD/nx_summary" "$root/nx/"
	[ "$(nx_kv_get "$runconf" perf)" = 1 ] && nx_initramfs_perf "$root" "$krec"
	sed "s|^[^ ]*/|/nx/bin/|" "$catalogue" >"$root/nx/cases.txt"
	nx_initramfs_pack "$root" "$out"
}

# Initramfs OUT of a VM that is a lab host (scripts/vm/hostroot-init) for
# the kernel of KREC: it loads KVM, mounts this machine's root filesystem
# (9p, read-only) under a tmpfs overlay and the folder RESULTS (9p, the
# only writable share: KREC's share) at the same path, and runs CMD there
# from the checkout.  Its run.conf names the three.
nx_build_hostroot_initramfs() {
	local out=$1 results=$2 cmd=$3 krec=$4 root conf

	root=$(mktemp -d "$NX_CACHE/initramfs.XXXXXX")
	conf=$root.conf
	: >"$conf"
	nx_kv_set "$conf" host_top "$NX_TOP" &&
		nx_kv_set "$conf" host_results "$results" &&
		nx_kv_set "$conf" host_cmd "$cmd" &&
		nx_initramfs_root "$root" "$NX_TOP/scripts/vm/hostroot-init" "$conf" \
			"$krec" 9p 9pnet_virtio overlay kvm_amd kvm_intel
	local rc=$?
	rm -f "$conf"
	[ $rc = 0 ] || { rm -rf "$root"; return 1; }
	nx_krec_set "$krec" share "$results"
	nx_initramfs_pack "$root" "$out"
}

# Boot the kernel of KREC as a lab host that runs CMD from this checkout,
# OUT its one writable share, and wait for its TOTAL results (the stream:
# OUT/results.raw).  The accelerator is chosen anew (nx_vm_accel, kept in
# OUT/accel.env).  0: it ran to the end; 125: it could not start (KREC's
# infra_why says why); 1: it died or hung.
nx_vm_hostroot_run() {
	local krec=$1 out=$2 total=$3 cmd=$4 rc
	rm -f "$out/accel.env"
	if ! nx_vm_accel "$krec" "$out/accel.env" >&2; then
		nx_krec_set "$krec" infra_why "$(nx_krec_get "$krec" accel_why)"
		return 125
	fi
	nx_build_hostroot_initramfs "$out/initramfs.cpio" "$out" "$cmd" "$krec" ||
		{ nx_krec_set "$krec" infra_why "could not build the initramfs"; return 125; }
	nx_vm_boot_all "$krec" "$total" "$out" >&2
	rc=$?
	# A lab host's results are in its share: it sends no side files.
	rm -f "$out/initramfs.cpio" "$out/side.tar"
	return $rc
}

# The exit status of the command a lab-host VM in OUT ran (its init's
# "nx-vm: done (exit N)" on the console), or nothing if it never finished.
nx_vm_hostroot_status() {
	sed -n 's/^nx-vm: done (exit \([0-9]*\)).*/\1/p' "$1/console.log"
}

# Where the accelerator choice looks; the bats tests point these at fakes.
NX_CPUINFO=${NX_CPUINFO:-/proc/cpuinfo}
NX_KVM_DEV=${NX_KVM_DEV:-/dev/kvm}
NX_QEMU=${NX_QEMU:-qemu-system-x86_64}
NX_ACCEL_PROBE_TIMEOUT=${NX_ACCEL_PROBE_TIMEOUT:-20}
# The QEMUs running (nx_vm_boot_all), for nx_vm_kill_all.
NX_VM_PIDS=()

# Boot KERNEL for a moment under -accel kvm: its first console line
# ("Linux version") proves that QEMU set the vCPU up and the firmware ran.
# A /dev/kvm that cannot nest fails before that (QEMU aborts setting MSRs).
# Prints what it saw; 0: it got there, 1: it did not.  Called with stderr
# to /dev/null: bash reports the aborted QEMU it reaps there.
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
	0) echo "a QEMU start with -accel kvm reached the kernel in $(nx_seconds_between "$t0" "$(date +%s%N)") s" ;;
	1) echo "QEMU with -accel kvm stopped before the kernel ran: $(grep -v '^$' "$dir/qemu.log" | tail -n 1)" ;;
	*) echo "QEMU with -accel kvm did not reach the kernel within ${NX_ACCEL_PROBE_TIMEOUT} s" ;;
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

# Choose QEMU's accelerator for KERNEL by trying KVM: prints the record
# lines accel=kvm|tcg and accel_why=REASON.  NX_ACCEL (kvm, tcg or auto)
# forces one; a forced KVM that does not work fails (1), with an empty
# accel and the reason.
nx_vm_choose_accel() {
	local kernel=$1 why probe
	case ${NX_ACCEL:-auto} in
	tcg) printf 'accel=tcg\naccel_why=forced by NX_ACCEL=tcg\n' ;;
	kvm)
		# Forced: tried even without svm/vmx, whose absence is then
		# part of the reason it failed.
		why=$(nx_kvm_unusable)
		if ! probe=$(nx_kvm_probe "$kernel" 2>/dev/null); then
			printf 'accel=\naccel_why=NX_ACCEL=kvm: %s%s\n' "$probe" "${why:+ ($why)}"
			return 1
		fi
		printf 'accel=kvm\naccel_why=forced by NX_ACCEL=kvm; %s\n' "$probe"
		;;
	*)
		why=$(nx_kvm_unusable)
		if [ -n "$why" ]; then
			printf 'accel=tcg\naccel_why=%s: using TCG\n' "$why"
		elif probe=$(nx_kvm_probe "$kernel" 2>/dev/null); then
			printf 'accel=kvm\naccel_why=%s\n' "$probe"
		else
			printf 'accel=tcg\naccel_why=%s present but %s: using TCG\n' \
				"$NX_KVM_DEV" "$probe"
		fi
		;;
	esac
}

# The accelerator for the kernel of KREC, chosen once per run: CHOICE (a
# record file of the run) keeps it once made, and KREC gets a copy (accel,
# accel_why).  Says which on stdout when it chooses.  1: a forced KVM
# failed (KREC's accel_why says why; nothing is kept, the next kernel
# tries again).
nx_vm_accel() {
	local krec=$1 choice=$2 made
	if [ ! -s "$choice" ]; then
		if ! made=$(nx_vm_choose_accel "$(nx_krec_get "$krec" kernel)"); then
			nx_krec_put "$krec" <<<"$made"
			return 1
		fi
		nx_kv_put "$choice" <<<"$made" || return 1
		echo "nx: accelerator $(nx_kv_get "$choice" accel): $(nx_kv_get "$choice" accel_why)"
	fi
	nx_krec_put "$krec" <"$choice"
}

# QEMU's options of accelerator ACCEL (kvm or tcg), one a line.
nx_qemu_accel_args() {
	if [ "$1" = kvm ]; then
		printf '%s\n' -accel kvm -cpu host
	else
		# Multi-threaded TCG crashes the guest when KVM loads.
		printf '%s\n' -accel tcg,thread=single -cpu max
	fi
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

# NX_VM_NUMA=2: the options of two NUMA nodes, each with one CPU and half
# the memory, one a line.
nx_vm_numa_args() {
	local n
	[ "${NX_VM_NUMA:-1}" = 2 ] || return 0
	for n in 0 1; do
		printf '%s\n' -object "memory-backend-ram,id=m$n,size=$((NX_VM_MEM / 2))M" \
			-numa "node,nodeid=$n,cpus=$n,memdev=m$n"
	done
}

# The QEMU command line of the kernel of KREC, one word a line: INITRD,
# console log, results stream (ttyS1), side files (ttyS2: the test VM's
# tar archives, scripts/vm/init), and KREC's share (a lab host's
# 9p shares: / read-only, the share writable; readonly=on is QEMU's own
# guarantee that the guest cannot write to this machine through the root
# share).  Every option of the VM is set here.
nx_qemu_args() {
	local krec=$1 initrd=$2 console=$3 results=$4 side=$5 share
	# no_timer_check: on a loaded host the early IO-APIC timer check of a
	# TCG guest can fail and panic the boot.
	local append="console=ttyS0 loglevel=4 panic=-1 oops=panic no_timer_check rdinit=/init"
	# 1G hugepages only come from memory reserved at boot.
	append+=" hugepagesz=1G hugepages=${NX_HUGEPAGES_1G:-1}"

	printf '%s\n' "$NX_QEMU"
	nx_qemu_accel_args "$(nx_krec_get "$krec" accel)"
	printf '%s\n' -smp 2 -m "${NX_VM_MEM:-5120}"
	nx_vm_numa_args
	printf '%s\n' -nodefaults -no-reboot -display none -monitor none \
		-kernel "$(nx_krec_get "$krec" kernel)" -initrd "$initrd" \
		-append "$append" \
		-chardev "file,id=con,path=$console" -serial chardev:con \
		-chardev "file,id=res,path=$results" -serial chardev:res \
		-chardev "file,id=side,path=$side" -serial chardev:side
	share=$(nx_krec_get "$krec" share) || return 0
	printf '%s\n' \
		-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on" \
		-device "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot" \
		-fsdev "local,id=results,path=$share,security_model=none" \
		-device "virtio-9p-pci,fsdev=results,mount_tag=results"
}

# The last thing a VM that did not get ready said: the guest's own reason,
# a panic, or QEMU's error when it never started.
nx_boot_last_words() {
	local words
	words=$(grep -a -E '^nx-vm:|Kernel panic' "$1/console.log" 2>/dev/null | tail -n 1)
	[ -n "$words" ] || words=$(grep -v '^$' "$1/qemu.log" 2>/dev/null | tail -n 1)
	printf '%s\n' "${words:-no output on the console}" | tr -d '\r'
}

# Start a VM of the kernel of KREC on DIR/initramfs.cpio, its console,
# results stream, side files (side.tar) and QEMU log in DIR; its pid is
# appended to NX_VM_PIDS.
nx_vm_start() {
	local krec=$1 dir=$2
	local -a cmd

	mapfile -t cmd < <(nx_qemu_args "$krec" "$dir/initramfs.cpio" \
		"$dir/console.log" "$dir/results.raw" "$dir/side.tar")
	"${cmd[@]}" </dev/null >"$dir/qemu.log" 2>&1 &
	NX_VM_PIDS+=($!)
}

# Kill every VM of the run (a signal, or one that could not boot).
nx_vm_kill_all() {
	local pid
	for pid in "${NX_VM_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	NX_VM_PIDS=()
}

# Top-level results so far of the VMs in DIR..., as "DIR:K NAME STATUS"
# (the K-th result of DIR's stream: a name recurs once per MMU mode;
# STATUS pass, skip or FAIL), as NX_BUILD's nx_summary reads them.
nx_vm_results() {
	local dir k line status results
	for dir in "$@"; do
		k=0
		# Read whole first: a process substitution outlives the runner
		# unreaped.
		results=$("$NX_BUILD/nx_summary" --ktap "$dir/results.raw" --cases 2>/dev/null)
		# The status is the last word: a lab host's TAP names have spaces.
		while read -r line; do
			[ -n "$line" ] || continue
			k=$((k + 1))
			status=${line##* }
			case $status in pass | skip) ;; *) status=FAIL ;; esac
			echo "$dir:$k ${line% *} $status"
		done <<<"$results"
	done
}

# The heartbeat: a line per result of the VMs in DIR... not in the file
# SEEN yet (which gets its key), with the time since T0 (s) and an
# estimate of what is left (TOTAL tests in all); on a terminal one status
# line kept up to date.
nx_vm_heartbeat() {
	local t0=$1 total=$2 seen=$3 now n eta key name status
	local -A shown=()
	shift 3
	now=$(date +%s)
	while read -r key; do
		shown[$key]=1
	done <"$seen"
	while read -r key name status; do
		[ -n "${shown[$key]:-}" ] && continue
		shown[$key]=1
		echo "$key" >>"$seen"
		n=${#shown[@]}
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

# Wait for each VM started in DIR... (the pids of NX_VM_PIDS, in order) to
# get KVM ready, all by NX_BOOT_TIMEOUT.  0: all did; 125: one did not,
# the reason in KREC's infra_why, and all are killed.
nx_vm_wait_ready() {
	local krec=$1 deadline i rc why con
	shift
	local -a dirs=("$@")
	deadline=$(($(date +%s) + ${NX_BOOT_TIMEOUT:-300}))
	for i in "${!dirs[@]}"; do
		nx_wait_for "${dirs[$i]}/console.log" '^nx-vm: kvm ready' \
			"${NX_VM_PIDS[$i]}" "$deadline"
		rc=$?
		[ $rc = 0 ] && continue
		if [ $rc -eq 1 ]; then
			why="the VM stopped before KVM was ready"
		else
			why="the VM did not get KVM ready within ${NX_BOOT_TIMEOUT:-300}s"
		fi
		con=console.log
		[ ${#dirs[@]} = 1 ] || con=${dirs[$i]##*/}/console.log
		nx_krec_set "$krec" infra_why "$why (see $con): $(nx_boot_last_words "${dirs[$i]}")"
		nx_vm_kill_all
		return 125
	done
}

# Wait for the VM of DIR (pid PID) to say it is done, by DEADLINE (epoch
# seconds), with the heartbeat of all of them (T0, TOTAL, SEEN, DIRS...).
# 0: done; 1: it died, or it hung and was killed (said on stdout).
nx_vm_wait_done() {
	local dir=$1 pid=$2 deadline=$3
	shift 3
	while :; do
		nx_vm_heartbeat "$@"
		grep -aq '^nx-vm: done' "$dir/console.log" && break
		kill -0 "$pid" 2>/dev/null || break
		[ "$(date +%s)" -lt "$deadline" ] || break
		sleep 0.5
	done
	if grep -aq '^nx-vm: done' "$dir/console.log"; then
		wait "$pid" 2>/dev/null
		return 0
	fi
	if kill -0 "$pid" 2>/dev/null; then
		echo "nx: the run did not finish within ${NX_RUN_TIMEOUT:-1800}s; VM killed (see $dir/console.log)"
		kill -9 "$pid" 2>/dev/null
	else
		echo "nx: the VM died during the tests (see $dir/console.log)"
	fi
	wait "$pid" 2>/dev/null
	return 1
}

# Boot a VM of the kernel of KREC (its accelerator chosen: nx_vm_accel) on
# each DIR/initramfs.cpio at once, and wait for all to run their TOTAL
# tests.  Writes boot_s (the slowest boot) and run_s to KREC.  Returns 0
# all ran to the end, 125 one could not boot (KREC's infra_why says why;
# all are killed), 1 one died or hung during the tests (named on stdout).
nx_vm_boot_all() {
	local krec=$1 total=$2 t0 t1 i dir rc=0 deadline seen boot_s kernel
	shift 2
	local -a dirs=("$@")

	NX_VM_PIDS=()
	kernel=$(nx_krec_get "$krec" kernel)
	echo "nx: booting $(basename "$kernel") under QEMU ($(nx_krec_get "$krec" accel))" \
		"in ${#dirs[@]} VM$([ ${#dirs[@]} = 1 ] || echo s)"
	t0=$(date +%s%N)
	for dir in "${dirs[@]}"; do
		nx_vm_start "$krec" "$dir"
	done
	nx_vm_wait_ready "$krec" "${dirs[@]}" || return 125
	t1=$(date +%s%N)
	boot_s=$(nx_seconds_between "$t0" "$t1")
	nx_krec_set "$krec" boot_s "$boot_s"
	echo "nx: $(grep -a -m1 '^nx-vm: kvm ready' "${dirs[0]}/console.log") after ${boot_s}s"

	deadline=$(($(date +%s) + ${NX_RUN_TIMEOUT:-1800}))
	seen=$(mktemp "${TMPDIR:-/tmp}/nx-heartbeat.XXXXXX")
	for i in "${!dirs[@]}"; do
		nx_vm_wait_done "${dirs[$i]}" "${NX_VM_PIDS[$i]}" "$deadline" \
			"$((t1 / 1000000000))" "$total" "$seen" "${dirs[@]}" || rc=1
	done
	rm -f "$seen"
	[ -t 1 ] && echo
	NX_VM_PIDS=()
	nx_krec_set "$krec" run_s "$(nx_seconds_between "$t1" "$(date +%s%N)")"
	return $rc
}
