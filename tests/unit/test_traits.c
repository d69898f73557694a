// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of lib/nx_traits.c: each trait of the kernel model decided
 * for the kernel series the suite runs on, as Debian ships them (6.1,
 * 6.12, 7.3: the symbols are those of their kvm.ko), in each MMU mode
 * where it matters.  No KVM is needed.
 */
#include <string.h>

#include "kselftest_harness.h"
#include "nx_traits.h"

/* The vhost_task worker's kill callback, in Debian's 6.12 and 7.3 kvm.ko. */
static bool vhost_worker_sym(const char *sym)
{
	return !strcmp(sym, "kvm_nx_huge_page_recovery_worker_kill");
}

/* Symbols of the traits that the Debian 7.3 kvm.ko has. */
static bool syms_73(const char *sym)
{
	return !strcmp(sym, "kvm_mmu_recover_huge_pages") ||
	       !strcmp(sym, "kvm_tdp_mmu_zap_possible_nx_huge_page") ||
	       vhost_worker_sym(sym);
}

/* Debian 6.12 has only the vhost_task worker's. */
static bool syms_612(const char *sym)
{
	return vhost_worker_sym(sym);
}

/* Debian 6.1 has none. */
static bool syms_none(const char *sym)
{
	return false;
}

static const struct nx_kernel k61 = { 6, 1, NX_TRAIT_TDP, syms_none };
static const struct nx_kernel k612 = { 6, 12, NX_TRAIT_TDP, syms_612 };
static const struct nx_kernel k73 = { 7, 3, NX_TRAIT_TDP, syms_73 };

static struct nx_kernel in_mmu(struct nx_kernel k, unsigned int mmu)
{
	k.mmu = mmu;
	return k;
}

/* Every series has it under the shadow MMU; the TDP MMU never prefetches. */
TEST(pte_prefetch)
{
	struct nx_kernel k;

	k = in_mmu(k61, NX_TRAIT_LEGACY);
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_PTE_PREFETCH, &k));
	k = in_mmu(k612, NX_TRAIT_SHADOW);
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_PTE_PREFETCH, &k));
	k = in_mmu(k73, NX_TRAIT_LEGACY);
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_PTE_PREFETCH, &k));
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_PTE_PREFETCH, &k61));
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_PTE_PREFETCH, &k73));
}

/*
 * Debian 6.1's TDP MMU zaps and faults (1G: 0 2M, 1 4K); 6.12 and 7.3
 * split in place (1G: 511 2M, 512 4K).  The shadow MMU always zaps.
 */
TEST(split_in_place)
{
	struct nx_kernel k;

	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_SPLIT_IN_PLACE, &k61));
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_SPLIT_IN_PLACE, &k612));
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_SPLIT_IN_PLACE, &k73));
	k = in_mmu(k612, NX_TRAIT_LEGACY);
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_SPLIT_IN_PLACE, &k));
	k = in_mmu(k73, NX_TRAIT_SHADOW);
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_SPLIT_IN_PLACE, &k));
}

TEST(dirty_log_unaccounts)
{
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_DIRTY_LOG_UNACCOUNTS, &k61));
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_DIRTY_LOG_UNACCOUNTS, &k612));
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_DIRTY_LOG_UNACCOUNTS, &k73));
}

TEST(collapse_leaves_table)
{
	struct nx_kernel k;

	k = in_mmu(k61, NX_TRAIT_SHADOW);
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_COLLAPSE_LEAVES_TABLE, &k));
	k = in_mmu(k61, NX_TRAIT_LEGACY);
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_COLLAPSE_LEAVES_TABLE, &k));
	/* The TDP MMU zaps the whole table. */
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_COLLAPSE_LEAVES_TABLE, &k61));
	k = in_mmu(k612, NX_TRAIT_SHADOW);
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_COLLAPSE_LEAVES_TABLE, &k));
	k = in_mmu(k73, NX_TRAIT_LEGACY);
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_COLLAPSE_LEAVES_TABLE, &k));
}

TEST(recover_huge_in_place)
{
	struct nx_kernel k;

	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_RECOVER_HUGE_IN_PLACE, &k61));
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_RECOVER_HUGE_IN_PLACE, &k612));
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_RECOVER_HUGE_IN_PLACE, &k73));
	/* The shadow MMU still zaps its collapsible leaves on 7.3. */
	k = in_mmu(k73, NX_TRAIT_LEGACY);
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_RECOVER_HUGE_IN_PLACE, &k));
	k = in_mmu(k73, NX_TRAIT_SHADOW);
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_RECOVER_HUGE_IN_PLACE, &k));
}

TEST(read_lock_recovery)
{
	struct nx_kernel k;

	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_READ_LOCK_RECOVERY, &k61));
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_READ_LOCK_RECOVERY, &k612));
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_READ_LOCK_RECOVERY, &k73));
	/* The shadow MMU's pages are still recovered under the write lock. */
	k = in_mmu(k73, NX_TRAIT_LEGACY);
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_READ_LOCK_RECOVERY, &k));
}

TEST(vhost_worker)
{
	struct nx_kernel k;

	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_VHOST_WORKER, &k61));
	/* Debian 6.12.117 carries the backport: the symbol decides. */
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_VHOST_WORKER, &k612));
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_VHOST_WORKER, &k73));
	/* The worker is the same in every MMU mode. */
	k = in_mmu(k612, NX_TRAIT_SHADOW);
	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_VHOST_WORKER, &k));
	k = in_mmu(k61, NX_TRAIT_LEGACY);
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_VHOST_WORKER, &k));
}

/* A symbol decides, whatever the version says (backports, reverts). */
TEST(symbol_beats_version)
{
	struct nx_kernel backport = { 6, 12, NX_TRAIT_TDP, syms_73 };
	struct nx_kernel reverted = { 7, 3, NX_TRAIT_TDP, syms_none };

	EXPECT_TRUE(nx_trait_decide(NX_TRAIT_RECOVER_HUGE_IN_PLACE, &backport));
	EXPECT_FALSE(nx_trait_decide(NX_TRAIT_READ_LOCK_RECOVERY, &reverted));
}

TEST(every_trait_documented)
{
	int t;

	for (t = 0; t < NR_NX_TRAITS; t++) {
		const struct nx_trait_info *i = nx_trait_info(t);

		EXPECT_NE(NULL, i->name);
		EXPECT_LE(2, i->major);
		EXPECT_NE(0U, i->mmus);
		/* A trait without a symbol is held to what the suite sees. */
		if (!i->symbol && t != NX_TRAIT_DIRTY_LOG_UNACCOUNTS &&
		    t != NX_TRAIT_COLLAPSE_LEAVES_TABLE)
			EXPECT_NE(NULL, i->seen);
	}
}

TEST(parse_release)
{
	int major, minor;

	ASSERT_TRUE(nx_parse_release("7.3.4+deb13-amd64", &major, &minor));
	EXPECT_EQ(7, major);
	EXPECT_EQ(3, minor);
	ASSERT_TRUE(nx_parse_release("6.1.0-57-amd64", &major, &minor));
	EXPECT_EQ(6, major);
	EXPECT_EQ(1, minor);
	EXPECT_FALSE(nx_parse_release("linux", &major, &minor));
}

TEST_HARNESS_MAIN
