// SPDX-License-Identifier: GPL-2.0-only
/* VM page counters; see include/nx_counts.h. */
#include "nx_counts.h"

void nx_counts_read(struct kvm_vm *vm, struct nx_counts *c)
{
	c->pages_4k = nx_vm_stat(vm, pages_4k);
	c->pages_2m = nx_vm_stat(vm, pages_2m);
	c->pages_1g = nx_vm_stat(vm, pages_1g);
	c->nx_lpage_splits = nx_vm_stat(vm, nx_lpage_splits);
}

void nx_counts_expect(struct kvm_vm *vm, const struct nx_counts *want,
		      const char *step)
{
	struct nx_counts got;

	nx_counts_read(vm, &got);
	TEST_ASSERT(got.pages_4k == want->pages_4k &&
		    got.pages_2m == want->pages_2m &&
		    got.pages_1g == want->pages_1g &&
		    got.nx_lpage_splits == want->nx_lpage_splits,
		    "after %s: expected pages_4k=%ld pages_2m=%ld pages_1g=%ld nx_lpage_splits=%ld, got pages_4k=%ld pages_2m=%ld pages_1g=%ld nx_lpage_splits=%ld",
		    step, want->pages_4k, want->pages_2m, want->pages_1g,
		    want->nx_lpage_splits, got.pages_4k, got.pages_2m,
		    got.pages_1g, got.nx_lpage_splits);
}
