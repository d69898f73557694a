// SPDX-License-Identifier: GPL-2.0-only
/* The model of kernel traits (see nx_traits.h): the table and the rule. */
#include <stdio.h>

#include "nx_traits.h"

static const struct nx_trait_info nx_traits[NR_NX_TRAITS] = {
	[NX_TRAIT_PTE_PREFETCH] = {
		.name = "the shadow MMU prefetches the aligned 8 PTEs around a fault",
		.major = 2, .minor = 6, .mmus = NX_TRAIT_LEGACY | NX_TRAIT_SHADOW,
		.seen = "pages_4k after the first NX split",
	},
	[NX_TRAIT_SPLIT_IN_PLACE] = {
		.name = "the TDP MMU splits a huge mapping in place on an NX fault",
		.major = 6, .minor = 3, .mmus = NX_TRAIT_TDP,
		.seen = "pages_4k and pages_2m after the first NX split",
	},
	[NX_TRAIT_DIRTY_LOG_UNACCOUNTS] = {
		.name = "recovery unaccounts NX pages in dirty-logged slots",
		.major = 6, .minor = 2, .mmus = NX_TRAIT_ANY_MMU,
	},
	[NX_TRAIT_COLLAPSE_LEAVES_TABLE] = {
		.name = "the shadow MMU's dirty-log collapse leaves a 4K-forcing table",
		.major = 6, .minor = 2, .before = true,
		.mmus = NX_TRAIT_LEGACY | NX_TRAIT_SHADOW,
	},
	[NX_TRAIT_RECOVER_HUGE_IN_PLACE] = {
		.name = "huge mappings recovered in place when dirty logging ends",
		.major = 6, .minor = 13, .symbol = "kvm_mmu_recover_huge_pages",
		.mmus = NX_TRAIT_TDP,
	},
	[NX_TRAIT_READ_LOCK_RECOVERY] = {
		.name = "TDP MMU NX pages recovered under mmu_lock for read",
		.major = 6, .minor = 18,
		.symbol = "kvm_tdp_mmu_zap_possible_nx_huge_page",
		.mmus = NX_TRAIT_TDP,
	},
	[NX_TRAIT_VHOST_WORKER] = {
		.name = "the recovery worker is a vhost_task created at the first KVM_RUN",
		.major = 6, .minor = 14,
		.symbol = "kvm_nx_huge_page_recovery_worker_kill",
		.mmus = NX_TRAIT_ANY_MMU,
	},
};

const struct nx_trait_info *nx_trait_info(enum nx_trait t)
{
	return &nx_traits[t];
}

bool nx_parse_release(const char *release, int *major, int *minor)
{
	return sscanf(release, "%d.%d", major, minor) == 2;
}

bool nx_trait_decide(enum nx_trait t, const struct nx_kernel *k)
{
	const struct nx_trait_info *i = &nx_traits[t];
	bool newer;

	if (!(i->mmus & k->mmu))
		return false;
	if (i->symbol)
		return k->has_symbol(i->symbol);
	newer = k->major > i->major ||
		(k->major == i->major && k->minor >= i->minor);
	return i->before ? !newer : newer;
}
