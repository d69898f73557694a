// SPDX-License-Identifier: GPL-2.0-only
/* Watching recovery passes; see include/nx_recovery.h. */
#include "nx_host.h"
#include "nx_poll.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_vm.h"

#define NX_WATCH_INTERVAL_US	500

int64_t nx_pass_zaps(int64_t splits, unsigned int ratio)
{
	return ratio ? (splits + ratio - 1) / ratio : 0;
}

void nx_set_recovery(unsigned int ratio, unsigned int period_ms)
{
	char val[32];

	snprintf(val, sizeof(val), "%u", period_ms);
	nx_require_kvm_param("nx_huge_pages_recovery_period_ms", val);
	snprintf(val, sizeof(val), "%u", ratio);
	nx_require_kvm_param("nx_huge_pages_recovery_ratio", val);
}

void nx_prepare_host(uint64_t hugepages, bool mitigation,
		     unsigned int period_ms)
{
	nx_require_root();
	nx_require_thp_madvise();
	nx_require_no_numa_balancing();
	if (hugepages)
		nx_require_hugepages_2m(hugepages);
	nx_require_kvm_param("nx_huge_pages", mitigation ? "Y" : "N");
	nx_set_recovery(0, period_ms);
}

void nx_prepare_split_host(uint64_t hugepages, unsigned int period_ms)
{
	nx_prepare_host(hugepages, true, period_ms);
}

static int64_t nx_splits(struct kvm_vm *vm)
{
	return nx_vm_stat(vm, nx_lpage_splits);
}

static bool nx_no_splits(void *vm)
{
	return nx_splits(vm) == 0;
}

void nx_wait_all_recovered(struct kvm_vm *vm, uint64_t timeout_ms,
			   const char *what, const char *metric)
{
	struct nx_poll_result res;

	nx_poll_until(nx_no_splits, vm, timeout_ms, 500, &res);
	TEST_ASSERT(res.met,
		    "%s: expected nx_lpage_splits=0 within %lu ms, still %ld after %lu ms",
		    what, timeout_ms, nx_splits(vm), res.elapsed_us / 1000);
	nx_metric(metric, res.elapsed_us / 1000.0, "ms");
}

void nx_vm_wait_recovered(struct nx_vm *v, uint64_t timeout_ms,
			  const char *what, const char *metric)
{
	nx_wait_all_recovered(v->vm, timeout_ms, what, metric);
	/* The zapped split tables took their 4K mappings with them. */
	nx_vm_recovered(v, v->want.nx_lpage_splits);
	nx_vm_expect_eventually(v, what);
}

void nx_vm_recover_all(struct nx_vm *v, unsigned int period_ms,
		       const char *what, const char *metric)
{
	char step[128];

	/* Ratio 1 zaps every split page per pass; enabling wakes the worker. */
	nx_set_recovery(1, period_ms);
	snprintf(step, sizeof(step), "%s (ratio 1, period %u ms)", what,
		 period_ms);
	nx_vm_wait_recovered(v, NX_RECOVERY_DEADLINE_MS + 10ULL * period_ms,
			     step, metric);
	nx_set_recovery(0, period_ms);
}

static void nx_sleep_interval(void)
{
	usleep(NX_WATCH_INTERVAL_US);
}

struct nx_pass_end {
	bool (*fn)(int64_t count, void *arg);
	void *arg;
};

/*
 * Follow a drop that began at @p->t_us until the pass is over: both the
 * split count and pages_4k must hold still for the settle time, since a
 * zapped split page drops out of the count before its 4K mappings go, and
 * a count no finished pass can leave must hold still for the stall time.
 */
static void nx_settle(struct kvm_vm *vm, struct nx_pass *p, int64_t seen,
		      const struct nx_pass_end *end)
{
	uint64_t still_since = nx_now_us(), still_us = 0;
	int64_t now, pages = nx_vm_stat(vm, pages_4k), pages_now;

	p->after = seen;
	for (;;) {
		bool known = !end->fn || end->fn(p->after, end->arg);

		if (still_us >= (known ? NX_PASS_SETTLE_MS : NX_PASS_STALL_MS) * 1000ULL)
			break;
		nx_sleep_interval();
		now = nx_splits(vm);
		pages_now = nx_vm_stat(vm, pages_4k);
		if (now != p->after || pages_now != pages) {
			p->after = now;
			pages = pages_now;
			still_since = nx_now_us();
		}
		still_us = nx_now_us() - still_since;
	}
}

int nx_watch_passes_to(struct kvm_vm *vm, struct nx_pass *passes, int max,
		       int64_t from, int64_t stop_at, uint64_t timeout_ms,
		       bool (*pass_end)(int64_t count, void *arg), void *arg)
{
	const struct nx_pass_end end = { pass_end, arg };
	uint64_t deadline = nx_now_us() + timeout_ms * 1000;
	uint64_t t_last = nx_now_us();
	int64_t last = from, now;
	int n = 0;

	while (n < max && last > stop_at && nx_now_us() < deadline) {
		now = nx_splits(vm);
		TEST_ASSERT(now <= last,
			    "idle guest: expected nx_lpage_splits to only drop, it grew from %ld to %ld",
			    last, now);
		if (now == last) {
			t_last = nx_now_us();
			nx_sleep_interval();
			continue;
		}
		passes[n].t_last_before_us = t_last;
		passes[n].t_us = nx_now_us();
		passes[n].before = last;
		nx_settle(vm, &passes[n], now, &end);
		last = passes[n].after;
		t_last = nx_now_us();
		n++;
	}
	return n;
}

int nx_watch_passes(struct kvm_vm *vm, struct nx_pass *passes, int max,
		    int64_t from, int64_t stop_at, uint64_t timeout_ms)
{
	return nx_watch_passes_to(vm, passes, max, from, stop_at, timeout_ms,
				  NULL, NULL);
}
