// SPDX-License-Identifier: GPL-2.0-only
/*
 * The recovery worker, traced: the probe table of a pass, finding the
 * worker and pinning it, one traced pass; see include/nx_worker_trace.h.
 */
#include <sched.h>
#include <stdlib.h>

#include "nx_compat.h"
#include "nx_host.h"
#include "nx_params.h"
#include "nx_poll.h"
#include "nx_recovery.h"
#include "nx_skip.h"
#include "nx_worker.h"
#include "nx_worker_trace.h"

#define WORKER_DEADLINE_MS	5000
#define MAX_RECS		(1 << 16)

/*
 * The pass function is inlined into the worker in Debian's 6.12 kvm.ko:
 * then a worker run that zaps is the pass (the other runs only sleep).
 * Debian's 6.1 kvm.ko inlines kvm_recover_nx_lpages() into a worker that
 * loops until the VM goes, so there a pass is the worker's SRCU read-side
 * section: the pass is the only place where it takes kvm->srcu.
 */
static const char *const pass_syms[] = {
	"kvm_recover_nx_huge_pages", "kvm_recover_nx_lpages",
	"kvm_nx_huge_page_recovery_worker", "__srcu_read_lock", NULL
};
static const char *const pass_ret_syms[] = {
	"kvm_recover_nx_huge_pages", "kvm_recover_nx_lpages",
	"kvm_nx_huge_page_recovery_worker", "__srcu_read_unlock", NULL
};
static const char *const zap_syms[] = {
	"kvm_tdp_mmu_zap_sp", "kvm_tdp_mmu_zap_possible_nx_huge_page", NULL
};
static const char *const legacy_zap_syms[] = {
	"kvm_mmu_prepare_zap_page", "__kvm_mmu_prepare_zap_page", NULL
};
static const char *const flush_syms[] = { "kvm_flush_remote_tlbs", NULL };
static const char *const yield_syms[] = {
	"__cond_resched_rwlock_write", NULL
};
static const char *const yield_read_syms[] = {
	"__cond_resched_rwlock_read", NULL
};

struct nx_probe nx_pass_probes[NX_PT_NR_PROBES] = {
	[NX_PT_PASS] = { "pass", false, pass_syms, true },
	[NX_PT_PASS_RET] = { "pass_ret", true, pass_ret_syms, true },
	[NX_PT_ZAP] = { "zap", false, zap_syms },
	[NX_PT_ZAP_LEGACY] = { "zap_legacy", false, legacy_zap_syms },
	[NX_PT_FLUSH] = { "flush", false, flush_syms, true },
	[NX_PT_YIELD] = { "yield", false, yield_syms, true },
	[NX_PT_YIELD_RET] = { "yield_ret", true, yield_syms, true, "ret=$retval" },
	[NX_PT_YIELD_READ] = { "yield_read", false, yield_read_syms },
	[NX_PT_YIELD_READ_RET] = { "yield_read_ret", true, yield_read_syms, false,
			       "ret=$retval" },
};

/* On the heap: the binary, .bss included, is loaded into guest memory. */
static struct nx_trace_rec *recs;
static int nr_recs;

static bool splits_gone(void *arg)
{
	return !nx_vm_stat((struct kvm_vm *)arg, nx_lpage_splits);
}

static bool pass_traced(void *arg)
{
	struct nx_pass_trace *t = arg;

	nx_pass_trace_read(t);
	return t->passes > 0;
}

void nx_pin_task(pid_t pid, int cpu, int ncpus)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	for (i = 0; i < ncpus; i++)
		if (cpu < 0 || i == cpu)
			CPU_SET(i, &set);
	TEST_ASSERT(!sched_setaffinity(pid, sizeof(set), &set),
		    "sched_setaffinity(%d, CPU %d)", pid, cpu);
}

void nx_pin_self(int cpu, int ncpus)
{
	/* The framework pins to one CPU; unpinning and kthreads are ours. */
	if (cpu >= 0)
		nx_pin_self_to_cpu(cpu);
	else
		nx_pin_task(0, cpu, ncpus);
}

/* The symbol a probe of the table is on, or "-" where it found none. */
static const char *probe_sym(enum nx_pt_probe p)
{
	return nx_pass_probes[p].sym ? nx_pass_probes[p].sym : "-";
}

/*
 * Probes on, restricted to the VM's recovery worker, which must run on
 * @cpu.  A 6.12 worker, created by the first KVM_RUN, inherited it from
 * the thread that ran it; a 6.1 kthread, created with the VM, may run
 * anywhere and is moved there.
 */
void nx_pass_trace_worker(int cpu)
{
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	char task[64];
	bool kthread;
	pid_t tid;

	if (nx_workers_wait(getpid(), getpid(), 1, WORKER_DEADLINE_MS) != 1 ||
	    nx_workers(getpid(), getpid(), &tid, 1) != 1)
		nx_skip("no NX recovery worker within %d ms: neither a thread '" NX_WORKER_COMM "*' of this process nor a kthread '" NX_WORKER_KTHREAD "'",
			WORKER_DEADLINE_MS, getpid());
	snprintf(task, sizeof(task), "/proc/self/task/%d", tid);
	kthread = access(task, F_OK);
	if (kthread)
		nx_pin_task(tid, cpu, ncpus);
	nx_trace_filter_pid(tid);
	printf("tracing worker %d (%s, CPU %d): pass %s, zap %s, shadow MMU zap %s, flush %s, yield %s, read yield %s\n",
	       tid, kthread ? "kthread" : "thread of this process",
	       cpu, nx_pass_probes[NX_PT_PASS].sym,
	       probe_sym(NX_PT_ZAP), probe_sym(NX_PT_ZAP_LEGACY),
	       nx_pass_probes[NX_PT_FLUSH].sym, nx_pass_probes[NX_PT_YIELD].sym,
	       probe_sym(NX_PT_YIELD_READ));
}

/* Before the VM: a case that cannot trace skips before the costly part. */
void nx_pass_trace_setup(bool shadow_zaps)
{
	bool tdp = nx_tdp_mmu_on();

	recs = calloc(MAX_RECS, sizeof(*recs));
	TEST_ASSERT(recs, "out of memory");
	nx_trace_open();
	nx_pass_probes[NX_PT_ZAP].required = tdp;
	nx_pass_probes[NX_PT_ZAP_LEGACY].required = !tdp || shadow_zaps;
	nx_trace_add_probes(nx_pass_probes, NX_PT_NR_PROBES);
}

/*
 * Enable recovery (ratio 1: one pass zaps every split page) and wait until
 * the trace holds the whole zapping pass, then stop recovery again.
 */
/*
 * NX_PASSTRACE_DUMP set: the records of the pass, one "nx_passtrace: T_US
 * EVENT RET" line each, times from the first; tests/unit/fixtures/ keeps
 * some, for the unit tests of the walk.
 */
static void dump_records(void)
{
	int i;

	if (!getenv("NX_PASSTRACE_DUMP"))
		return;
	for (i = 0; i < nr_recs; i++)
		printf("nx_passtrace: %lu %s %ld\n",
		       recs[i].t_us - recs[0].t_us,
		       nx_pass_probes[recs[i].probe].event, recs[i].ret);
}

void nx_traced_pass(struct kvm_vm *vm, struct nx_pass_trace *t)
{
	nx_trace_clear();
	nx_trace_enable(true);
	nx_set_recovery(1, NX_PERIOD_MS);
	/* The cheap look first: parsing the trace keeps a CPU busy. */
	nx_poll_until(splits_gone, vm, NX_PASS_DEADLINE_MS, 1000, NULL);
	nx_poll_until(pass_traced, t, NX_PASS_DEADLINE_MS, 5000, NULL);
	nx_set_recovery(0, NX_PERIOD_MS);
	nx_trace_enable(false);
	dump_records();
	TEST_ASSERT(t->passes == 1,
		    "expected one traced recovery pass that zapped within %d ms, saw %d (%d zaps, %d worker runs)",
		    NX_PASS_DEADLINE_MS, t->passes, t->zaps, t->runs);
}

/* Every zap the pass made is in the trace: nothing was lost. */
void nx_check_trace_complete(const struct nx_pass_trace *t, int zapped)
{
	TEST_ASSERT(nx_tdp_mmu_on() ? t->zaps == zapped : t->zaps >= zapped,
		    "the pass zapped %d split pages, the trace shows %d zaps",
		    zapped, t->zaps);
}

void nx_traced_split_vm(struct nx_vm *v, int nr)
{
	nx_prepare_split_host(nr, NX_PERIOD_MS);
	nx_vm_create(v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, nr, true, false);
}

void nx_pass_trace_read(struct nx_pass_trace *t)
{
	nr_recs = nx_trace_read(nx_pass_probes, NX_PT_NR_PROBES, recs, MAX_RECS);
	nx_pass_trace_walk(t, recs, nr_recs);
}
