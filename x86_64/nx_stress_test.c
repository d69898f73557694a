// SPDX-License-Identifier: GPL-2.0-only
/*
 * NX recovery under load: many vCPUs against an aggressive recovery worker.
 *
 * Eight vCPUs read and execute at random across 1 GiB of 2M regions while
 * recovery runs every 20 ms: splits, zaps and re-faults of the same pages
 * race all the time.  The bookkeeping must survive it.  While it runs, the
 * split count stays within [0, regions] (a region has one NX table at
 * most).  When the vCPUs stop and recovery has drained, no split page may
 * be left over or counted twice: the count reaches 0, every 4K mapping the
 * splits made is gone (pages_4k is back at its baseline), a read of every
 * region maps it 2M again, and the kernel logged no warning.  Recovery
 * throughput and the longest vCPU stall are reported, not asserted.
 */
#include <pthread.h>
#include <stdlib.h>

#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_kmsg.h"
#include "nx_poll.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_vcpu.h"
#include "nx_vm.h"

#define DEFAULT_VCPUS		8
#define DEFAULT_REGIONS		512
#define DEFAULT_RUN_MS		8000
#define DEFAULT_PERIOD_MS	20
#define DEFAULT_RATIO		2
#define MAX_VCPUS		(NX_VM_MAX_VCPUS - 1)
/* Guest accesses between two exits to the host. */
#define BATCH			64
#define DRAIN_DEADLINE_MS	20000
#define SAMPLE_US		1000

static int nr_vcpus = DEFAULT_VCPUS;
static int nr_regions = DEFAULT_REGIONS;
static int run_ms = DEFAULT_RUN_MS;
static int period_ms = DEFAULT_PERIOD_MS;
static int ratio = DEFAULT_RATIO;

/*
 * An exit to the host that touches no guest memory: a ucall would use a
 * slot of the shared ucall pool, maybe on a page no vCPU touched before,
 * and move pages_4k in the middle of the stress.
 */
#define STRESS_PORT		0x5a5

static void stress_exit(void)
{
	asm volatile("outb %%al, %%dx" : : "a"(0), "d"(STRESS_PORT) : "memory");
}

/*
 * One batch of a pseudo-random walk: read or execute a random 4K page of
 * a random one of @nr 2M regions from @base (@pages_mask 0: @base only).
 */
static uint64_t stress_batch(uint64_t base, uint64_t nr, uint64_t pages_mask,
			     uint64_t x)
{
	uint64_t i, addr;

	for (i = 0; i < BATCH; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		addr = base + ((x >> 33) % nr) * NX_REGION_SIZE +
		       ((x >> 20) & pages_mask) * 4096;
		if (x & (1ULL << 62))
			((void (*)(void))addr)();
		else
			READ_ONCE(*(uint64_t *)addr);
	}
	return x;
}

/*
 * Guest: a first batch on a slot 0 page holding a RET, which maps every
 * page the loop itself uses, then batches over the regions, each followed
 * by an exit so that the host can time the vCPU and stop it.
 */
static void stress_guest(uint64_t gva, uint64_t nr, uint64_t seed,
			 uint64_t scratch)
{
	uint64_t x = seed * 2654435761ULL + 1;

	x = stress_batch(scratch, 1, 0, x);
	stress_exit();
	for (;;) {
		x = stress_batch(gva, nr, 511, x);
		stress_exit();
	}
}

struct stress_vcpu {
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	uint64_t batches;
	uint64_t stall_max_us;	/* longest time between two exits */
};

static struct stress_vcpu vcpus[MAX_VCPUS];
static bool stop;

static void stress_step(struct stress_vcpu *s)
{
	struct kvm_run *run = s->vcpu->run;
	struct ucall uc;

	nx_vcpu_run(s->vcpu, "a batch of random reads and executes");
	if (run->exit_reason == KVM_EXIT_IO && run->io.port == STRESS_PORT) {
		s->batches++;
		return;
	}
	if (get_ucall(s->vcpu, &uc) == UCALL_ABORT)
		REPORT_GUEST_ASSERT(uc);
	TEST_FAIL("stress vCPU %d after %lu batches: expected an exit on port 0x%x, got exit reason %u (%s)",
		  s->vcpu->id, s->batches, STRESS_PORT, run->exit_reason,
		  exit_reason_str(run->exit_reason));
}

static void *stress_thread(void *arg)
{
	struct stress_vcpu *s = arg;
	uint64_t last = nx_now_us(), now;

	while (!READ_ONCE(stop)) {
		stress_step(s);
		now = nx_now_us();
		s->stall_max_us = max(s->stall_max_us, now - last);
		last = now;
	}
	return NULL;
}

/* What the host saw of the split count while the vCPUs ran. */
struct sampling {
	int64_t max_splits;
	int64_t dropped;	/* sum of all drops: a lower bound of zaps */
	uint64_t samples;
};

static void sample_splits(struct nx_vm *v, struct sampling *s)
{
	uint64_t end = nx_now_us() + run_ms * 1000ULL;
	int64_t last = 0, now;

	while (nx_now_us() < end) {
		now = nx_vm_stat(v->vm, nx_lpage_splits);
		TEST_ASSERT(now >= 0 && now <= nr_regions,
			    "under stress: expected 0 <= nx_lpage_splits <= %d (one NX table per 2M region at most), got %ld",
			    nr_regions, now);
		s->max_splits = max(s->max_splits, now);
		if (now < last)
			s->dropped += last - now;
		last = now;
		s->samples++;
		/* A sampling interval, not a wait for anything. */
		usleep(SAMPLE_US);
	}
}

/* Add the stress vCPUs and run each to its first exit (its own pages). */
static void stress_vcpus_add(struct nx_vm *v)
{
	int i;

	for (i = 0; i < nr_vcpus; i++) {
		vcpus[i].vcpu = vm_vcpu_add(v->vm, i + 1, stress_guest);
		vcpu_args_set(vcpus[i].vcpu, 4, v->r.gva, (uint64_t)nr_regions,
			      (uint64_t)i + 1, v->r.scratch_gva);
		stress_step(&vcpus[i]);
	}
	/* Only region accesses move the counters from here on. */
	nx_counts_read(v->vm, &v->want);
	TEST_ASSERT(!v->want.nx_lpage_splits && !v->want.pages_2m,
		    "before any region access: expected no split and no 2M mapping, got nx_lpage_splits=%ld pages_2m=%ld",
		    v->want.nx_lpage_splits, v->want.pages_2m);
}

static void stress_run(struct nx_vm *v, struct sampling *smp)
{
	int i, r;

	WRITE_ONCE(stop, false);
	for (i = 0; i < nr_vcpus; i++) {
		r = pthread_create(&vcpus[i].thread, NULL, stress_thread,
				   &vcpus[i]);
		TEST_ASSERT(!r, "pthread_create (vCPU %d): %s", i, strerror(r));
	}
	sample_splits(v, smp);
	WRITE_ONCE(stop, true);
	for (i = 0; i < nr_vcpus; i++)
		pthread_join(vcpus[i].thread, NULL);
}

static bool pages_4k_back(void *arg)
{
	struct nx_vm *v = arg;

	return nx_vm_stat(v->vm, pages_4k) == v->want.pages_4k;
}

/*
 * With the vCPUs stopped, recovery drains every split (at the stress
 * ratio and period, not changed here: a KVM that ignores them must fail).
 */
static void drain(struct nx_vm *v)
{
	int64_t left = nx_vm_stat(v->vm, nx_lpage_splits);
	uint64_t t0 = nx_now_us(), us;

	nx_wait_all_recovered(v->vm, DRAIN_DEADLINE_MS,
			      "recovery after the vCPUs stopped", "drain_ms");
	us = nx_now_us() - t0;
	nx_metric("drain_splits", left, "pages");
	if (left && us)
		nx_metric("drain_pages_per_s", left * 1e6 / us, "pages/s");
	/* A zapped table's 4K mappings go just after the count drops. */
	nx_poll_until(pages_4k_back, v, DRAIN_DEADLINE_MS, 1000, NULL);
	v->want.pages_2m = nx_vm_stat(v->vm, pages_2m);
	nx_vm_expect(v, "recovery drained after the stress (every split's 4K mappings gone, no 1G mapping)");
	TEST_ASSERT(v->want.pages_2m <= nr_regions,
		    "after the stress: expected at most %d 2M mappings, got %ld",
		    nr_regions, v->want.pages_2m);
}

/* Every region maps 2M again: read each from the first vCPU. */
static void expect_all_huge(struct nx_vm *v)
{
	uint64_t t0 = nx_now_us();
	int i;

	for (i = 0; i < nr_regions; i++)
		nx_guest_do(v->vcpu, &v->r, NX_GUEST_READ, i);
	v->want.pages_2m = nr_regions;
	nx_vm_expect(v, "a read of every region after recovery (each maps 2M)");
	nx_metric("reread_ms", (nx_now_us() - t0) / 1000.0, "ms");
}

static void report(const struct sampling *smp)
{
	uint64_t stall = 0, batches = 0;
	int i;

	for (i = 0; i < nr_vcpus; i++) {
		stall = max(stall, vcpus[i].stall_max_us);
		batches += vcpus[i].batches;
	}
	printf("%d vCPUs, %d regions, %d ms, ratio %d, period %d ms: %lu guest batches, split count up to %ld, %ld zaps seen\n",
	       nr_vcpus, nr_regions, run_ms, ratio, period_ms, batches,
	       smp->max_splits, smp->dropped);
	nx_metric("vcpu_stall_max_us", stall, "us");
	nx_metric("guest_accesses_per_s", batches * BATCH * 1000.0 / run_ms,
		  "accesses/s");
	nx_metric("splits_max", smp->max_splits, "pages");
	nx_metric("recovered_pages_per_s_min", smp->dropped * 1000.0 / run_ms,
		  "pages/s");
	nx_metric("samples", smp->samples, "samples");
}

static void run_stress(const struct nx_case *c)
{
	struct sampling smp = { 0 };
	uint64_t t0 = nx_now_us();
	struct nx_vm v;
	int kmsg;

	TEST_ASSERT(nr_vcpus <= MAX_VCPUS, "at most %d vCPUs", MAX_VCPUS);
	nx_prepare_split_host(nr_regions, period_ms);
	kmsg = nx_kmsg_open();
	nx_vm_create(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, nr_regions, true,
		     false);
	stress_vcpus_add(&v);
	/* Mostly the host zeroing and the guest filling 1 GiB of hugepages. */
	nx_metric("setup_ms", (nx_now_us() - t0) / 1000.0, "ms");
	nx_set_recovery(ratio, period_ms);
	stress_run(&v, &smp);
	report(&smp);
	TEST_ASSERT(smp.max_splits > 0,
		    "%d vCPUs executing in %d regions for %d ms: expected NX splits, nx_lpage_splits stayed 0",
		    nr_vcpus, nr_regions, run_ms);
	TEST_ASSERT(smp.dropped > 0,
		    "recovery (ratio %d, period %d ms) zapped nothing in %d ms of stress",
		    ratio, period_ms, run_ms);
	drain(&v);
	expect_all_huge(&v);
	nx_vm_free(&v);
	nx_metric("kmsg_records", nx_kmsg_expect_clean(kmsg, "the stress run"),
		  "records");
}

static const struct nx_case cases[] = {
	{ "hugetlb_2m.many_vcpus", run_stress,
	  .needs = NX_SPLIT_HOST_NEEDS(DEFAULT_REGIONS) },
};

static bool parse_opt(int opt, const char *arg)
{
	switch (opt) {
	case 'v':
		nr_vcpus = nx_atoi_positive("Number of stress vCPUs", arg);
		return true;
	case 'n':
		nr_regions = nx_atoi_positive("Number of 2M regions", arg);
		return true;
	case 'd':
		run_ms = nx_atoi_positive("Stress duration (ms)", arg);
		return true;
	case 'p':
		period_ms = nx_atoi_positive("Recovery period (ms)", arg);
		return true;
	case 'R':
		ratio = nx_atoi_positive("Recovery ratio", arg);
		return true;
	}
	return false;
}

static const struct nx_suite suite = {
	.name = "nx_stress",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
	.optstring = "v:n:d:p:R:",
	.usage = "[-v VCPUS (8)] [-n REGIONS (512)] [-d MS (8000)] [-p PERIOD_MS (20)] [-R RATIO (2)]",
	.parse_opt = parse_opt,
};

NX_SUITE_MAIN(suite)
