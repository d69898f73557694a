// SPDX-License-Identifier: GPL-2.0-only
/*
 * NX huge pages backed by hugetlbfs 1G pages.
 *
 * KVM maps guest memory 1G when the host page behind it is 1G: a read of a
 * 1G-backed region counts in pages_1g.  An execute in it must not leave an
 * executable huge mapping of any size.  On the TDP MMU the 1G mapping is
 * split in place into 512 2M mappings (still not executable), and the
 * executed 2M one into 512 4K ones; both new tables are accounted as NX
 * splits.  The table under the 1G entry is the older one, so recovery zaps
 * it first, which takes everything below it: afterwards the 1G page is
 * mapped 1G again.  The region model (lib/nx_vm.c) derives every counter
 * from these rules and checks them after each guest step.
 */
#include "nx_compat.h"
#include "nx_harness.h"
#include "nx_host.h"
#include "nx_recovery.h"
#include "nx_results.h"
#include "nx_vm.h"

/* Regions executed in after the first: one in every 64 of the 1G page. */
#define EXEC_STRIDE		64
/* A ratio so high that every pass zaps exactly one NX page. */
#define ONE_ZAP_RATIO		100000

/*
 * One 1G page mapped 1G by a read, then split by executes in several of
 * its 2M regions.
 */
static void split_1g(struct nx_vm *v)
{
	int i;

	nx_prepare_split_host(0, NX_PERIOD_MS);
	nx_require_hugepages_1g(1);
	nx_vm_create(v, VM_MEM_SRC_ANONYMOUS_HUGETLB_1GB, NX_REGIONS_PER_1G,
		     true, false);
	/* The first read maps the whole 1G page, the others change nothing. */
	for (i = 0; i < NX_REGIONS_PER_1G; i += EXEC_STRIDE / 4)
		nx_vm_read(v, i);
	TEST_ASSERT(v->want.pages_1g == 1, "model: expected one 1G mapping");
	for (i = 0; i < NX_REGIONS_PER_1G; i += EXEC_STRIDE)
		nx_vm_exec(v, i);
	/* Executing again changes nothing; reading the 2M neighbours neither. */
	for (i = 0; i < NX_REGIONS_PER_1G; i += EXEC_STRIDE)
		nx_vm_exec(v, i);
	for (i = 1; i < NX_REGIONS_PER_1G; i += EXEC_STRIDE)
		nx_vm_read(v, i);
	nx_metric("splits_after_exec", v->want.nx_lpage_splits, "pages");
	nx_metric("pages_2m_after_exec", v->want.pages_2m, "pages");
}

/* Every split recovered, then a read maps the 1G page 1G again. */
static void run_split_and_recover(const struct nx_case *c)
{
	struct nx_vm v;

	split_1g(&v);
	nx_vm_recover_all(&v, NX_PERIOD_MS, "recovery of a split 1G page",
			  "recovery_ms");
	TEST_ASSERT(!v.want.pages_1g && !v.want.pages_2m,
		    "model: expected the whole 1G page unmapped by recovery");
	nx_vm_read(&v, NX_REGIONS_PER_1G - 1);
	nx_vm_read(&v, 0);
	printf("after recovery a read maps %ld 1G page(s) again\n",
	       v.want.pages_1g);
	nx_vm_free(&v);
}

/*
 * A pass that may zap one NX page only: it takes the oldest, the table
 * under the 1G entry, and with it every split below that table.
 */
static void run_oldest_is_1g_table(const struct nx_case *c)
{
	struct nx_pass pass;
	struct nx_vm v;
	int64_t from;

	if (!nx_tdp_mmu_on())
		nx_skip("checked on the TDP MMU only (%s): the shadow MMU unlinks, not zaps, the child tables of a zapped table",
			nx_mmu_name(nx_mmu_mode()));
	split_1g(&v);
	from = v.want.nx_lpage_splits;
	nx_set_recovery(ONE_ZAP_RATIO, NX_PERIOD_MS);
	TEST_ASSERT(nx_watch_passes(v.vm, &pass, 1, from, 0,
				    NX_RECOVERY_DEADLINE_MS) == 1,
		    "recovery with ratio %d: expected a pass within %d ms, nx_lpage_splits stayed %ld",
		    ONE_ZAP_RATIO, NX_RECOVERY_DEADLINE_MS, from);
	nx_set_recovery(0, NX_PERIOD_MS);
	TEST_ASSERT(pass.after == 0,
		    "a pass that zaps one NX page (ratio %d) took nx_lpage_splits from %ld to %ld, expected 0: the oldest is the table under the 1G entry, and zapping it drops every split below",
		    ONE_ZAP_RATIO, pass.before, pass.after);
	nx_vm_recovered(&v, pass.before - pass.after);
	nx_vm_expect_eventually(&v, "one recovery zap of the 1G table");
	nx_vm_read(&v, 0);
	nx_vm_free(&v);
}

static const struct nx_case cases[] = {
	{ "hugetlb_1g.split_and_recover", run_split_and_recover,
	  .needs = { .flags = NX_NEEDS_ROOT | NX_NEEDS_THP, .hugepages_1g = 1 } },
	{ "hugetlb_1g.oldest_is_1g_table", run_oldest_is_1g_table,
	  .needs = { .flags = NX_NEEDS_ROOT | NX_NEEDS_THP, .hugepages_1g = 1,
		     .mmus = NX_TRAIT_TDP } },
};

static const struct nx_suite suite = {
	.name = "nx_split_1g",
	.cases = cases,
	.nr_cases = ARRAY_SIZE(cases),
};

NX_SUITE_MAIN(suite)
