// SPDX-License-Identifier: GPL-2.0-only
/*
 * NX huge pages of a nested guest.
 *
 * L1 runs L2 under nested paging (nx_nested.h); L2's memory is mapped by
 * the shadow MMU that shadows L1's nested page table, huge where L1's entry
 * and the host's page are 2M.  An execute by L2 in such a region must split
 * it (the mitigation holds for L2 too), and the split page is the shadow
 * MMU's, while L1's own splits are the TDP MMU's in a TDP MMU VM: since
 * 6.18 KVM keeps them on two lists with a count each, and a recovery pass
 * zaps ceil(count / ratio) of each list; before, one list.  Every step is
 * checked with exact page counts.
 */
#include <stdlib.h>

#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_nested.h"
#include "nx_poll.h"
#include "nx_recovery.h"
#include "nx_vm.h"

#define DEFAULT_REGIONS		8
#define PERIOD_MS		250
#define RECOVERY_SLACK_MS	10000

static int nr_regions = DEFAULT_REGIONS;

/*
 * L2 reads each region (a 2M mapping each), then executes in each (an NX
 * split each, on the shadow MMU's list); recovery zaps them, and L2's next
 * execute splits again: the mitigation holds across recovery.
 */
static void run_l2_split_and_resplit(const struct nx_case *c)
{
	struct nx_vm v;
	int i;

	nx_prepare_split_host(nr_regions, PERIOD_MS);
	nx_vm_create_nested(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB, nr_regions,
			    true);
	for (i = 0; i < nr_regions; i++)
		nx_vm_read_at(&v, NX_L2, i);
	for (i = 0; i < nr_regions; i++)
		nx_vm_exec_at(&v, NX_L2, i);
	/* Ratio 1 recovers every split page of every list in one pass. */
	nx_vm_recover_all(&v, PERIOD_MS, "recovery of every split page",
			  "recovery_ms");
	for (i = 0; i < nr_regions; i++)
		nx_vm_read_at(&v, NX_L2, i);
	for (i = 0; i < nr_regions; i++)
		nx_vm_exec_at(&v, NX_L2, i);
	nx_vm_free(&v);
}

/* Split pages of each list, as L2's and L1's regions of the VM. */
#define L2_SPLITS		16
#define L1_SPLITS		32
#define RATIO			4
/* Apart enough that a pass is seen, and recovery off, before the next. */
#define STEP_PERIOD_MS		500
#define PASS_DEADLINE_MS	(STEP_PERIOD_MS + RECOVERY_SLACK_MS)
#define MAX_STEPS		16

struct pass_split {
	int64_t tdp, shadow;	/* zaps of each list */
	uint64_t t_ms;		/* when it was seen, from recovery's start */
};

/*
 * The zaps of each list that a drop of @splits split pages and @pages_4k
 * 4K mappings stands for, L1's splits having @l1_4k 4K mappings each and
 * L2's @l2_4k: false if none does.
 */
static bool decode_pass(int64_t splits, int64_t pages_4k, int l1_4k,
			int l2_4k, struct pass_split *z)
{
	for (z->tdp = 0; z->tdp <= splits; z->tdp++) {
		z->shadow = splits - z->tdp;
		if (z->tdp * l1_4k + z->shadow * l2_4k == pages_4k)
			return true;
	}
	return false;
}

struct decode_arg {
	struct kvm_vm *vm;
	struct nx_counts before;
	int l1_4k, l2_4k;
	struct pass_split z;
};

/* The counters hold what whole zaps of the two lists leave. */
static bool pass_decoded(void *p)
{
	struct decode_arg *a = p;
	struct nx_counts now;

	nx_counts_read(a->vm, &now);
	return now.nx_lpage_splits < a->before.nx_lpage_splits &&
	       decode_pass(a->before.nx_lpage_splits - now.nx_lpage_splits,
			   a->before.pages_4k - now.pages_4k, a->l1_4k,
			   a->l2_4k, &a->z);
}

/*
 * One recovery pass at @ratio, recovery off again before the next: what it
 * zapped of each list, told apart by the 4K mappings that went with it,
 * into @z.  False if no pass zapped anything within the deadline.
 */
static bool one_pass(struct nx_vm *v, unsigned int ratio, uint64_t t0_us,
		     int step, struct pass_split *z)
{
	struct decode_arg a = { .vm = v->vm, .l1_4k = v->split_4k,
				.l2_4k = v->split_4k_l2 };
	struct nx_poll_result res;
	struct nx_pass pass;
	struct nx_counts now;
	int n;

	nx_counts_read(v->vm, &a.before);
	nx_set_recovery(ratio, STEP_PERIOD_MS);
	n = nx_watch_passes(v->vm, &pass, 1, a.before.nx_lpage_splits, 0,
			    PASS_DEADLINE_MS);
	nx_set_recovery(0, STEP_PERIOD_MS);
	if (!n)
		return false;
	nx_poll_until(pass_decoded, &a, RECOVERY_SLACK_MS, 1000, &res);
	nx_counts_read(v->vm, &now);
	TEST_ASSERT(res.met,
		    "pass %d: a drop of nx_lpage_splits %ld -> %ld and pages_4k %ld -> %ld is no whole number of L1 splits (%d 4K each) and L2 splits (%d 4K each)",
		    step, a.before.nx_lpage_splits, now.nx_lpage_splits,
		    a.before.pages_4k, now.pages_4k, a.l1_4k, a.l2_4k);
	*z = a.z;
	z->t_ms = (pass.t_us - t0_us) / 1000;
	return true;
}

/* "16 -> 12 -> 9 ...": what ceil(left / ratio) a pass leaves of @left. */
static void format_wanted(char *buf, size_t len, int64_t left)
{
	int off = snprintf(buf, len, "%ld", left);

	while (left && off < (int)len) {
		left -= nx_pass_zaps(left, RATIO);
		off += snprintf(buf + off, len - off, " -> %ld", left);
	}
}

/* "16 -> 12 @+1203 ms -> ...": what the passes seen left of one list. */
static void format_seen(char *buf, size_t len, int64_t left,
			const struct pass_split *p, int n, bool tdp)
{
	int i, off = snprintf(buf, len, "%ld", left);

	for (i = 0; i < n && off < (int)len; i++) {
		left -= tdp ? p[i].tdp : p[i].shadow;
		off += snprintf(buf + off, len - off, " -> %ld @+%lu ms", left,
				p[i].t_ms);
	}
}

/*
 * Whether every pass zapped what a shadow list count that the TDP MMU's
 * recoveries decrement too would give (7.x's unaccount_nx_huge_page()
 * untracks every page from KVM_SHADOW_MMU's count): the count, an
 * unsigned long, goes below the pages it holds, to 0 (nothing recovered
 * any more) or past it (wrapped: a pass zaps them all).  Writes that count
 * after each pass into @buf.
 */
static bool shadow_count_shared(const struct pass_split *p, int n,
				int64_t shadow, char *buf, size_t len)
{
	uint64_t count = shadow, want;
	int64_t left = shadow;
	int i, off = snprintf(buf, len, "%lu", count);

	for (i = 0; i < n; i++) {
		/* ceil(count / RATIO) without overflow, at most what is left. */
		want = count / RATIO + !!(count % RATIO);
		if (want > (uint64_t)left)
			want = left;
		if (p[i].shadow != (int64_t)want)
			return false;
		left -= p[i].shadow;
		count -= p[i].shadow + p[i].tdp;
		off += snprintf(buf + off, len - off, (int64_t)count < 0 ?
				" -> %ld (wrapped)" : " -> %ld", (int64_t)count);
	}
	return true;
}

/*
 * L2 splits L2_SPLITS regions, then L1 splits L1_SPLITS others; recovery at
 * ratio RATIO then runs one pass at a time, to the end.  Two lists (6.18+,
 * TDP MMU): each pass zaps ceil(left / ratio) of each list, both in the
 * same pass, each list's count going down by what was zapped from it.  One
 * list (before 6.18): ceil(left / ratio) of all, oldest first.  Each pass's
 * zaps per list are told apart by the 4K mappings they take (L1's splits
 * keep 512, L2's the 8 the shadow MMU prefetches).
 */
static void run_passes_per_list(const struct nx_case *c)
{
	char want_s[160], want_t[160], seen_s[320], seen_t[320], count[200];
	char diag[320] = "";
	struct pass_split p[MAX_STEPS] = {};
	int64_t shadow, tdp;
	bool two_lists, bad = false;
	uint64_t t0;
	struct nx_vm v;
	int i, n;

	nx_prepare_split_host(L2_SPLITS + L1_SPLITS, STEP_PERIOD_MS);
	nx_vm_create_nested(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_2MB,
			    L2_SPLITS + L1_SPLITS, true);
	for (i = 0; i < L2_SPLITS; i++) {
		nx_vm_read_at(&v, NX_L2, i);
		nx_vm_exec_at(&v, NX_L2, i);
	}
	for (i = L2_SPLITS; i < L2_SPLITS + L1_SPLITS; i++) {
		nx_vm_read_at(&v, NX_L1, i);
		nx_vm_exec_at(&v, NX_L1, i);
	}
	two_lists = v.tdp_list;
	TEST_ASSERT(!two_lists || v.split_4k != v.split_4k_l2,
		    "L1's and L2's splits leave %d 4K mappings each: a pass's zaps cannot be told apart",
		    v.split_4k);
	printf("%s: L2's %d splits on the shadow MMU's list, L1's %d on the %s list\n",
	       nx_mmu_name(nx_mmu_mode()), L2_SPLITS, L1_SPLITS,
	       two_lists ? "TDP MMU's" : "same");
	t0 = nx_now_us();
	for (n = 0; v.want.nx_lpage_splits && n < MAX_STEPS; n++) {
		shadow = nx_vm_list_splits(&v, NX_LIST_SHADOW);
		tdp = nx_vm_list_splits(&v, NX_LIST_TDP);
		if (!one_pass(&v, RATIO, t0, n + 1, &p[n]))
			break;
		printf("pass %d @+%lu ms: %ld of %ld shadow, %ld of %ld TDP\n",
		       n + 1, p[n].t_ms, p[n].shadow, shadow, p[n].tdp, tdp);
		if (!two_lists) {
			TEST_ASSERT(p[n].shadow + p[n].tdp == nx_pass_zaps(shadow, RATIO),
				    "pass %d, ratio %d, one list: expected ceil(%ld/%d) = %ld split pages zapped, got %ld (%ld of L2's, %ld of L1's)",
				    n + 1, RATIO, shadow, RATIO,
				    nx_pass_zaps(shadow, RATIO),
				    p[n].shadow + p[n].tdp, p[n].shadow, p[n].tdp);
			nx_vm_recovered(&v, p[n].shadow + p[n].tdp);
		} else {
			bad |= p[n].shadow != nx_pass_zaps(shadow, RATIO) ||
			       p[n].tdp != nx_pass_zaps(tdp, RATIO);
			nx_vm_recovered_list(&v, NX_LIST_SHADOW, p[n].shadow);
			nx_vm_recovered_list(&v, NX_LIST_TDP, p[n].tdp);
		}
		nx_vm_expect_eventually(&v, "a recovery pass");
	}
	if (two_lists) {
		format_wanted(want_s, sizeof(want_s), L2_SPLITS);
		format_wanted(want_t, sizeof(want_t), L1_SPLITS);
		format_seen(seen_s, sizeof(seen_s), L2_SPLITS, p, n, false);
		format_seen(seen_t, sizeof(seen_t), L1_SPLITS, p, n, true);
		printf("shadow MMU's list: %s\nTDP MMU's list: %s\n", seen_s,
		       seen_t);
		if (bad && shadow_count_shared(p, n, L2_SPLITS, count, sizeof(count)))
			snprintf(diag, sizeof(diag),
				 ": every pass matches a shadow list count that the TDP MMU's recoveries decrement too: %s",
				 count);
		TEST_ASSERT(!bad && !v.want.nx_lpage_splits,
			    "ratio %d, two lists, one pass at a time: expected the shadow MMU's list (L2's splits) %s and the TDP MMU's (L1's) %s, saw %s and %s%s%s",
			    RATIO, want_s, want_t, seen_s, seen_t,
			    v.want.nx_lpage_splits ? ", then no pass within the deadline" : "",
			    diag);
	}
	TEST_ASSERT(!v.want.nx_lpage_splits,
		    "ratio %d: expected recovery to zap every split page, %ld left when no pass came within %d ms",
		    RATIO, v.want.nx_lpage_splits, PASS_DEADLINE_MS);
	nx_vm_free(&v);
}

/*
 * The same over a 1G hugetlb page that L1 maps with a 1G nested entry: an
 * L2 read maps it 1G (pages_1g +1), an L2 execute splits it (two NX
 * splits, the 1G level's and the 2M level's; the shadow MMU maps the
 * faulting 4K page and its prefetched group), recovery zaps both, and the
 * next read and execute map 1G and split again.
 */
static void run_l2_split_1g(const struct nx_case *c)
{
	struct nx_vm v;
	int i;

	nx_prepare_split_host(0, PERIOD_MS);
	nx_require_hugepages_1g(1);
	nx_vm_create_nested(&v, VM_MEM_SRC_ANONYMOUS_HUGETLB_1GB,
			    NX_REGIONS_PER_1G, true);
	for (i = 0; i < 2; i++) {
		nx_vm_read_at(&v, NX_L2, 0);
		TEST_ASSERT(v.want.pages_1g == 1, "model: expected one 1G mapping");
		nx_vm_exec_at(&v, NX_L2, 0);
		if (!i)
			nx_vm_recover_all(&v, PERIOD_MS, "recovery of the 1G page",
					  "recovery_ms");
	}
	nx_vm_free(&v);
}

static const struct nx_case cases[] = {
	{ "hugetlb_2m.l2_split_and_resplit", run_l2_split_and_resplit,
	  .needs = { .flags = NX_NEEDS_ROOT | NX_NEEDS_THP | NX_NEEDS_NESTED,
		     .hugepages_2m = DEFAULT_REGIONS } },
	{ "hugetlb_1g.l2_split_and_resplit", run_l2_split_1g,
	  .needs = { .flags = NX_NEEDS_ROOT | NX_NEEDS_THP | NX_NEEDS_NESTED,
		     .hugepages_1g = 1 } },
	{ "hugetlb_2m.passes_per_list", run_passes_per_list,
	  .needs = { .flags = NX_NEEDS_ROOT | NX_NEEDS_THP | NX_NEEDS_NESTED,
		     .hugepages_2m = L2_SPLITS + L1_SPLITS } },
};

static bool parse_opt(int opt, const char *arg)
{
	if (opt != 'n')
		return false;
	nr_regions = nx_atoi_positive("Number of 2M regions", arg);
	return true;
}

static const struct nx_suite suite = {
	.name = "nx_nested",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
	.optstring = "n:",
	.usage = "[-n REGIONS (8)]",
	.parse_opt = parse_opt,
};

NX_SUITE_MAIN(suite)
