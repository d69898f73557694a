// SPDX-License-Identifier: GPL-2.0-only
/*
 * How much one NX recovery pass zaps, and when passes come.
 *
 * With S split pages and kvm.nx_huge_pages_recovery_ratio R, one pass zaps
 * ceil(S / R) of them and the next pass starts from what is left: ratio 1
 * zaps all, a ratio above S one page; ratio 0 disables recovery.  Passes
 * are nx_huge_pages_recovery_period_ms apart (at least the period, at most
 * 2 s more), period 0 meaning one hour divided by the ratio, never less
 * than one second (ratio 1: none for an hour; 3600 and 7200: 1 s).
 * Lowering the period (also the derived one) or turning recovery on must
 * wake the worker of a running VM at once: a missed wake-up leaves split
 * pages unrecovered for up to the old period (or for ever).  Every rule is
 * checked with exact page counts.
 */
#include <stdlib.h>

#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_poll.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_vm.h"

#define NR_SPLITS		64
#define PERIOD_MS		250
/* A pass may come one jiffy early (HZ 100 at worst) and this much late. */
#define PERIOD_EARLY_MS		10
#define PERIOD_SLACK_MS		2000
/* Passes watched per ratio: enough to see rounding and the new base. */
#define MAX_PASSES		6
/* Bounded waits that assert that nothing happens. */
#define QUIET_WAIT_MS		1500
#define ONE_HOUR_MS		3600000
/*
 * Period 0 derives the period from the ratio: one hour / ratio, the ratio
 * capped so that the period is never below one second.
 */
#define RATIO_1S		3600U
/* Passes watched per derived period: three gaps of a second. */
#define DERIVED_PASSES		4

static int nr_splits = NR_SPLITS;

/* A VM whose regions are all NX-split, recovery off. */
static void split_vm(struct nx_vm *v)
{
	nx_prepare_split_host(nr_splits, PERIOD_MS);
	nx_vm_create(v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, nr_splits, true, false);
	nx_vm_read_all(v);
	nx_vm_exec_all(v);
}

/* Account the zaps of passes that took the count from want to @left. */
static void account_zaps(struct nx_vm *v, int64_t left)
{
	nx_vm_recovered(v, v->want.nx_lpage_splits - left);
}

/*
 * How many passes one observed drop from @left to @after stands for: a host
 * that looked late sees passes that ran in between as one drop, which must
 * then be exactly k consecutive ceil(left / ratio) steps.  0: no k fits.
 */
static int passes_in_drop(int64_t left, int64_t after, unsigned int ratio)
{
	int k = 0;

	while (left > after) {
		left -= nx_pass_zaps(left, ratio);
		k++;
	}
	return left == after ? k : 0;
}

/* Passes at @ratio from @from split pages, as a watch expects them. */
struct pass_chain {
	int64_t from;
	unsigned int ratio;
	unsigned int period_ms;
};

/* Whether recovery passes of @arg's chain ever leave @count. */
static bool on_pass_chain(int64_t count, void *arg)
{
	const struct pass_chain *c = arg;
	int64_t left = c->from;

	while (left > count)
		left -= nx_pass_zaps(left, c->ratio);
	return left == count;
}

/* How long the host did not look while the drop happened. */
static uint64_t drop_window_ms(const struct nx_pass *p)
{
	return (p->t_us - p->t_last_before_us) / 1000;
}

static void check_pass_sizes(const struct nx_pass *p, int n,
			     const struct pass_chain *c, int *k)
{
	unsigned int ratio = c->ratio;
	int64_t left = c->from;
	int i;

	for (i = 0; i < n; i++) {
		k[i] = passes_in_drop(left, p[i].after, ratio);
		TEST_ASSERT(k[i] == 1 ||
			    (k[i] > 1 && drop_window_ms(&p[i]) + PERIOD_EARLY_MS >=
					 (k[i] - 1) * c->period_ms),
			    "drop %d, ratio %u: expected %ld -> %ld split pages (ceil(%ld/%u) zapped), got %ld -> %ld within %lu ms",
			    i + 1, ratio, left, left - nx_pass_zaps(left, ratio),
			    left, ratio, p[i].before, p[i].after,
			    drop_window_ms(&p[i]));
		if (k[i] > 1)
			printf("the host looked late: drop %d stands for %d passes\n",
			       i + 1, k[i]);
		left = p[i].after;
	}
}

/*
 * Pass i happened in (t_last_before_us, t_us]; the gap between two passes is
 * therefore known to lie between these bounds, however late the host looked.
 */
static uint64_t gap_at_most_ms(const struct nx_pass *a, const struct nx_pass *b)
{
	return (b->t_us - a->t_last_before_us) / 1000;
}

static uint64_t gap_at_least_ms(const struct nx_pass *a, const struct nx_pass *b)
{
	return (b->t_last_before_us - a->t_us) / 1000;
}

/*
 * Only between drops that are single passes is the spacing known; returns
 * how many gaps were checked.  @what names the watch in the messages,
 * @metric prefixes the gap metrics.
 */
static int check_pass_spacing(const struct nx_pass *p, int n, const int *k,
			      const struct pass_chain *c, const char *what,
			      const char *metric)
{
	uint64_t most, least, min_ms = UINT64_MAX, max_ms = 0;
	unsigned int period = c->period_ms;
	char name[64];
	int i, gaps = 0;

	for (i = 1; i < n; i++) {
		if (k[i - 1] != 1 || k[i] != 1)
			continue;
		most = gap_at_most_ms(&p[i - 1], &p[i]);
		least = gap_at_least_ms(&p[i - 1], &p[i]);
		TEST_ASSERT(most + PERIOD_EARLY_MS >= period,
			    "%s: passes %d and %d: expected at least the period (%u ms) apart, were at most %lu ms apart",
			    what, i, i + 1, period, most);
		TEST_ASSERT(least <= period + PERIOD_SLACK_MS,
			    "%s: passes %d and %d: expected within the period plus slack (%u + %d ms), were at least %lu ms apart",
			    what, i, i + 1, period, PERIOD_SLACK_MS, least);
		min_ms = min(min_ms, most);
		max_ms = max(max_ms, least);
		gaps++;
	}
	if (gaps) {
		snprintf(name, sizeof(name), "%s_min_ms", metric);
		nx_metric(name, min_ms, "ms");
		snprintf(name, sizeof(name), "%s_max_ms", metric);
		nx_metric(name, max_ms, "ms");
	}
	return gaps;
}

/* "64 -> 32 @+3 ms -> 0 @+256 ms": the drops seen, timed from @t0_us. */
static void format_seen(char *buf, size_t len, const struct nx_pass *p, int n,
			int64_t from, uint64_t t0_us)
{
	int i, off = snprintf(buf, len, "%ld", from);

	for (i = 0; i < n && off < (int)len; i++)
		off += snprintf(buf + off, len - off, " -> %ld @+%lu ms",
				p[i].after, (p[i].t_us - t0_us) / 1000);
}

/* "64 -> 32 -> 16 -> ...": what ceil(left / ratio) per pass leaves. */
static void format_wanted(char *buf, size_t len, int64_t left,
			  unsigned int ratio, int passes)
{
	int off = snprintf(buf, len, "%ld", left);

	while (passes-- && off < (int)len) {
		left -= nx_pass_zaps(left, ratio);
		off += snprintf(buf + off, len - off, " -> %ld", left);
	}
}

/*
 * Every drop the size of the first pass: the count each pass divides by
 * never went down as pages were recovered (the 7.3 accounting fault).
 */
static const char *diagnose_chain(const struct nx_pass *p, int n,
				  int64_t from, unsigned int ratio)
{
	int64_t first = nx_pass_zaps(from, ratio);
	int i;

	if (n < 2)
		return "";
	for (i = 0; i < n; i++)
		if (p[i].before - p[i].after != first &&
		    !(i == n - 1 && p[i].after == 0 && p[i].before < first))
			return "";
	return ": every pass zapped ceil(first count / ratio), so the count a pass divides by was never decremented as pages were recovered";
}

/*
 * Stop recovery so the counters hold still, @left split pages being what
 * the watched passes left.  A host that is late here may see one more
 * pass, which must then be the next step of @c's chain.
 */
static void stop_recovery(struct nx_vm *v, struct pass_chain *c, int64_t left)
{
	struct nx_pass pass;

	nx_set_recovery(0, PERIOD_MS);
	if (nx_watch_passes_to(v->vm, &pass, 1, left, 0, 2 * NX_PASS_SETTLE_MS,
			       on_pass_chain, c)) {
		TEST_ASSERT(passes_in_drop(left, pass.after, c->ratio) == 1,
			    "late pass, ratio %u: expected %ld -> %ld split pages, got %ld -> %ld",
			    c->ratio, left, left - nx_pass_zaps(left, c->ratio),
			    pass.before, pass.after);
		left = pass.after;
	}
	account_zaps(v, left);
	nx_vm_expect_eventually(v, "the watched recovery passes");
}

static void run_ratio(const struct nx_case *c)
{
	unsigned int ratio = (uintptr_t)c->arg;
	struct pass_chain chain = { nr_splits, ratio, PERIOD_MS };
	struct nx_pass passes[MAX_PASSES];
	int64_t left = nr_splits;
	int k[MAX_PASSES], want_passes = 0, n;
	char seen[256], wanted[128], what[64];
	uint64_t t0;
	struct nx_vm v;

	/* Passes to watch: until nothing is left, at most MAX_PASSES. */
	while (left && want_passes < MAX_PASSES) {
		left -= nx_pass_zaps(left, ratio);
		want_passes++;
	}
	split_vm(&v);
	t0 = nx_now_us();
	nx_set_recovery(ratio, PERIOD_MS);
	n = nx_watch_passes_to(v.vm, passes, want_passes, nr_splits, left,
			       want_passes * (PERIOD_MS + PERIOD_SLACK_MS),
			       on_pass_chain, &chain);
	format_seen(seen, sizeof(seen), passes, n, nr_splits, t0);
	format_wanted(wanted, sizeof(wanted), nr_splits, ratio, want_passes);
	TEST_ASSERT(n && passes[n - 1].after == left,
		    "ratio %u, %d split pages: expected %d recovery passes to leave %ld (%s), saw %d drops leaving %ld (%s)%s",
		    ratio, nr_splits, want_passes, left, wanted, n,
		    n ? passes[n - 1].after : (int64_t)nr_splits, seen,
		    diagnose_chain(passes, n, nr_splits, ratio));
	check_pass_sizes(passes, n, &chain, k);
	snprintf(what, sizeof(what), "ratio %u, period %d ms", ratio, PERIOD_MS);
	check_pass_spacing(passes, n, k, &chain, what, "pass_gap");
	stop_recovery(&v, &chain, left);
	nx_vm_free(&v);
}

/* Deliberate bounded wait: with recovery off, nothing may be zapped. */
static void expect_no_pass(struct nx_vm *v, const char *why)
{
	struct nx_pass pass;
	int n = nx_watch_passes(v->vm, &pass, 1, v->want.nx_lpage_splits, 0,
				QUIET_WAIT_MS);

	TEST_ASSERT(n == 0,
		    "%s: expected no recovery pass within %d ms, one took %ld -> %ld split pages",
		    why, QUIET_WAIT_MS, pass.before, pass.after);
	nx_vm_expect(v, why);
}

static void run_ratio_0(const struct nx_case *c)
{
	struct nx_vm v;

	split_vm(&v);
	nx_set_recovery(0, 1);
	expect_no_pass(&v, "ratio 0, period 1 ms");
	nx_vm_free(&v);
}

/*
 * Period 0 with @ratio (already written): DERIVED_PASSES passes of
 * ceil(left / ratio), one hour / min(ratio, 3600) apart.
 */
static void expect_derived_period(struct nx_vm *v, unsigned int ratio,
				  struct pass_chain *chain)
{
	struct nx_pass passes[DERIVED_PASSES];
	int k[DERIVED_PASSES], n, gaps;
	char what[96], metric[32], seen[256];
	uint64_t t0 = nx_now_us();

	*chain = (struct pass_chain){
		v->want.nx_lpage_splits, ratio, ONE_HOUR_MS / min(ratio, RATIO_1S),
	};
	snprintf(what, sizeof(what),
		 "period 0, ratio %u (one hour / min(ratio, %u) = %u ms)",
		 ratio, RATIO_1S, chain->period_ms);
	n = nx_watch_passes_to(v->vm, passes, DERIVED_PASSES, chain->from, 0,
			       DERIVED_PASSES * (chain->period_ms + PERIOD_SLACK_MS),
			       on_pass_chain, chain);
	format_seen(seen, sizeof(seen), passes, n, chain->from, t0);
	TEST_ASSERT(n == DERIVED_PASSES,
		    "%s: expected %d recovery passes within %u ms, saw %d (%s)",
		    what, DERIVED_PASSES,
		    DERIVED_PASSES * (chain->period_ms + PERIOD_SLACK_MS), n, seen);
	check_pass_sizes(passes, n, chain, k);
	snprintf(metric, sizeof(metric), "ratio_%u_gap", ratio);
	gaps = check_pass_spacing(passes, n, k, chain, what, metric);
	/* Merged drops would leave the derived period unchecked. */
	TEST_ASSERT(gaps, "%s: no two consecutive drops were single passes (%s): the period was not measured",
		    what, seen);
	account_zaps(v, passes[n - 1].after);
	printf("%s: %s\n", what, seen);
}

/*
 * Period 0 is one hour / ratio, never below a second: with ratio 1 enabling
 * recovery zaps nothing for a while; with ratio 3600 passes come 1 s
 * apart; with ratio 7200 still 1 s apart, not 500 ms.
 */
static void run_period_0(const struct nx_case *c)
{
	struct pass_chain chain;
	struct nx_vm v;

	split_vm(&v);
	nx_set_recovery(1, 0);
	expect_no_pass(&v, "ratio 1, period 0 (one hour)");
	/* A shorter derived period wakes the worker, as a lower period does. */
	nx_set_recovery(RATIO_1S, 0);
	expect_derived_period(&v, RATIO_1S, &chain);
	nx_set_recovery(2 * RATIO_1S, 0);
	expect_derived_period(&v, 2 * RATIO_1S, &chain);
	stop_recovery(&v, &chain, v.want.nx_lpage_splits);
	nx_vm_free(&v);
}

/* The pass the change of parameters must trigger at once. */
static void expect_prompt_pass(struct nx_vm *v, const char *what,
			       const char *metric)
{
	nx_vm_wait_recovered(v, PERIOD_SLACK_MS, what, metric);
}

static void run_lower_period_wakes(const struct nx_case *c)
{
	struct nx_vm v;

	split_vm(&v);
	nx_set_recovery(1, ONE_HOUR_MS);
	expect_no_pass(&v, "ratio 1, period one hour");
	nx_set_recovery(1, PERIOD_MS);
	expect_prompt_pass(&v, "period lowered from one hour",
			   "wake_on_lower_period_ms");
	nx_vm_free(&v);
}

static void run_enable_wakes(const struct nx_case *c)
{
	struct nx_vm v;

	/*
	 * Recovery off: the worker sleeps until woken.  The VM is older than
	 * the period, so a woken worker must zap at once.
	 */
	split_vm(&v);
	expect_no_pass(&v, "ratio 0");
	nx_set_recovery(1, PERIOD_MS);
	expect_prompt_pass(&v, "recovery turned on", "wake_on_enable_ms");
	nx_vm_free(&v);
}

/* Every case splits nr_splits pages of its own VM. */
#define RATIO_NEEDS	NX_SPLIT_HOST_NEEDS(NR_SPLITS)

static const struct nx_case cases[] = {
	{ "hugetlb_2m.ratio_1", run_ratio, (void *)1, .needs = RATIO_NEEDS },
	{ "hugetlb_2m.ratio_2", run_ratio, (void *)2, .needs = RATIO_NEEDS },
	{ "hugetlb_2m.ratio_3", run_ratio, (void *)3, .needs = RATIO_NEEDS },
	{ "hugetlb_2m.ratio_4", run_ratio, (void *)4, .needs = RATIO_NEEDS },
	{ "hugetlb_2m.ratio_above_splits", run_ratio, (void *)1000, .needs = RATIO_NEEDS },
	{ "hugetlb_2m.ratio_0_disables", run_ratio_0, .needs = RATIO_NEEDS },
	{ "hugetlb_2m.period_0_is_hour_over_ratio", run_period_0, .needs = RATIO_NEEDS },
	{ "hugetlb_2m.lower_period_wakes_worker", run_lower_period_wakes, .needs = RATIO_NEEDS },
	{ "hugetlb_2m.enable_wakes_worker", run_enable_wakes, .needs = RATIO_NEEDS },
};

static bool parse_opt(int opt, const char *arg)
{
	if (opt != 'n')
		return false;
	nr_splits = nx_atoi_positive("Number of split pages", arg);
	return true;
}

static const struct nx_suite suite = {
	.name = "nx_recovery_ratio",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
	.optstring = "n:",
	.usage = "[-n SPLIT_PAGES (64)]",
	.parse_opt = parse_opt,
};

NX_SUITE_MAIN(suite)
