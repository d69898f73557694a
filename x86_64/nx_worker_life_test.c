// SPDX-License-Identifier: GPL-2.0-only
/*
 * The NX recovery worker's life: when it is created and what may happen
 * to a VM before it exists.
 *
 * Since 6.14 (Debian's 6.12 carries it) the worker is a vhost_task, a
 * thread of the VMM, created by the first KVM_RUN and not by
 * KVM_CREATE_VM: a VMM that forks after creating its VMs (crosvm's
 * minijail) must still be single-threaded then.  Creating it late opened
 * two holes that upstream closed: parameter writes waking the worker of a
 * VM that never ran (NULL dereference), and a signal during the first
 * KVM_RUN failing the creation for good (KVM_RUN returned ENOMEM; the
 * case storms signals until a kprobe saw a creation interrupted and
 * restarted).  Older
 * kernels (Debian's 6.1) create a kthread with the VM instead.
 */
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_kmsg.h"
#include "nx_params.h"
#include "nx_poll.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_trace.h"
#include "nx_traits.h"
#include "nx_vcpu.h"
#include "nx_vm.h"
#include "nx_worker.h"

#define WORKER_DEADLINE_MS	5000
#define NR_VMS			2
/* Rounds of the racy cases: each creates a VM and runs it once. */
#define PARAM_ROUNDS		20
#define SIGNAL_ROUNDS		30
/* ... and more, until the storm was seen to interrupt a creation. */
#define MAX_SIGNAL_ROUNDS	300
#define ROUNDS_DEADLINE_MS	60000
#define KILL_ROUNDS		10
/* Recovery is on during the kill rounds, but no pass is due in them. */
#define KILL_PERIOD_MS		600000
#define NR_REGIONS		4
#define PARAM_DIR		"module/kvm/parameters/"
/* The VM's KVM loader (scripts/vm/kvm.sh), for the case that reloads it. */
#define KVM_SH			"/nx/kvm.sh"

static void guest_code(void)
{
	for (;;)
		GUEST_SYNC(0);
}

/* One guest step: the first KVM_RUN of a fresh vCPU creates the worker. */
static void run_once(struct kvm_vcpu *vcpu, const char *what)
{
	struct ucall uc;

	nx_vcpu_run(vcpu, what);
	TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_SYNC,
		    "%s: expected a UCALL_SYNC exit, got ucall %lu (exit reason %u)",
		    what, uc.cmd, vcpu->run->exit_reason);
}

static void expect_workers(int n, const char *when)
{
	int seen = nx_workers_wait(getpid(), getpid(), n, WORKER_DEADLINE_MS);

	TEST_ASSERT(seen == n,
		    "%s: expected %d NX recovery workers ('" NX_WORKER_COMM "*' threads or '" NX_WORKER_KTHREAD "' kthreads) within %d ms, saw %d",
		    when, n, getpid(), WORKER_DEADLINE_MS, seen);
}

/*
 * vhost_task kernels: no thread before the first KVM_RUN, one per VM
 * after it, none once the VMs are gone.  6.1: one kthread per VM from
 * KVM_CREATE_VM on, never a thread of the VMM.
 */
static void run_created_at_first_run(const struct nx_case *c)
{
	bool vhost = nx_kernel_has(NX_TRAIT_VHOST_WORKER);
	struct kvm_vcpu *vcpu[NR_VMS];
	struct kvm_vm *vm[NR_VMS];
	int i, threads;

	nx_require_root();
	printf("worker model of %s: %s\n", nx_kernel_release(), vhost ?
	       "vhost_task of the VMM, created at the first KVM_RUN" :
	       "kthread created with the VM (pre-6.14 kernel)");
	TEST_ASSERT(nx_thread_count(getpid()) == 1,
		    "before any VM: expected 1 thread, got %d",
		    nx_thread_count(getpid()));
	for (i = 0; i < NR_VMS; i++)
		vm[i] = vm_create_with_one_vcpu(&vcpu[i], guest_code);
	expect_workers(vhost ? 0 : NR_VMS, "after KVM_CREATE_VM and KVM_CREATE_VCPU");
	threads = nx_thread_count(getpid());
	TEST_ASSERT(threads == 1,
		    "after KVM_CREATE_VM and KVM_CREATE_VCPU: expected the VMM's own thread only, got %d threads",
		    threads);
	for (i = 0; i < NR_VMS; i++) {
		run_once(vcpu[i], "first KVM_RUN");
		expect_workers(vhost ? i + 1 : NR_VMS, "after a first KVM_RUN");
		run_once(vcpu[i], "second KVM_RUN");
	}
	expect_workers(NR_VMS, "after a second KVM_RUN of each VM");
	threads = nx_thread_count(getpid());
	TEST_ASSERT(threads == 1 + (vhost ? NR_VMS : 0),
		    "after running %d VMs: expected %d threads, got %d",
		    NR_VMS, 1 + (vhost ? NR_VMS : 0), threads);
	for (i = 0; i < NR_VMS; i++) {
		kvm_vm_free(vm[i]);
		expect_workers(NR_VMS - i - 1, "after a VM was destroyed");
	}
}

struct writer {
	pthread_t thread;
	bool stop;
	unsigned long writes;
};

static void param_write(const char *name, const char *val)
{
	int r = nx_sysfs_write(name, val);

	TEST_ASSERT(!r, "writing %s to /sys/%s: expected success, got %s",
		    val, name, strerror(-r));
}

/*
 * Each write wakes every VM's worker: enabling recovery, lowering the
 * period, toggling the mitigation (which zaps too).
 */
static void wake_all(void)
{
	param_write(PARAM_DIR "nx_huge_pages_recovery_ratio", "0");
	param_write(PARAM_DIR "nx_huge_pages_recovery_period_ms", "60000");
	param_write(PARAM_DIR "nx_huge_pages_recovery_ratio", "1");
	param_write(PARAM_DIR "nx_huge_pages_recovery_period_ms", "1000");
	param_write(PARAM_DIR "nx_huge_pages", "N");
	param_write(PARAM_DIR "nx_huge_pages", "Y");
}

static void *writer_fn(void *arg)
{
	struct writer *w = arg;

	while (!READ_ONCE(w->stop)) {
		wake_all();
		w->writes++;
	}
	return NULL;
}

/*
 * Parameter writes while VMs exist that never ran, also racing their
 * first KVM_RUN (the worker appears then): no splat, and recovery works
 * for a VM run after them.
 */
static void run_params_before_first_run(const struct nx_case *c)
{
	uint64_t deadline = nx_now_us() + ROUNDS_DEADLINE_MS * 1000ULL;
	unsigned long writes = 0;
	struct kvm_vcpu *vcpu;
	struct writer w;
	struct kvm_vm *vm;
	struct nx_vm v;
	int i, kmsg, r;

	nx_prepare_split_host(NR_REGIONS, NX_PERIOD_MS);
	/* Saved once here; the writer thread writes without saving. */
	nx_require_kvm_param("nx_huge_pages", "Y");
	nx_require_kvm_param("nx_huge_pages_recovery_ratio", "0");
	kmsg = nx_kmsg_open();
	for (i = 0; i < PARAM_ROUNDS && nx_now_us() < deadline; i++) {
		vm = vm_create_with_one_vcpu(&vcpu, guest_code);
		wake_all();
		memset(&w, 0, sizeof(w));
		r = pthread_create(&w.thread, NULL, writer_fn, &w);
		TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
		run_once(vcpu, "first KVM_RUN beside parameter writes");
		WRITE_ONCE(w.stop, true);
		pthread_join(w.thread, NULL);
		writes += w.writes;
		kvm_vm_free(vm);
	}
	TEST_ASSERT(i == PARAM_ROUNDS,
		    "expected %d rounds within %d ms, did %d", PARAM_ROUNDS,
		    ROUNDS_DEADLINE_MS, i);
	nx_metric("racing_write_rounds", writes, "rounds");
	nx_kmsg_expect_clean(kmsg, "parameter writes with never-run VMs");

	nx_require_kvm_param("nx_huge_pages_recovery_ratio", "0");
	nx_vm_create(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, NR_REGIONS, true,
		     false);
	nx_vm_read_all(&v);
	nx_vm_exec_all(&v);
	nx_vm_recover_all(&v, NX_PERIOD_MS,
			  "recovery after the parameter writes", "recovery_ms");
	nx_vm_free(&v);
}

/*
 * The storm: a timer signalling the vCPU thread every STORM_INTERVAL_NS,
 * so that a signal is pending whenever the first KVM_RUN creates the
 * worker (copy_process() then fails with -ERESTARTNOINTR, and KVM must
 * let the ioctl restart).  It stops itself after STORM_SIGNALS, so that a
 * KVM_RUN restarted over and over completes.
 */
#define STORM_INTERVAL_NS	20000
#define STORM_SIGNALS		200

static timer_t storm_timer;
static unsigned long storm_handled;

static void storm_arm(bool on)
{
	struct itimerspec its = {
		.it_value.tv_nsec = on ? 1 : 0,
		.it_interval.tv_nsec = on ? STORM_INTERVAL_NS : 0,
	};

	timer_settime(storm_timer, 0, &its, NULL);
}

static void on_storm_signal(int sig)
{
	if (++storm_handled % STORM_SIGNALS == 0)
		storm_arm(false);
}

static void storm_create(void)
{
	struct sigaction sa = { .sa_handler = on_storm_signal };
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = SIGUSR1,
	};

	/* No SA_RESTART: KVM_RUN returns EINTR once the guest was entered. */
	sigemptyset(&sa.sa_mask);
	TEST_ASSERT(!sigaction(SIGUSR1, &sa, NULL), "sigaction");
	sev._sigev_un._tid = syscall(SYS_gettid);
	TEST_ASSERT(!timer_create(CLOCK_MONOTONIC, &sev, &storm_timer),
		    "timer_create");
}

/*
 * KVM_RUN under the storm until the guest reaches its first ucall: each
 * KVM_RUN may return EINTR, never another error.
 */
static unsigned long first_run_in_storm(struct kvm_vcpu *vcpu, int round)
{
	unsigned long eintr = 0;
	struct ucall uc;
	int r;

	storm_handled = 0;
	storm_arm(true);
	for (;;) {
		r = ioctl(vcpu->fd, KVM_RUN, NULL);
		if (r && errno == EINTR) {
			eintr++;
			continue;
		}
		TEST_ASSERT(!r,
			    "round %d: first KVM_RUN under a signal storm: expected success or EINTR, got %s (%lu signals handled)",
			    round, strerrorname_np(errno), storm_handled);
		if (get_ucall(vcpu, &uc) == UCALL_SYNC)
			break;
	}
	storm_arm(false);
	return eintr;
}

/*
 * What the storm did to the worker's creation, seen from the kernel: a
 * creation it interrupted is a vhost_task_create() that returned
 * ERR_PTR(-ERESTARTNOINTR) (copy_process() found a signal pending), which
 * KVM must turn into a restart of KVM_RUN.  The storm's timing is luck;
 * the trace says whether the restart path was exercised at all.
 */
#define ERESTARTNOINTR		513
#define MAX_CREATIONS		1024

static const char *const create_syms[] = { "vhost_task_create", NULL };
static struct nx_probe create_probes[] = {
	{ "create_ret", true, create_syms, true, "ret=$retval:s64" },
};

static struct nx_trace_rec *creations;

static void trace_creations(void)
{
	creations = calloc(MAX_CREATIONS, sizeof(*creations));
	TEST_ASSERT(creations, "out of memory");
	nx_trace_open();
	nx_trace_add_probes(create_probes, ARRAY_SIZE(create_probes));
	nx_trace_filter_pid(getpid());
	nx_trace_enable(true);
}

static int interrupted_creations(void)
{
	int i, n, interrupted = 0;

	n = nx_trace_read(create_probes, ARRAY_SIZE(create_probes), creations,
			  MAX_CREATIONS);
	for (i = 0; i < n; i++)
		interrupted += creations[i].ret == -ERESTARTNOINTR;
	return interrupted;
}

static void run_signals_at_first_run(const struct nx_case *c)
{
	uint64_t deadline = nx_now_us() + ROUNDS_DEADLINE_MS * 1000ULL;
	bool vhost = nx_kernel_has(NX_TRAIT_VHOST_WORKER);
	unsigned long eintr = 0, handled = 0;
	struct kvm_vcpu *vcpu;
	int i, interrupted = 0;
	struct kvm_vm *vm;

	nx_require_root();
	/* A kthread (6.1) is created with the VM, not by KVM_RUN. */
	if (vhost)
		trace_creations();
	storm_create();
	for (i = 0; (i < SIGNAL_ROUNDS || (vhost && !interrupted)) &&
		    i < MAX_SIGNAL_ROUNDS && nx_now_us() < deadline; i++) {
		vm = vm_create_with_one_vcpu(&vcpu, guest_code);
		eintr += first_run_in_storm(vcpu, i);
		handled += storm_handled;
		/* A creation the storm interrupted was retried. */
		expect_workers(1, "after a first KVM_RUN under signals");
		run_once(vcpu, "KVM_RUN after the storm");
		kvm_vm_free(vm);
		if (vhost)
			interrupted = interrupted_creations();
	}
	timer_delete(storm_timer);
	nx_metric("kvm_run_eintr", eintr, "returns");
	nx_metric("signals_handled", handled, "signals");
	nx_metric("rounds", i, "rounds");
	TEST_ASSERT(i >= SIGNAL_ROUNDS,
		    "expected %d rounds within %d ms, did %d", SIGNAL_ROUNDS,
		    ROUNDS_DEADLINE_MS, i);
	if (!vhost)
		return;
	nx_metric("interrupted_creations", interrupted, "creations");
	TEST_ASSERT(interrupted,
		    "in %d rounds (%lu signals) the storm never interrupted a worker's creation (vhost_task_create() never returned -ERESTARTNOINTR): the restart was not exercised",
		    i, handled);
	printf("the storm interrupted %d attempts to create the workers of %d VMs, each restarted\n",
	       interrupted, i);
}

/*
 * A VMM whose VM ran once (it has a worker), reporting that on @ack, then
 * waiting to be killed.  It never returns into the test's exit handlers.
 */
static pid_t fork_vmm(void)
{
	struct kvm_vcpu *vcpu;
	int ack[2];
	pid_t pid;
	char c;

	TEST_ASSERT(!pipe(ack), "pipe");
	fflush(stdout);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (!pid) {
		close(ack[0]);
		vm_create_with_one_vcpu(&vcpu, guest_code);
		run_once(vcpu, "the killed VMM's first KVM_RUN");
		TEST_ASSERT(write(ack[1], "r", 1) == 1, "VMM: cannot report");
		for (;;)
			pause();
	}
	close(ack[1]);
	TEST_ASSERT(read(ack[0], &c, 1) == 1,
		    "the VMM (pid %d) died before its first KVM_RUN completed",
		    pid);
	close(ack[0]);
	return pid;
}

/* Only the ratio moves: enabling recovery wakes every worker. */
static void *ratio_writer_fn(void *arg)
{
	struct writer *w = arg;

	while (!READ_ONCE(w->stop)) {
		param_write(PARAM_DIR "nx_huge_pages_recovery_ratio", "1");
		param_write(PARAM_DIR "nx_huge_pages_recovery_ratio", "0");
		w->writes++;
	}
	return NULL;
}

/*
 * For each byte on @cmd: start a VMM, SIGKILL it once its VM ran, reap
 * it, answer on @res.  It is forked before the test's own VM exists: a
 * fork write-protects the memory of a VM's process, which makes KVM zap
 * the VM's mappings.
 */
static void __noreturn kill_launcher(int cmd, int res)
{
	int status;
	pid_t pid;
	char c;

	while (read(cmd, &c, 1) == 1) {
		pid = fork_vmm();
		TEST_ASSERT(!kill(pid, SIGKILL), "SIGKILL");
		TEST_ASSERT(waitpid(pid, &status, 0) == pid &&
			    WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			    "VMM %d: expected death by SIGKILL, got status 0x%x",
			    pid, status);
		TEST_ASSERT(write(res, "k", 1) == 1, "launcher: cannot answer");
	}
	_exit(0);
}

static pid_t start_launcher(int *cmd, int *res)
{
	int c[2], r[2];
	pid_t pid;

	TEST_ASSERT(!pipe(c) && !pipe(r), "pipe");
	fflush(stdout);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (!pid) {
		close(c[1]);
		close(r[0]);
		kill_launcher(c[0], r[1]);
	}
	close(c[0]);
	close(r[1]);
	*cmd = c[1];
	*res = r[0];
	return pid;
}

/*
 * SIGKILL of VMMs while their workers are woken without pause: no splat,
 * and recovery of the VM that lives on works.  VM mode only: the writes
 * wake every worker of the host, for seconds.
 */
static void run_kill_while_waking(const struct nx_case *c)
{
	struct writer w = { 0 };
	int i, kmsg, cmd, res, r;
	struct nx_vm v;
	pid_t launcher;
	char a;

	nx_prepare_split_host(NR_REGIONS, KILL_PERIOD_MS);
	kmsg = nx_kmsg_open();
	launcher = start_launcher(&cmd, &res);
	nx_vm_create(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, NR_REGIONS, true,
		     false);
	nx_vm_read_all(&v);
	nx_vm_exec_all(&v);
	r = pthread_create(&w.thread, NULL, ratio_writer_fn, &w);
	TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	for (i = 0; i < KILL_ROUNDS; i++)
		TEST_ASSERT(write(cmd, "v", 1) == 1 && read(res, &a, 1) == 1,
			    "round %d: the VMM launcher (pid %d) died (see its output above)",
			    i, launcher);
	WRITE_ONCE(w.stop, true);
	pthread_join(w.thread, NULL);
	close(cmd);
	waitpid(launcher, NULL, 0);
	nx_metric("ratio_write_rounds", w.writes, "rounds");
	nx_kmsg_expect_clean(kmsg, "killing VMMs while waking their workers");
	/* No pass was due: the VM beside them kept its splits. */
	nx_vm_expect(&v, "the VM beside the killed VMMs");
	nx_vm_recover_all(&v, NX_PERIOD_MS, "recovery after the kills",
			  "recovery_ms");
	nx_vm_free(&v);
}

/* Unload and load kvm.ko and the vendor module as the VM's init does. */
static void reload_kvm(const char *why)
{
	const char *mmu = getenv("NX_MMU");
	char cmd[512];
	int r;

	snprintf(cmd, sizeof(cmd),
		 ". " KVM_SH " && vendor=kvm_amd && { grep -qw svm /proc/cpuinfo || vendor=kvm_intel; } && kvm_unload && kvm_load %s",
		 mmu ? mmu : "tdp");
	fflush(stdout);
	r = system(cmd);
	TEST_ASSERT(!r, "reloading KVM (%s): expected exit status 0, got 0x%x from: %s",
		    why, r, cmd);
}

static void expect_write(const char *param, const char *val, int err)
{
	int r = nx_sysfs_write(param, val);

	TEST_ASSERT(r == -err,
		    "writing '%s' to /sys/%s after 'never': expected %s, got %s",
		    val, param, err ? strerror(err) : "success",
		    r ? strerror(-r) : "success");
}

static void expect_param(const char *name, const char *want)
{
	char buf[64];

	TEST_ASSERT(!nx_kvm_param_read(name, buf, sizeof(buf)),
		    "kvm.%s: cannot read it", name);
	TEST_ASSERT(!strcmp(buf, want), "kvm.%s: expected '%s', reads '%s'",
		    name, want, buf);
}

/*
 * nx_huge_pages=never in a freshly loaded kvm.ko (no VM exists): it reads
 * back "never", every later write of the NX parameters fails with EPERM,
 * a new VM gets no worker and executes from 2M pages without splits.
 * "never" lasts until kvm.ko is reloaded, which the case does at its end:
 * VM mode only.  (With a VM alive, "never" is refused: param_values.)
 */
static void run_never(const struct nx_case *c)
{
	char buf[64] = "";
	struct nx_vm v;
	int n;

	if (access(KVM_SH, R_OK))
		nx_skip("no " KVM_SH ": kvm.ko can be reloaded only in the suite's VM");
	nx_require_root();
	nx_require_no_numa_balancing();
	nx_require_hugepages_2m(NR_REGIONS);
	reload_kvm("a fresh kvm.ko for 'never'");
	expect_write(PARAM_DIR "nx_huge_pages", "never", 0);
	expect_param("nx_huge_pages", "never");
	expect_write(PARAM_DIR "nx_huge_pages", "Y", EPERM);
	expect_write(PARAM_DIR "nx_huge_pages", "never", EPERM);
	expect_write(PARAM_DIR "nx_huge_pages_recovery_ratio", "1", EPERM);
	expect_write(PARAM_DIR "nx_huge_pages_recovery_period_ms", "100",
		     EPERM);
	expect_param("nx_huge_pages", "never");
	nx_vm_create(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, NR_REGIONS, false,
		     false);
	n = nx_workers_wait(getpid(), getpid(), 0, 0);
	TEST_ASSERT(!n,
		    "a VM that ran under 'never': expected no NX recovery worker, saw %d",
		    n);
	nx_vm_read_all(&v);
	nx_vm_exec_all(&v);
	nx_vm_free(&v);
	reload_kvm("leaving a normal kvm.ko");
	TEST_ASSERT(!nx_kvm_param_read("nx_huge_pages", buf, sizeof(buf)) &&
		    strcmp(buf, "never"),
		    "kvm.nx_huge_pages after the reload: expected a value other than 'never', reads '%s'",
		    buf);
}

static const struct nx_case cases[] = {
	{ "created_at_first_run", run_created_at_first_run,
	  .needs = { .flags = NX_NEEDS_ROOT } },
	{ "hugetlb_2m.params_before_first_run", run_params_before_first_run,
	  .needs = NX_SPLIT_HOST_NEEDS(NR_REGIONS) },
	{ "signals_at_first_run", run_signals_at_first_run,
	  .needs = { .flags = NX_NEEDS_ROOT | NX_NEEDS_KPROBES } },
	{ "hugetlb_2m.kill_while_waking", run_kill_while_waking,
	  .vm_only = "wakes every recovery worker of the host for seconds while killing VMMs",
	  .needs = NX_SPLIT_HOST_NEEDS(NR_REGIONS) },
	{ "hugetlb_2m.never", run_never,
	  .vm_only = "sets kvm.nx_huge_pages=never, which lasts until kvm.ko is reloaded, and reloads kvm.ko",
	  .needs = { .flags = NX_NEEDS_ROOT, .hugepages_2m = NR_REGIONS } },
};

static const struct nx_suite suite = {
	.name = "nx_worker_life",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
};

NX_SUITE_MAIN(suite)
