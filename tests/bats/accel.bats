#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
#
# QEMU's accelerator (scripts/vm.sh nx_vm_accel): KVM only where the CPU
# flags allow a nested guest and a short QEMU start under KVM reaches the
# kernel, else TCG, saying why; NX_ACCEL forces one.  And the summary.json
# of a run that fails before any test.  A fake /proc/cpuinfo, /dev/null as
# the KVM device and a fake QEMU: no VM, no KVM, no network.

# SC2016: the bash -c scripts are single-quoted on purpose.
# SC2154: capture (test_helper.bash) sets stderr.
# shellcheck disable=SC2016,SC2154

load test_helper

setup_file() {
	find_python
	[ -x "$NX_TOP/build/nx_summary" ] ||
		flunk "build/nx_summary is not built (make tools)"
}

setup() {
	export FAKE_LOG=$BATS_TEST_TMPDIR/qemu.calls
	export NX_CPUINFO=$BATS_TEST_TMPDIR/cpuinfo
	# Any readable and writable character device passes for /dev/kvm.
	export NX_KVM_DEV=/dev/null
	export NX_QEMU=$BATS_TEST_TMPDIR/qemu
	export NX_ACCEL_PROBE_TIMEOUT=2
	: >"$FAKE_LOG"
	cpu_flags fpu sse2
	# The fake QEMU: FAKE_QEMU=abort fails as QEMU does on a /dev/kvm that
	# cannot nest, boot prints the kernel's first line on the console,
	# hang never does, silent exits at once without a word.
	cat >"$NX_QEMU" <<-'EOF'
		#!/bin/bash
		echo "$*" >>"$FAKE_LOG"
		con=$(printf '%s\n' "$@" | sed -n 's/^file,id=con,path=//p')
		case ${FAKE_QEMU:-boot} in
		abort)
			echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
			echo "qemu-system-x86_64: kvm.c:3183: kvm_buf_set_msrs: Assertion failed." >&2
			exit 134 ;;
		boot) echo "[    0.000000] Linux version 6.12.0-fake" >"$con"; exec sleep 30 ;;
		hang) exec sleep 30 ;;
		silent) exit 1 ;;
		esac
	EOF
	chmod +x "$NX_QEMU"
	echo "not a kernel" >"$BATS_TEST_TMPDIR/bzImage"
}

cpu_flags() {
	printf 'processor\t: 0\nflags\t\t: %s\n' "$*" >"$NX_CPUINFO"
}

# A kernel record of the fake bzImage, and the run's accelerator choice
# file (none made yet).
fake_krec() {
	KREC=$BATS_TEST_TMPDIR/kernel.env CHOICE=$BATS_TEST_TMPDIR/accel.env
	echo "kernel=$BATS_TEST_TMPDIR/bzImage" >"$KREC"
	rm -f "$CHOICE"
	export KREC CHOICE
}

# choose [NX_ACCEL]: nx_vm_accel, then what it chose, as "ACCEL|WHY|QEMU
# options".
choose() {
	fake_krec
	NX_ACCEL=${1:-auto} capture bash -c '
		. "$NX_TOP/scripts/vm.sh"
		nx_vm_accel "$KREC" "$CHOICE" >/dev/null ||
			{ echo "failed|$(nx_krec_get "$KREC" accel_why)"; exit 1; }
		accel=$(nx_krec_get "$KREC" accel)
		echo "$accel|$(nx_krec_get "$KREC" accel_why)|$(nx_qemu_accel_args "$accel" | tr "\n" " " | sed "s/ $//")"'
}

probes() {
	grep -c -- '-accel kvm' "$FAKE_LOG"
}

@test "no svm/vmx flag: TCG, saying why, without starting QEMU" {
	choose
	assert_status 0
	assert_eq "$output" "tcg|/dev/null present but cannot run a nested SVM/VMX guest (no svm or vmx flag in $NX_CPUINFO): using TCG|-accel tcg,thread=single -cpu max"
	assert_eq "$(probes)" 0 "QEMU starts"
}

@test "no KVM device: TCG" {
	cpu_flags fpu svm
	NX_KVM_DEV=$BATS_TEST_TMPDIR/nonexistent choose
	assert_status 0
	assert_eq "$output" "tcg|no usable $BATS_TEST_TMPDIR/nonexistent: using TCG|-accel tcg,thread=single -cpu max"
	assert_eq "$(probes)" 0 "QEMU starts"
}

@test "svm, but QEMU aborts under KVM: TCG, with QEMU's last words" {
	cpu_flags fpu svm
	FAKE_QEMU=abort choose
	assert_status 0
	assert_eq "$output" "tcg|/dev/null present but QEMU with -accel kvm stopped before the kernel ran: qemu-system-x86_64: kvm.c:3183: kvm_buf_set_msrs: Assertion failed.: using TCG|-accel tcg,thread=single -cpu max"
	assert_eq "$(probes)" 1 "QEMU starts"
}

@test "vmx, and QEMU under KVM never reaches the kernel: TCG after the probe's deadline" {
	cpu_flags fpu vmx
	FAKE_QEMU=hang choose
	assert_status 0
	assert_eq "$output" "tcg|/dev/null present but QEMU with -accel kvm did not reach the kernel within 2 s: using TCG|-accel tcg,thread=single -cpu max"
}

@test "svm and a QEMU start under KVM that reaches the kernel: KVM" {
	cpu_flags fpu svm
	FAKE_QEMU=boot choose
	assert_status 0
	[[ $output == "kvm|a QEMU start with -accel kvm reached the kernel in "*" s|-accel kvm -cpu host" ]] ||
		flunk "chose: $output"
	# The probe boots the kernel it was given, on a bounded console.
	grep -q -- "-kernel $BATS_TEST_TMPDIR/bzImage " "$FAKE_LOG" || flunk "$(<"$FAKE_LOG")"
}

@test "the choice is made once per run" {
	cpu_flags fpu svm
	fake_krec
	FAKE_QEMU=boot NX_ACCEL=auto capture bash -c '
		. "$NX_TOP/scripts/vm.sh"
		nx_vm_accel "$KREC" "$CHOICE" && nx_vm_accel "$KREC" "$CHOICE" &&
			nx_krec_get "$KREC" accel'
	assert_status 0
	assert_eq "$output" "nx: accelerator kvm: ${lines[0]#nx: accelerator kvm: }
kvm"
	assert_eq "$(probes)" 1 "QEMU starts"
}

@test "NX_ACCEL=tcg: TCG even where KVM works, no probe" {
	cpu_flags fpu svm
	choose tcg
	assert_status 0
	assert_eq "$output" "tcg|forced by NX_ACCEL=tcg|-accel tcg,thread=single -cpu max"
	assert_eq "$(probes)" 0 "QEMU starts"
}

@test "NX_ACCEL=kvm: tried even without svm/vmx; a failure is the caller's error with the reason" {
	FAKE_QEMU=abort choose kvm
	assert_status 1
	assert_eq "$output" "failed|NX_ACCEL=kvm: QEMU with -accel kvm stopped before the kernel ran: qemu-system-x86_64: kvm.c:3183: kvm_buf_set_msrs: Assertion failed. (/dev/null present but cannot run a nested SVM/VMX guest (no svm or vmx flag in $NX_CPUINFO))"
	cpu_flags svm
	FAKE_QEMU=boot choose kvm
	assert_status 0
	[[ $output == "kvm|forced by NX_ACCEL=kvm; a QEMU start"* ]] || flunk "chose: $output"
}

# A bzImage header that nx_bzimage_release reads: the kernel_version
# offset at 0x20e, the string 0x200 further on.
fake_bzimage() {
	"$NX_PYTHON" -c '
import struct, sys
img = bytearray(0x800)
img[0x20e:0x210] = struct.pack("<H", 0x400)
rel = b"6.12.0-fake (nobody@nowhere) #1"
img[0x600:0x600 + len(rel)] = rel
open(sys.argv[1], "wb").write(img)' "$1"
}

# runner: run_nx_tests.sh with a fake build (one case, the real
# nx_summary), a fake kernel image and results under BATS_TEST_TMPDIR.
runner() {
	local build=$BATS_TEST_TMPDIR/build
	make_fake_build "$build" alpha_test:fake.a.one
	ln -sf "$NX_TOP/build/nx_summary" "$build/nx_summary"
	fake_bzimage "$BATS_TEST_TMPDIR/vmlinuz"
	mkdir -p "$BATS_TEST_TMPDIR/modules"
	# The Debian builds as resolved: no archive is asked.
	NX_DEB_RESOLVED=1 NX_BUSYBOX_DEB_VERSION=1.0-1 \
		NX_NO_BUILD=1 NX_BUILD=$build NX_CACHE=$BATS_TEST_TMPDIR/cache \
		capture "$NX_TOP/run_nx_tests.sh" --kernel "$BATS_TEST_TMPDIR/vmlinuz" \
		--modules "$BATS_TEST_TMPDIR/modules" --results "$BATS_TEST_TMPDIR/results"
}

@test "a forced KVM that fails: exit 125, summary.json says infrastructure and why" {
	FAKE_QEMU=abort NX_ACCEL=kvm runner
	assert_status 125
	local json
	json=$(echo "$BATS_TEST_TMPDIR"/results/*-6.12.0-fake/summary.json)
	[ -f "$json" ] || flunk "no summary.json:" "$output"
	assert_eq "$(json_flat "$json" | grep -E '^\.run\.(status|kernel_release|accel)=|^\.tests')" \
		'.run.status="infrastructure"
.run.kernel_release="6.12.0-fake"
.run.accel="none"'
	json_flat "$json" | grep -qF '.run.reason="NX_ACCEL=kvm: QEMU with -accel kvm stopped before the kernel ran: qemu-system-x86_64: kvm.c:3183' ||
		flunk "reason:" "$(json_flat "$json")"
	[[ $stderr == *"nx: NX_ACCEL=kvm: QEMU with -accel kvm stopped"* ]] || flunk "stderr: $stderr"
	# No case was run, nor even listed for the VM.
	assert_no_case_run "$BATS_TEST_TMPDIR/build"
}

@test "NX_ACCEL other than kvm or tcg: usage error" {
	NX_ACCEL=hvf runner
	assert_status 2
	assert_eq "$stderr" "run_nx_tests.sh: NX_ACCEL=hvf: expected kvm or tcg
Try 'run_nx_tests.sh --help'."
}

# Just enough for nx_build_initramfs: a cached busybox-static and modules
# whose modinfo names their dependencies.
fake_initramfs_inputs() {
	local m=$BATS_TEST_TMPDIR/modules bb=$BATS_TEST_TMPDIR/cache/pkgs/busybox-static-1.0-1
	mkdir -p "$bb/bin" "$m"
	: >"$bb/bin/busybox"
	touch "$bb/.unpacked"
	printf 'depends=\0' >"$m/kvm.ko"
	printf 'depends=kvm\0' >"$m/kvm-amd.ko"
	printf 'depends=kvm\0' >"$m/kvm-intel.ko"
}

@test "a VM that stops before KVM is ready: exit 125, summary.json says infrastructure and why" {
	fake_initramfs_inputs
	FAKE_QEMU=silent NX_BOOT_TIMEOUT=20 runner
	assert_status 125
	local json
	json=$(echo "$BATS_TEST_TMPDIR"/results/*-6.12.0-fake/summary.json)
	[ -f "$json" ] || flunk "no summary.json:" "$output" "$stderr"
	assert_eq "$(json_flat "$json" | grep -E '^\.run\.(status|reason|accel)=')" \
		'.run.status="infrastructure"
.run.reason="the VM stopped before KVM was ready (see console.log): no output on the console"
.run.accel="tcg"'
	# The QEMU that was started is the TCG one, never KVM.
	assert_eq "$(probes)" 0 "KVM starts"
	grep -q -- '-accel tcg,thread=single -cpu max' "$FAKE_LOG" || flunk "$(<"$FAKE_LOG")"
}
