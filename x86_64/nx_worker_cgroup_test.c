// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where the NX recovery worker runs, and that it stops with its VMM.
 *
 * A vhost_task worker (NX_TRAIT_VHOST_WORKER) is a thread of the VMM: it
 * inherits the cgroup and CPU affinity of the thread whose first KVM_RUN
 * created it, and it stops when the VMM is frozen (cgroup v2) or stopped
 * (SIGSTOP), so that no recovery pass runs for a VMM its manager paused.
 * Before it, a kthread was attached to the VMM's cgroups: a cgroup v2
 * freeze of the VMM never completes (a kthread does not freeze) and the
 * kthread goes on recovering while the VMM is stopped.  The tests assert
 * the model of the kernel they run on and say which it is.
 *
 * The VMM is a child process, so that freezing or stopping it leaves the
 * test running; the test reads the VM's split count from debugfs.
 */
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_params.h"
#include "nx_poll.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_traits.h"
#include "nx_vcpu.h"
#include "nx_vm.h"
#include "nx_worker.h"

#define NR_REGIONS		8
#define WORKER_DEADLINE_MS	5000
#define STOP_DEADLINE_MS	5000
/*
 * Recovery is on with this period when the VMM is frozen or stopped: the
 * worker then sleeps inside KVM's callback, which must let it freeze or
 * stop.  Longer than STOP_DEADLINE_MS, so that a worker that sleeps on
 * regardless of signals is caught.
 */
#define LONG_PERIOD_MS		20000
/* Bounded waits that assert that no pass runs. */
#define QUIET_MS		1500
#define CHILD_DEADLINE_MS	30000

struct vmm {
	pid_t pid;
	int vm_fd;
	int go;		/* write end: a byte starts the VMM, EOF ends it */
	int ack;	/* read end: the VM's fd once it is set up */
	int cpu;	/* the VMM's only CPU; -1: all */
};

static pid_t vmm_pid;

static void vmm_kill(void)
{
	if (vmm_pid > 0) {
		kill(vmm_pid, SIGKILL);
		waitpid(vmm_pid, NULL, 0);
		vmm_pid = 0;
	}
}

static void guest_code(void)
{
	for (;;)
		GUEST_SYNC(0);
}

/*
 * The VMM: one VM, split in every region (@split) or just run once.  It
 * ends with _exit(): exit() would run the test's handlers, which restore
 * the module parameters.
 */
static void __noreturn vmm_main(int go, int ack, int cpu, bool split)
{
	struct kvm_vcpu *vcpu;
	struct ucall uc;
	struct nx_vm v;
	char c;
	int fd;

	TEST_ASSERT(read(go, &c, 1) == 1, "VMM: no start byte");
	if (cpu >= 0)
		nx_pin_self_to_cpu(cpu);
	if (split) {
		nx_vm_create(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, NR_REGIONS,
			     true, false);
		nx_vm_read_all(&v);
		nx_vm_exec_all(&v);
		fd = v.vm->fd;
	} else {
		v.vm = vm_create_with_one_vcpu(&vcpu, guest_code);
		nx_vcpu_run(vcpu, "first KVM_RUN");
		TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_SYNC,
			    "first KVM_RUN: expected UCALL_SYNC, got %lu",
			    uc.cmd);
		fd = v.vm->fd;
	}
	TEST_ASSERT(write(ack, &fd, sizeof(fd)) == sizeof(fd),
		    "VMM: cannot report its VM");
	while (read(go, &c, 1) > 0)
		;
	kvm_vm_free(v.vm);
	_exit(0);
}

/* Fork the VMM; @cg (if set) holds it before it creates its VM. */
static void vmm_start(struct vmm *m, const struct nx_cgroup *cg, bool split)
{
	int go[2], ack[2];

	TEST_ASSERT(!pipe(go) && !pipe(ack), "pipe");
	fflush(stdout);
	m->pid = fork();
	TEST_ASSERT(m->pid >= 0, "fork");
	if (!m->pid) {
		close(go[1]);
		close(ack[0]);
		vmm_main(go[0], ack[1], m->cpu, split);
	}
	vmm_pid = m->pid;
	atexit(vmm_kill);
	close(go[0]);
	close(ack[1]);
	m->go = go[1];
	m->ack = ack[0];
	if (cg)
		nx_cgroup_enter(cg, m->pid);
	TEST_ASSERT(write(m->go, "g", 1) == 1, "cannot start the VMM");
	TEST_ASSERT(read(m->ack, &m->vm_fd, sizeof(m->vm_fd)) ==
		    sizeof(m->vm_fd),
		    "the VMM (pid %d) died setting up its VM (see its output above)",
		    m->pid);
}

static void vmm_stop(struct vmm *m)
{
	int status;

	close(m->go);
	TEST_ASSERT(waitpid(m->pid, &status, 0) == m->pid,
		    "waitpid(%d)", m->pid);
	vmm_pid = 0;
	TEST_ASSERT(WIFEXITED(status) && !WEXITSTATUS(status),
		    "the VMM: expected exit status 0, got 0x%x", status);
	close(m->ack);
}

/* The VMM's one worker. */
static pid_t vmm_worker(struct vmm *m)
{
	pid_t tids[NX_WORKER_MAX];
	int n;

	n = nx_workers_wait(m->pid, m->pid, 1, WORKER_DEADLINE_MS);
	TEST_ASSERT(n == 1,
		    "VMM %d after its first KVM_RUN: expected 1 NX recovery worker within %d ms, saw %d",
		    m->pid, WORKER_DEADLINE_MS, n);
	nx_workers(m->pid, m->pid, tids, 1);
	return tids[0];
}

static int64_t vmm_splits(struct vmm *m)
{
	char rel[128];
	uint64_t val;
	int r;

	snprintf(rel, sizeof(rel), "kernel/debug/kvm/%d-%d/nx_lpage_splits",
		 m->pid, m->vm_fd);
	r = nx_sysfs_read_u64(rel, &val);
	TEST_ASSERT(!r, "reading /sys/%s: %s", rel, strerror(-r));
	return val;
}

struct splits_query {
	struct vmm *m;
	int64_t want;	/* the count waited for; -1: any change from @was */
	int64_t was, seen;
};

static bool splits_reached(void *arg)
{
	struct splits_query *q = arg;

	q->seen = vmm_splits(q->m);
	return q->want >= 0 ? q->seen == q->want : q->seen != q->was;
}

/* Wait for the VMM's split count to reach @want; returns the ms taken. */
static double expect_splits(struct vmm *m, int64_t want, uint64_t timeout_ms,
			    const char *when)
{
	struct splits_query q = { m, want };
	struct nx_poll_result res;

	nx_poll_until(splits_reached, &q, timeout_ms, 5000, &res);
	TEST_ASSERT(res.met,
		    "%s: expected nx_lpage_splits=%ld within %lu ms, got %ld",
		    when, want, timeout_ms, q.seen);
	return res.elapsed_us / 1000.0;
}

/* No recovery pass in a bounded wait: the count must stay at @was. */
static void expect_no_pass(struct vmm *m, int64_t was, const char *when)
{
	struct splits_query q = { m, -1, was };

	nx_poll_until(splits_reached, &q, QUIET_MS, 5000, NULL);
	TEST_ASSERT(q.seen == was,
		    "%s: expected no recovery pass in %d ms (nx_lpage_splits=%ld), got nx_lpage_splits=%ld",
		    when, QUIET_MS, was, q.seen);
}

struct sleep_query {
	pid_t tid;
	long before;
	char state;
};

static bool slept_again(void *arg)
{
	struct sleep_query *q = arg;

	q->state = nx_task_state(q->tid);
	return nx_task_sleeps(q->tid) > q->before &&
	       (q->state == 'S' || q->state == 'I' || q->state == 'D');
}

/*
 * Recovery on with a long period, and the worker woken by it gone back to
 * sleep: it now waits for its next pass inside KVM's callback, where a
 * freeze or SIGSTOP must reach it.  (Stopped before it ran, a worker
 * stops in vhost_task's own loop, which proves nothing of KVM's.)
 */
static void recovery_on_long(pid_t worker, bool vhost)
{
	struct sleep_query q = { worker, nx_task_sleeps(worker) };
	struct nx_poll_result res;

	nx_set_recovery(1, LONG_PERIOD_MS);
	if (!vhost)
		return;
	nx_poll_until(slept_again, &q, WORKER_DEADLINE_MS, 1000, &res);
	TEST_ASSERT(res.met,
		    "worker %d after recovery was enabled: expected it to wake and sleep again within %d ms, got state '%c', %ld sleeps (%ld before)",
		    worker, WORKER_DEADLINE_MS, q.state, nx_task_sleeps(worker),
		    q.before);
}

static void require_debugfs_kvm(void)
{
	if (access("/sys/kernel/debug/kvm", R_OK))
		nx_skip("no /sys/kernel/debug/kvm: the VMM's split count is read there");
}

static void print_model(bool vhost)
{
	printf("worker model of %s: %s\n", nx_kernel_release(), vhost ?
	       "vhost_task of the VMM (it freezes and stops with the VMM)" :
	       "kthread attached to the VMM's cgroups (pre-6.14: it neither freezes nor stops)");
}

static bool same_cpus(pid_t tid, int cpu, char *desc, size_t len)
{
	cpu_set_t set;
	int i, n = 0;

	TEST_ASSERT(!sched_getaffinity(tid, sizeof(set), &set),
		    "sched_getaffinity(%d)", tid);
	desc[0] = '\0';
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			n += snprintf(desc + n, len - n, "%s%d", n ? "," : "",
				      i);
	return CPU_COUNT(&set) == 1 && CPU_ISSET(cpu, &set);
}

/*
 * The worker runs where its VMM does: the VMM's cgroup (both models) and,
 * for a vhost_task, the CPUs of the thread that ran the first KVM_RUN.
 */
static void run_placement(const struct nx_case *c)
{
	bool vhost = nx_kernel_has(NX_TRAIT_VHOST_WORKER);
	struct vmm m = { .cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1 };
	char cgroup[512], cpus[256];
	struct nx_cgroup cg;
	pid_t tid;
	bool pinned;

	nx_require_root();
	print_model(vhost);
	nx_cgroup_create(&cg, "nx-worker-placement");
	vmm_start(&m, &cg, false);
	tid = vmm_worker(&m);
	TEST_ASSERT(nx_task_cgroup(tid, cgroup, sizeof(cgroup)),
		    "worker %d: no cgroup v2 in /proc/%d/cgroup", tid, tid);
	TEST_ASSERT(!strcmp(cgroup, nx_cgroup_rel(&cg)),
		    "worker %d of VMM %d: expected cgroup '%s' (the VMM's), got '%s'",
		    tid, m.pid, nx_cgroup_rel(&cg), cgroup);
	pinned = same_cpus(tid, m.cpu, cpus, sizeof(cpus));
	printf("worker %d: cgroup %s, CPUs %s (VMM pinned to CPU %d)\n", tid,
	       cgroup, cpus, m.cpu);
	TEST_ASSERT(!vhost || pinned,
		    "vhost_task worker %d: expected the CPUs of the thread that ran the first KVM_RUN (%d), got %s",
		    tid, m.cpu, cpus);
	vmm_stop(&m);
	nx_cgroup_remove(&cg);
}


static bool cg_frozen(void *arg)
{
	return nx_cgroup_frozen(arg);
}

/*
 * vhost_task: the freeze completes while the worker waits for its next
 * pass, no pass runs while frozen even with the period lowered (which
 * wakes the worker), recovery resumes after the thaw.  kthread: the freeze never completes and the
 * kthread recovers all the same.
 */
static void run_cgroup_freeze(const struct nx_case *c)
{
	bool vhost = nx_kernel_has(NX_TRAIT_VHOST_WORKER);
	struct vmm m = { .cpu = -1 };
	struct nx_poll_result res;
	struct nx_cgroup cg;
	pid_t worker;

	nx_prepare_split_host(NR_REGIONS, NX_PERIOD_MS);
	require_debugfs_kvm();
	print_model(vhost);
	nx_cgroup_create(&cg, "nx-worker-freeze");
	vmm_start(&m, &cg, true);
	worker = vmm_worker(&m);
	expect_splits(&m, NR_REGIONS, 0, "after the VMM split its regions");
	recovery_on_long(worker, vhost);
	nx_cgroup_freeze(&cg, true);
	nx_poll_until(cg_frozen, (void *)&cg, STOP_DEADLINE_MS, 5000, &res);
	if (!vhost) {
		TEST_ASSERT(!res.met,
			    "kthread worker: expected the freeze of %s never to complete (frozen 0 after %d ms), got frozen 1",
			    cg.path, STOP_DEADLINE_MS);
		printf("kernel behaviour: cgroup v2 freeze with a kthread worker inside does not complete (frozen 0 after %d ms); recovery goes on\n",
		       STOP_DEADLINE_MS);
		nx_set_recovery(1, NX_PERIOD_MS);
		expect_splits(&m, 0, NX_RECOVERY_DEADLINE_MS,
			      "kthread worker, VMM freezing");
	} else {
		TEST_ASSERT(res.met,
			    "cgroup.events of %s: expected frozen 1 within %d ms, got frozen 0",
			    cg.path, STOP_DEADLINE_MS);
		nx_metric("freeze_ms", res.elapsed_us / 1000.0, "ms");
		nx_set_recovery(1, NX_PERIOD_MS);
		expect_no_pass(&m, NR_REGIONS, "recovery on, VMM frozen");
		nx_cgroup_freeze(&cg, false);
		nx_metric("thaw_recovery_ms",
			  expect_splits(&m, 0, NX_RECOVERY_DEADLINE_MS,
					"after the thaw"), "ms");
	}
	nx_cgroup_freeze(&cg, false);
	vmm_stop(&m);
	nx_cgroup_remove(&cg);
}

struct stop_query {
	pid_t pid, worker;
	bool vhost;
};

static bool vmm_stopped(void *arg)
{
	struct stop_query *q = arg;

	return nx_task_state(q->pid) == 'T' &&
	       (!q->vhost || nx_task_state(q->worker) == 'T');
}

/* SIGSTOP/SIGCONT of the VMM: the same, for a vhost_task worker. */
static void run_sigstop(const struct nx_case *c)
{
	bool vhost = nx_kernel_has(NX_TRAIT_VHOST_WORKER);
	struct vmm m = { .cpu = -1 };
	struct nx_poll_result res;
	struct stop_query q;

	nx_prepare_split_host(NR_REGIONS, NX_PERIOD_MS);
	require_debugfs_kvm();
	print_model(vhost);
	vmm_start(&m, NULL, true);
	q = (struct stop_query){ m.pid, vmm_worker(&m), vhost };
	expect_splits(&m, NR_REGIONS, 0, "after the VMM split its regions");
	recovery_on_long(q.worker, vhost);
	TEST_ASSERT(!kill(m.pid, SIGSTOP), "SIGSTOP");
	nx_poll_until(vmm_stopped, &q, STOP_DEADLINE_MS, 5000, &res);
	TEST_ASSERT(res.met,
		    "after SIGSTOP: expected the VMM %d%s in state T within %d ms, got '%c' (worker %d '%c')",
		    m.pid, vhost ? " and its worker" : "", STOP_DEADLINE_MS,
		    nx_task_state(m.pid), q.worker, nx_task_state(q.worker));
	nx_set_recovery(1, NX_PERIOD_MS);
	if (!vhost) {
		printf("kernel behaviour: a kthread worker goes on recovering while its VMM is stopped\n");
		expect_splits(&m, 0, NX_RECOVERY_DEADLINE_MS,
			      "kthread worker, VMM stopped");
	} else {
		expect_no_pass(&m, NR_REGIONS, "recovery on, VMM stopped");
	}
	TEST_ASSERT(!kill(m.pid, SIGCONT), "SIGCONT");
	nx_metric("cont_recovery_ms",
		  expect_splits(&m, 0, NX_RECOVERY_DEADLINE_MS, "after SIGCONT"),
		  "ms");
	vmm_stop(&m);
}

static const struct nx_case cases[] = {
	{ "placement", run_placement,
	  .needs = { .flags = NX_NEEDS_ROOT | NX_NEEDS_CGROUP2 } },
	{ "hugetlb_2m.cgroup_freeze", run_cgroup_freeze,
	  .needs = { .flags = NX_NEEDS_ROOT | NX_NEEDS_THP | NX_NEEDS_CGROUP2 |
			      NX_NEEDS_KVM_DEBUGFS,
		     .hugepages_2m = NR_REGIONS } },
	{ "hugetlb_2m.sigstop", run_sigstop,
	  .needs = { .flags = NX_NEEDS_ROOT | NX_NEEDS_THP | NX_NEEDS_KVM_DEBUGFS,
		     .hugepages_2m = NR_REGIONS } },
};

static const struct nx_suite suite = {
	.name = "nx_worker_cgroup",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
};

NX_SUITE_MAIN(suite)
