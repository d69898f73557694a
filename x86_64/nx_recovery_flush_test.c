// SPDX-License-Identifier: GPL-2.0-only
/*
 * Remote TLB flushes of NX recovery and when mmu_lock may be dropped.
 *
 * A recovery pass zaps split pages with mmu_lock held for write.  Until the
 * remote TLB flush for a zap is done, vCPUs may still use the zapped
 * translations, so the pass must flush before it drops the lock (to yield,
 * or at its end): otherwise a vCPU faulting during the yield sees a page
 * table the TLBs still point into.  Flushes are batched: one per stretch of
 * zaps between yields, never one per page, never none.
 *
 * flush_counts reads the VM's flush statistics around single passes;
 * flush_before_yield traces the worker with kprobes and checks the order of
 * zaps, flushes and lock releases, timing the lock holds and what a vCPU
 * faulting elsewhere meanwhile suffers.
 *
 * From 6.18, KVM recovers TDP MMU pages with mmu_lock held for read, to cut
 * the guest jitter of a long pass.  The duty to flush before yielding
 * (cond_resched_rwlock_read()) is the same, and flush_before_yield checks
 * it there too; faults_beside_pass checks what that change is for: a vCPU
 * faulting on other memory keeps making progress while a large pass runs.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_params.h"
#include "nx_poll.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_trace.h"
#include "nx_vcpu.h"
#include "nx_traits.h"
#include "nx_vm.h"

#define PERIOD_MS		100
#define NR_FLUSH_REGIONS	256
#define NR_ORDER_REGIONS	256
/* Passes tried until one yields; each costs a re-split of every region. */
#define MAX_ATTEMPTS		4
#define PASS_DEADLINE_MS	10000
/* Bounded waits that assert that nothing happens. */
#define QUIET_WAIT_MS		1000
#define QUIET_PERIOD_MS		20
/* 6.12: a vhost task of this process, its comm cut to 15 characters. */
#define WORKER_COMM		"kvm-nx-lpage-re"
/* 6.1: a kthread named after the process that created the VM. */
#define WORKER_KTHREAD		"kvm-nx-lpage-recovery-%d"
#define WORKER_DEADLINE_MS	5000
#define MAX_RECS		(1 << 16)

/* Memory a second vCPU faults on during the pass: 4K pages, own slot. */
#define FAULT_GPA		(8UL << 30)
#define FAULT_SLOT		11
#define FAULT_PAGE		4096UL
#define FAULT_PAGES		16384
#define MAX_STEPS		(1 << 18)
/* Steps of the faulting vCPU before the pass, to know its pace. */
#define WARM_STEPS		8
/*
 * Lock holds with room for this many guest steps beyond the one per hold a
 * write lock lets through show whether faults run beside them.
 */
#define LONG_HOLD_STEPS		8
/* Lock holds of a pass kept for faults_beside_pass; a pass has ~20. */
#define MAX_HOLDS		128

enum {
	P_PASS, P_PASS_RET, P_ZAP, P_ZAP_LEGACY, P_FLUSH,
	P_YIELD, P_YIELD_RET, P_YIELD_READ, P_YIELD_READ_RET, NR_PROBES
};

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

static struct nx_probe probes[NR_PROBES] = {
	[P_PASS] = { "pass", false, pass_syms, true },
	[P_PASS_RET] = { "pass_ret", true, pass_ret_syms, true },
	[P_ZAP] = { "zap", false, zap_syms },
	[P_ZAP_LEGACY] = { "zap_legacy", false, legacy_zap_syms },
	[P_FLUSH] = { "flush", false, flush_syms, true },
	[P_YIELD] = { "yield", false, yield_syms, true },
	[P_YIELD_RET] = { "yield_ret", true, yield_syms, true, "ret=$retval" },
	[P_YIELD_READ] = { "yield_read", false, yield_read_syms },
	[P_YIELD_READ_RET] = { "yield_read_ret", true, yield_read_syms, false,
			       "ret=$retval" },
};

/* On the heap: the binary, .bss included, is loaded into guest memory. */
static struct nx_trace_rec *recs;

struct hold {
	uint64_t start_us, end_us;
};

/* What the worker did, from the trace; times in us. */
struct pass_trace {
	int runs;		/* entries of the pass function */
	int passes;		/* ... that zapped and returned */
	int zaps, flushes, yields, yields_dropped;
	int stretches;		/* lock releases with zaps since the last */
	int final_zaps;		/* zaps between the last yield and the end */
	uint64_t hold_max_us, flush_lat_max_us;
	uint64_t hold_start_us, hold_end_us;	/* the longest hold */
	uint64_t start_us, end_us;	/* of the last zapping pass */
	int nr_holds;		/* lock holds of the last zapping pass */
	struct hold holds[MAX_HOLDS];
	char violation[256];	/* the first lock drop with zaps unflushed */
};

/* State while walking the trace. */
struct walk {
	bool in_pass;
	int pass_zaps, unflushed, unreleased;
	uint64_t start, seg, last_zap, first_unflushed, last_flush;
	int nr_holds;
	struct hold holds[MAX_HOLDS];
};

/* The lock is dropped (or the pass ends) at @r: all zaps must be flushed. */
static void lock_release(struct pass_trace *t, struct walk *w,
			 const struct nx_trace_rec *r, const char *what)
{
	if (r->t_us - w->seg > t->hold_max_us) {
		t->hold_max_us = r->t_us - w->seg;
		t->hold_start_us = w->seg;
		t->hold_end_us = r->t_us;
	}
	if (w->nr_holds < MAX_HOLDS)
		w->holds[w->nr_holds++] = (struct hold){ w->seg, r->t_us };
	t->stretches += w->unreleased > 0;
	w->unreleased = 0;
	if (!w->unflushed || t->violation[0])
		return;
	snprintf(t->violation, sizeof(t->violation),
		 "%s at +%lu us into the pass: %d zaps since +%lu us not flushed (%s)",
		 what, r->t_us - w->start, w->unflushed,
		 w->first_unflushed - w->start,
		 w->last_flush ? "earlier zaps were flushed" :
		 "no flush yet in this pass");
}

static void on_zap(struct pass_trace *t, struct walk *w, uint64_t now)
{
	if (!w->in_pass) {
		/* The pass began before tracing did: time it from here. */
		w->in_pass = true;
		w->start = w->seg = now;
	}
	if (!w->unflushed)
		w->first_unflushed = now;
	w->unflushed++;
	w->unreleased++;
	w->pass_zaps++;
	w->last_zap = now;
	t->zaps++;
}

static void on_flush(struct pass_trace *t, struct walk *w, uint64_t now)
{
	if (w->unflushed)
		t->flush_lat_max_us = max(t->flush_lat_max_us,
					  now - w->last_zap);
	w->unflushed = 0;
	w->last_flush = now;
	t->flushes++;
}

static void on_pass_ret(struct pass_trace *t, struct walk *w,
			const struct nx_trace_rec *r)
{
	if (w->in_pass && w->pass_zaps) {
		t->final_zaps = w->unreleased;
		lock_release(t, w, r, "end of the pass");
		t->passes++;
		t->start_us = w->start;
		t->end_us = r->t_us;
		t->nr_holds = w->nr_holds;
		memcpy(t->holds, w->holds, sizeof(t->holds));
	}
	w->in_pass = false;
}

static void walk_rec(struct pass_trace *t, struct walk *w,
		     const struct nx_trace_rec *r)
{
	switch (r->probe) {
	case P_PASS:
		memset(w, 0, sizeof(*w));
		w->in_pass = true;
		w->start = w->seg = r->t_us;
		t->runs++;
		break;
	case P_ZAP:
	case P_ZAP_LEGACY:
		on_zap(t, w, r->t_us);
		break;
	case P_FLUSH:
		on_flush(t, w, r->t_us);
		break;
	case P_YIELD:
	case P_YIELD_READ:
		t->yields++;
		lock_release(t, w, r, "yield (__cond_resched_rwlock_*)");
		break;
	case P_YIELD_RET:
	case P_YIELD_READ_RET:
		w->seg = r->t_us;
		t->yields_dropped += r->ret != 0;
		break;
	case P_PASS_RET:
		on_pass_ret(t, w, r);
		break;
	}
}

static void analyse(struct pass_trace *t)
{
	int i, n = nx_trace_read(probes, NR_PROBES, recs, MAX_RECS);
	struct walk w = { 0 };

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n; i++)
		walk_rec(t, &w, &recs[i]);
}

static bool splits_gone(void *arg)
{
	return !nx_vm_stat((struct kvm_vm *)arg, nx_lpage_splits);
}

static bool pass_traced(void *arg)
{
	struct pass_trace *t = arg;

	analyse(t);
	return t->passes > 0;
}

static void pin_task(pid_t pid, int cpu, int ncpus)
{
	cpu_set_t set;
	int i;

	CPU_ZERO(&set);
	for (i = 0; i < ncpus; i++)
		if (cpu < 0 || i == cpu)
			CPU_SET(i, &set);
	TEST_ASSERT(!sched_setaffinity(pid, sizeof(set), &set),
		    "sched_setaffinity(%d, CPU %d): %s", pid, cpu,
		    strerror(errno));
}

static void pin_self(int cpu, int ncpus)
{
	pin_task(0, cpu, ncpus);
}

struct worker {
	char kthread_name[64];
	pid_t pid;
	bool kthread;
};

static bool worker_present(void *arg)
{
	struct worker *w = arg;

	w->pid = nx_find_thread(WORKER_COMM, 0);
	if (!w->pid) {
		w->pid = nx_find_kthread(w->kthread_name, 0);
		w->kthread = w->pid;
	}
	return w->pid;
}

/*
 * Probes on, restricted to the VM's recovery worker, which must run on
 * @cpu.  A 6.12 worker, created by the first KVM_RUN, inherited it from
 * the thread that ran it; a 6.1 kthread, created with the VM, may run
 * anywhere and is moved there.
 */
static void trace_worker(int cpu)
{
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct worker w = { 0 };

	snprintf(w.kthread_name, sizeof(w.kthread_name), WORKER_KTHREAD,
		 getpid());
	nx_poll_until(worker_present, &w, WORKER_DEADLINE_MS, 1000, NULL);
	if (!w.pid)
		nx_skip("no NX recovery worker: neither a thread '" WORKER_COMM "*' of this process nor a kthread '%s'",
			w.kthread_name);
	if (w.kthread)
		pin_task(w.pid, cpu, ncpus);
	nx_trace_filter_pid(w.pid);
	printf("tracing worker %d (%s, CPU %d): pass %s, zap %s, flush %s, yield %s\n",
	       w.pid, w.kthread ? w.kthread_name : "thread of this process",
	       cpu, probes[P_PASS].sym,
	       probes[P_ZAP].sym ? probes[P_ZAP].sym : probes[P_ZAP_LEGACY].sym,
	       probes[P_FLUSH].sym, probes[P_YIELD].sym);
}

/* Before the VM: a case that cannot trace skips before the costly part. */
static void trace_setup(void)
{
	bool tdp = nx_tdp_mmu_on();

	recs = calloc(MAX_RECS, sizeof(*recs));
	TEST_ASSERT(recs, "out of memory");
	nx_trace_open();
	probes[P_ZAP].required = tdp;
	probes[P_ZAP_LEGACY].required = !tdp;
	nx_trace_add_probes(probes, NR_PROBES);
}

/*
 * Enable recovery (ratio 1: one pass zaps every split page) and wait until
 * the trace holds the whole zapping pass, then stop recovery again.
 */
static void traced_pass(struct kvm_vm *vm, struct pass_trace *t)
{
	nx_trace_clear();
	nx_trace_enable(true);
	nx_set_recovery(1, PERIOD_MS);
	/* The cheap look first: parsing the trace keeps a CPU busy. */
	nx_poll_until(splits_gone, vm, PASS_DEADLINE_MS, 1000, NULL);
	nx_poll_until(pass_traced, t, PASS_DEADLINE_MS, 5000, NULL);
	nx_set_recovery(0, PERIOD_MS);
	nx_trace_enable(false);
	TEST_ASSERT(t->passes == 1,
		    "expected one traced recovery pass that zapped within %d ms, saw %d (%d zaps, %d worker runs)",
		    PASS_DEADLINE_MS, t->passes, t->zaps, t->runs);
}

/* Every zap the pass made is in the trace: nothing was lost. */
static void check_trace_complete(const struct pass_trace *t, int zapped)
{
	TEST_ASSERT(nx_tdp_mmu_on() ? t->zaps == zapped : t->zaps >= zapped,
		    "the pass zapped %d split pages, the trace shows %d zaps",
		    zapped, t->zaps);
}

static void split_vm(struct nx_vm *v, int nr)
{
	nx_prepare_split_host(nr, PERIOD_MS);
	nx_vm_create(v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, nr, true, false);
}

struct flushes {
	int64_t requests;	/* calls of kvm_flush_remote_tlbs() */
	int64_t done;		/* ... that had to reach a running vCPU */
};

static void read_flushes(struct kvm_vm *vm, struct flushes *f)
{
	f->requests = nx_vm_stat(vm, remote_tlb_flush_requests);
	f->done = nx_vm_stat(vm, remote_tlb_flush);
}

/*
 * Flushes of one pass over the @n split pages.  The guest is idle, so the
 * worker is the only one flushing.  remote_tlb_flush counts only flushes
 * that had to kick a vCPU in guest mode (none here), so the rule is checked
 * on remote_tlb_flush_requests, one per kvm_flush_remote_tlbs().  Returns
 * whether the pass zapped after its last yield, i.e. whether it needed the
 * flush at its end.
 */
static bool counted_pass(struct nx_vm *v, int n, const char *metric)
{
	struct flushes a, b;
	struct pass_trace t;
	int64_t req;

	read_flushes(v->vm, &a);
	traced_pass(v->vm, &t);
	nx_vm_recovered(v, n);
	nx_vm_expect_eventually(v, "a recovery pass with ratio 1");
	read_flushes(v->vm, &b);
	check_trace_complete(&t, n);
	req = b.requests - a.requests;
	TEST_ASSERT(req >= 1,
		    "a pass that zapped %d split pages made %ld remote TLB flush requests, expected at least 1",
		    n, req);
	TEST_ASSERT(req <= 1 + t.yields,
		    "a pass that zapped %d split pages made %ld remote TLB flush requests, expected at most 1 + %d (its yields): flushes must be batched, not one per zap",
		    n, req, t.yields);
	TEST_ASSERT(req == t.stretches,
		    "a pass that zapped %d split pages in %d stretches (each ended by a yield or the end of the pass) made %ld remote TLB flush requests, expected one per stretch",
		    n, t.stretches, req);
	TEST_ASSERT(b.done - a.done <= req,
		    "remote_tlb_flush grew by %ld, more than the %ld requests",
		    b.done - a.done, req);
	printf("pass of %d zaps: %ld flush requests, %ld delivered, %d yields, %d zaps after the last\n",
	       n, req, b.done - a.done, t.yields, t.final_zaps);
	nx_metric(metric, req, "flushes");
	return t.final_zaps > 0;
}

/*
 * A pass whose last zap is followed by a yield owes no flush at its end,
 * so it cannot show a missing end-of-pass flush: split the same regions
 * again and repeat until a pass does need it.
 */
static void counted_passes(struct nx_vm *v, int n, const char *metric)
{
	int attempt;

	for (attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
		if (attempt > 1)
			nx_vm_exec_all(v);
		if (counted_pass(v, n, metric)) {
			nx_metric("end_flush_attempts", attempt, "passes");
			return;
		}
	}
	TEST_FAIL("%d passes of %d zaps each ended with a yield: the flush at the end of a pass was never exercised",
		  MAX_ATTEMPTS, n);
}

struct quiet {
	struct kvm_vm *vm;
	int64_t requests;
};

static bool flush_seen(void *arg)
{
	struct quiet *q = arg;

	return nx_vm_stat(q->vm, remote_tlb_flush_requests) != q->requests;
}

/*
 * Recovery on with nothing split: the passes that run zap nothing and must
 * flush nothing.  A deliberate bounded wait, ended early by a flush.
 */
static void expect_idle_passes_quiet(struct nx_vm *v)
{
	struct quiet q = { .vm = v->vm };
	struct pass_trace t;
	bool flushed;

	q.requests = nx_vm_stat(v->vm, remote_tlb_flush_requests);
	nx_trace_clear();
	nx_trace_enable(true);
	nx_set_recovery(1, QUIET_PERIOD_MS);
	flushed = nx_poll_until(flush_seen, &q, QUIET_WAIT_MS, 1000, NULL);
	nx_set_recovery(0, PERIOD_MS);
	nx_trace_enable(false);
	analyse(&t);
	TEST_ASSERT(!flushed,
		    "recovery with no split page flushed: remote_tlb_flush_requests %ld -> %ld within %d ms",
		    q.requests, nx_vm_stat(v->vm, remote_tlb_flush_requests),
		    QUIET_WAIT_MS);
	TEST_ASSERT(t.runs >= 1,
		    "the recovery worker did not run in %d ms with period %d ms: the quiet check proved nothing",
		    QUIET_WAIT_MS, QUIET_PERIOD_MS);
	nx_metric("idle_worker_runs", t.runs, "runs");
	nx_vm_expect(v, "recovery passes with nothing split");
}

static void run_flush_counts(const struct nx_case *c)
{
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct nx_vm v;

	trace_setup();
	/*
	 * Nothing else on the worker's CPU: an idle pass of one zap should
	 * not yield, so its flush is the one at the end of the pass.
	 */
	pin_self(ncpus - 1, ncpus);
	split_vm(&v, NR_FLUSH_REGIONS);
	pin_self(0, ncpus);
	trace_worker(ncpus - 1);
	nx_vm_read_all(&v);
	nx_vm_exec(&v, 0);
	/* One zap: it may be followed by a yield, so this is not retried. */
	counted_pass(&v, 1, "flushes_1_zap");
	nx_vm_exec_all(&v);
	counted_passes(&v, NR_FLUSH_REGIONS, "flushes_256_zaps");
	expect_idle_passes_quiet(&v);
	nx_vm_free(&v);
}

/*
 * Load during the big pass.  The pass yields only when need_resched() (or a
 * contended lock in a preemptible kernel): a busy thread on the worker's
 * CPU makes the scheduler ask.  A second vCPU on the other CPU keeps
 * faulting on fresh 4K pages of its own slot: each fault needs mmu_lock,
 * so the time between its guest steps shows how long the pass held it.
 */
struct load {
	struct kvm_vcpu *vcpu;
	int worker_cpu, other_cpu;
	bool no_busy;		/* leave the worker's CPU idle */
	pthread_t busy, faulter;
	bool stop;
	uint64_t total_steps;	/* guest steps ever, the first in warm-up */
	uint64_t touched;	/* fault pages the model accounts for */
	int nr_steps;		/* this attempt's step times */
	uint64_t *steps;
};

static void faulter_guest(uint64_t gva, uint64_t nr_pages)
{
	uint64_t i;

	for (i = 0;; i++) {
		READ_ONCE(*(uint64_t *)(gva + (i % nr_pages) * FAULT_PAGE));
		GUEST_SYNC(i);
	}
}

static void faulter_step(struct load *l)
{
	struct ucall uc;

	nx_vcpu_run(l->vcpu, "a read of a fresh 4K page (faulting vCPU)");
	TEST_ASSERT(get_ucall(l->vcpu, &uc) == UCALL_SYNC &&
		    uc.args[1] == l->total_steps,
		    "faulting vCPU: expected sync %lu, got exit %u (%s), ucall args %lu",
		    l->total_steps, l->vcpu->run->exit_reason,
		    exit_reason_str(l->vcpu->run->exit_reason), uc.args[1]);
	l->total_steps++;
}

static void *faulter_fn(void *arg)
{
	struct load *l = arg;

	pin_self(l->other_cpu, l->worker_cpu + 1);
	while (!READ_ONCE(l->stop)) {
		faulter_step(l);
		if (l->nr_steps < MAX_STEPS)
			l->steps[l->nr_steps] = nx_now_us();
		WRITE_ONCE(l->nr_steps, l->nr_steps + 1);
	}
	return NULL;
}

static void *busy_fn(void *arg)
{
	struct load *l = arg;

	pin_self(l->worker_cpu, l->worker_cpu + 1);
	while (!READ_ONCE(l->stop))
		cpu_relax();
	return NULL;
}

/* Fault pages the model has not accounted yet: one 4K mapping each. */
static void account_faults(struct nx_vm *v, struct load *l)
{
	uint64_t pages = min_t(uint64_t, l->total_steps, FAULT_PAGES);

	v->want.pages_4k += pages - l->touched;
	l->touched = pages;
}

/*
 * A second vCPU over its own slot, mapped with a 1G guest page so that only
 * its data pages fault.  Its first step maps its code, stack and ucall
 * pages too: take a new baseline after it, then every later step on a
 * fresh page adds exactly one 4K mapping.
 */
static void load_init(struct nx_vm *v, struct load *l)
{
	struct nx_counts got;

	vm_userspace_mem_region_add(v->vm, VM_MEM_SRC_ANONYMOUS, FAULT_GPA,
				    FAULT_SLOT, FAULT_PAGES, 0);
	virt_map_level(v->vm, FAULT_GPA, FAULT_GPA, 1UL << 30, PG_LEVEL_1G);
	l->vcpu = vm_vcpu_add(v->vm, 1, faulter_guest);
	vcpu_args_set(l->vcpu, 2, FAULT_GPA, FAULT_PAGES);
	l->steps = calloc(MAX_STEPS, sizeof(*l->steps));
	TEST_ASSERT(l->steps, "out of memory");
	faulter_step(l);
	nx_counts_read(v->vm, &got);
	TEST_ASSERT(got.nx_lpage_splits == v->want.nx_lpage_splits &&
		    got.pages_2m == v->want.pages_2m &&
		    got.pages_1g == v->want.pages_1g,
		    "a read-only vCPU on 4K memory changed NX or huge counters: splits %ld -> %ld, pages_2m %ld -> %ld",
		    v->want.nx_lpage_splits, got.nx_lpage_splits,
		    v->want.pages_2m, got.pages_2m);
	v->want = got;
	l->touched = 1;
}

static bool warmed_up(void *arg)
{
	return READ_ONCE(((struct load *)arg)->nr_steps) >= WARM_STEPS;
}

/*
 * Without the busy thread the faulting vCPU's pace before the pass is
 * measured (faults_beside_pass): let it take a few steps first.
 */
static void load_start(struct load *l)
{
	l->stop = false;
	l->nr_steps = 0;
	TEST_ASSERT((l->no_busy ||
		     !pthread_create(&l->busy, NULL, busy_fn, l)) &&
		    !pthread_create(&l->faulter, NULL, faulter_fn, l),
		    "pthread_create failed");
	if (l->no_busy)
		nx_poll_until(warmed_up, l, PASS_DEADLINE_MS, 1000, NULL);
}

struct step_after {
	struct load *l;
	int seen;
	uint64_t t_us;
};

static bool stepped_after(void *arg)
{
	struct step_after *s = arg;
	int n = READ_ONCE(s->l->nr_steps);

	return n > s->seen && n <= MAX_STEPS && s->l->steps[n - 1] > s->t_us;
}

/* Stop once the faulting vCPU has completed a step after the pass. */
static void load_stop(struct load *l, uint64_t pass_end_us)
{
	struct step_after s = { l, 0, pass_end_us };

	nx_poll_until(stepped_after, &s, PASS_DEADLINE_MS, 1000, NULL);
	WRITE_ONCE(l->stop, true);
	if (!l->no_busy)
		pthread_join(l->busy, NULL);
	pthread_join(l->faulter, NULL);
	TEST_ASSERT(l->nr_steps <= MAX_STEPS &&
		    l->steps[l->nr_steps - 1] > pass_end_us,
		    "the faulting vCPU completed no step after the pass (%d steps): stuck?",
		    l->nr_steps);
}

/* The longest wait for a guest step that overlaps the pass. */
static void report_stall(const struct load *l, const struct pass_trace *t)
{
	uint64_t gap, stall = 0;
	int i, in_pass = 0;

	for (i = 1; i < l->nr_steps; i++) {
		if (l->steps[i] <= t->start_us || l->steps[i - 1] >= t->end_us)
			continue;
		gap = l->steps[i] - l->steps[i - 1];
		stall = max(stall, gap);
		in_pass++;
	}
	nx_metric("vcpu_stall_max_us", stall, "us");
	nx_metric("vcpu_steps_in_pass", in_pass, "steps");
	if (l->nr_steps > 1)
		nx_metric("vcpu_step_mean_us",
			  (l->steps[l->nr_steps - 1] - l->steps[0]) /
			  (l->nr_steps - 1), "us");
}

/*
 * 6.18 and later recover TDP MMU pages under mmu_lock held for read (the
 * series that brought this renamed kvm_tdp_mmu_zap_sp()): vCPU faults run
 * beside the pass; the pass must still flush before each yield.
 */
static bool read_lock_scheme(void)
{
	return nx_kernel_has(NX_TRAIT_READ_LOCK_RECOVERY);
}

static void require_read_lock_scheme(void)
{
	if (!read_lock_scheme())
		nx_skip("KVM recovers NX pages under mmu_lock held for write (no kvm_tdp_mmu_zap_possible_nx_huge_page, or tdp_mmu=N): faults wait for the pass by design, flush_before_yield covers it");
}

static void check_ordering(const struct pass_trace *t, int attempt)
{
	TEST_ASSERT(!t->violation[0],
		    "attempt %d: the recovery worker dropped mmu_lock with zaps not flushed: %s",
		    attempt, t->violation);
}

static void report_pass(const struct pass_trace *t, int attempt)
{
	printf("attempt %d: %d zaps, %d flushes, %d yields (%d dropped the lock), pass %lu us, longest hold %lu us\n",
	       attempt, t->zaps, t->flushes, t->yields, t->yields_dropped,
	       t->end_us - t->start_us, t->hold_max_us);
}

/*
 * The pass yields only when the scheduler asks during it.  Zapping a page
 * table costs about what it maps: on an MMU that zaps and faults on a split
 * (6.1) each table maps one page and the whole pass takes a few ms, too
 * short to be asked.  Mapping 128 pages in each makes it tens of ms, many
 * scheduler ticks.
 */
static void fill_timed(struct nx_vm *v, int attempt)
{
	uint64_t t0 = nx_now_us();

	if (v->split_4k == NX_PTES_PER_2M)
		return;
	nx_vm_fill_split(v);
	if (attempt == 1)
		nx_metric("fill_ms", (nx_now_us() - t0) / 1000.0, "ms");
}

/* One big traced pass with @l running; the model accounts for it. */
static void loaded_pass(struct nx_vm *v, struct load *l, struct pass_trace *t,
			const char *why)
{
	load_start(l);
	traced_pass(v->vm, t);
	load_stop(l, t->end_us);
	account_faults(v, l);
	nx_vm_recovered(v, NR_ORDER_REGIONS);
	nx_vm_expect_eventually(v, why);
	check_trace_complete(t, NR_ORDER_REGIONS);
}

/* One big pass under load; the model accounts for what it did. */
static void ordering_attempt(struct nx_vm *v, struct load *l,
			     struct pass_trace *t, int attempt)
{
	if (attempt > 1)
		nx_vm_exec_all(v);
	fill_timed(v, attempt);
	loaded_pass(v, l, t, "a recovery pass under load");
	report_pass(t, attempt);
	check_ordering(t, attempt);
}

static void report_ordering(const struct pass_trace *t, const struct load *l,
			    int attempts)
{
	nx_metric("attempts", attempts, "passes");
	nx_metric("yields", t->yields, "yields");
	nx_metric("write_lock_hold_max_us", t->hold_max_us, "us");
	nx_metric("flush_latency_max_us", t->flush_lat_max_us, "us");
	nx_metric("pass_us", t->end_us - t->start_us, "us");
	report_stall(l, t);
}

static void run_flush_before_yield(const struct nx_case *c)
{
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN), attempt;
	struct load l = { .worker_cpu = ncpus - 1, .other_cpu = 0 };
	struct pass_trace t;
	struct nx_vm v;

	/*
	 * Under either lock: 6.18+ zap TDP MMU pages under the read lock and
	 * yield through cond_resched_rwlock_read(), with the same duty to
	 * flush first; the shadow MMU keeps the write lock.
	 */
	trace_setup();
	/* The worker, created by the first KVM_RUN, inherits this CPU. */
	pin_self(l.worker_cpu, ncpus);
	split_vm(&v, NR_ORDER_REGIONS);
	pin_self(-1, ncpus);
	trace_worker(l.worker_cpu);
	load_init(&v, &l);
	nx_vm_read_all(&v);
	nx_vm_exec_all(&v);
	for (attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
		ordering_attempt(&v, &l, &t, attempt);
		if (t.yields)
			break;
	}
	attempt = min(attempt, MAX_ATTEMPTS);
	report_ordering(&t, &l, attempt);
	TEST_ASSERT(t.yields > 0,
		    "no yield in %d passes of %d zaps under load: the flush-before-yield path was not exercised",
		    attempt, NR_ORDER_REGIONS);
	nx_vm_free(&v);
	free(l.steps);
}

/*
 * What the faulting vCPU did while passes held mmu_lock.  Under a write
 * lock a step can complete inside a hold only if its fault was done before
 * the hold began: one per hold at most.  Steps beyond that one are faults
 * that ran beside the pass.
 */
struct beside {
	int holds;		/* holds longer than a mean step */
	double room;		/* steps those holds had room for beyond one each */
	int beyond;		/* steps completed inside them beyond one each */
};

static uint64_t mean_step_before(const struct load *l, uint64_t t_us)
{
	int i, n = min(l->nr_steps, MAX_STEPS), before = 0;

	for (i = 0; i < n; i++)
		before += l->steps[i] <= t_us;
	return before > 1 ?
		(l->steps[before - 1] - l->steps[0]) / (before - 1) : 0;
}

static int steps_inside(const struct load *l, const struct hold *h)
{
	int i, n = min(l->nr_steps, MAX_STEPS), inside = 0;

	for (i = 0; i < n; i++)
		inside += l->steps[i] > h->start_us && l->steps[i] < h->end_us;
	return inside;
}

/*
 * A pass in a preemptible kernel yields often (7.3: ten times or more in a
 * pass of 256 zaps), so no single hold need be long: every hold of every
 * attempt counts, each for what a write lock could not explain.
 */
static void add_beside(const struct load *l, const struct pass_trace *t,
		       uint64_t mean_us, struct beside *b)
{
	const struct hold *h;
	uint64_t len;
	int i;

	for (i = 0; mean_us && i < t->nr_holds; i++) {
		h = &t->holds[i];
		len = h->end_us - h->start_us;
		if (len <= mean_us)
			continue;
		b->holds++;
		b->room += (double)(len - mean_us) / mean_us;
		b->beyond += max(steps_inside(l, h) - 1, 0);
	}
}

/*
 * One big pass while the second vCPU faults on fresh pages.  Returns
 * whether the holds so far had room, against the vCPU's step time, for
 * LONG_HOLD_STEPS steps more than a write lock lets through.
 */
static bool progress_attempt(struct nx_vm *v, struct load *l,
			     struct pass_trace *t, int attempt,
			     struct beside *b)
{
	uint64_t mean_us;

	if (attempt > 1)
		nx_vm_exec_all(v);
	loaded_pass(v, l, t, "a recovery pass beside a faulting vCPU");
	mean_us = mean_step_before(l, t->start_us);
	add_beside(l, t, mean_us, b);
	printf("attempt %d: pass of %d zaps %lu us, %d yields, %d lock holds (longest %lu us), mean step before the pass %lu us; so far %d holds longer than a step, with room for %.1f steps beyond one each, %d completed\n",
	       attempt, t->zaps, t->end_us - t->start_us, t->yields,
	       t->nr_holds, t->hold_max_us, mean_us, b->holds, b->room,
	       b->beyond);
	return b->room >= LONG_HOLD_STEPS;
}

/*
 * Each guest step faults on a fresh page, and a fault needs mmu_lock: under
 * a write-locked pass at most the step whose fault was already done can
 * complete inside a hold, one per hold.  Under a read-locked pass faults go
 * on at about their pace.
 */
static void run_faults_beside_pass(const struct nx_case *c)
{
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN), attempt;
	struct load l = {
		.worker_cpu = ncpus - 1, .other_cpu = 0, .no_busy = true,
	};
	bool long_enough = false;
	struct beside b = { 0 };
	struct pass_trace t;
	struct nx_vm v;

	require_read_lock_scheme();
	trace_setup();
	pin_self(l.worker_cpu, ncpus);
	split_vm(&v, NR_ORDER_REGIONS);
	/* This thread stays off the worker's CPU too. */
	pin_self(l.other_cpu, ncpus);
	trace_worker(l.worker_cpu);
	load_init(&v, &l);
	nx_vm_read_all(&v);
	nx_vm_exec_all(&v);
	for (attempt = 1; attempt <= MAX_ATTEMPTS && !long_enough; attempt++)
		long_enough = progress_attempt(&v, &l, &t, attempt, &b);
	nx_metric("attempts", attempt - 1, "passes");
	nx_metric("lock_hold_max_us", t.hold_max_us, "us");
	nx_metric("lock_holds", b.holds, "holds");
	nx_metric("vcpu_step_room_in_holds", b.room, "steps");
	nx_metric("vcpu_steps_beside_holds", b.beyond, "steps");
	report_stall(&l, &t);
	TEST_ASSERT(long_enough,
		    "%d passes of %d zaps held mmu_lock with room for %.1f guest steps beyond one per hold, expected %d: too short to show whether faults run beside them",
		    MAX_ATTEMPTS, NR_ORDER_REGIONS, b.room, LONG_HOLD_STEPS);
	TEST_ASSERT(b.beyond >= 2,
		    "a vCPU faulting on other memory completed %d guest steps beyond one per hold in %d holds of mmu_lock by recovery passes (room for %.1f): expected at least 2, faults running beside a pass that holds the lock for read; a write lock lets one through per hold",
		    b.beyond, b.holds, b.room);
	nx_vm_free(&v);
	free(l.steps);
}

static const struct nx_case cases[] = {
	{ "hugetlb_2m.flush_counts", run_flush_counts },
	{ "hugetlb_2m.flush_before_yield", run_flush_before_yield },
	{ "hugetlb_2m.faults_beside_pass", run_faults_beside_pass },
};

int main(int argc, char **argv)
{
	static const struct nx_suite suite = {
		.name = "nx_recovery_flush",
		.cases = cases,
		.nr_cases = ARRAY_SIZE(cases),
		.timeout_s = 120,
	};

	return nx_suite_main(&suite, argc, argv);
}
