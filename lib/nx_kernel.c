// SPDX-License-Identifier: GPL-2.0-only
/* The running kernel's traits (nx_traits.h): release, MMU mode, symbols. */
#include <sys/utsname.h>

#include "nx_compat.h"
#include "nx_host.h"
#include "nx_trace.h"
#include "nx_traits.h"

/* Every trait's symbol, looked up together at the first question. */
static bool nx_kallsyms_has(const char *sym)
{
	static struct nx_ksym_want w[NR_NX_TRAITS];
	static int nw = -1;
	const struct nx_ksym_want *k;
	const char *s;
	int i;

	if (nw < 0) {
		nw = 0;
		for (i = 0; i < NR_NX_TRAITS; i++) {
			s = nx_trait_info(i)->symbol;
			if (s)
				w[nw++].name = s;
		}
		nx_ksyms_lookup(w, nw);
	}
	k = nx_ksym_in(w, nw, sym);
	return k ? k->found : nx_ksym_find(sym, NULL, 0);
}

static unsigned int nx_trait_mmu(enum nx_mmu mmu)
{
	switch (mmu) {
	case NX_MMU_TDP:
		return NX_TRAIT_TDP;
	case NX_MMU_LEGACY:
		return NX_TRAIT_LEGACY;
	default:
		return NX_TRAIT_SHADOW;
	}
}

bool nx_kernel_has(enum nx_trait t)
{
	return nx_kernel_has_in(t, nx_mmu_mode());
}

bool nx_kernel_has_in(enum nx_trait t, enum nx_mmu mmu)
{
	struct nx_kernel k = { .has_symbol = nx_kallsyms_has };
	struct utsname u;

	TEST_ASSERT(!uname(&u) && nx_parse_release(u.release, &k.major, &k.minor),
		    "kernel release '%s': expected MAJOR.MINOR...", u.release);
	k.mmu = nx_trait_mmu(mmu);
	return nx_trait_decide(t, &k);
}

const char *nx_kernel_release(void)
{
	static struct utsname u;

	if (!u.release[0])
		TEST_ASSERT(!uname(&u), "uname");
	return u.release;
}
