/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VM's page-size and NX-split counters, read together through the
 * binary stats interface, and an assertion that names every counter that
 * differs from what a step must have produced.
 */
#ifndef NX_COUNTS_H
#define NX_COUNTS_H

#include <stdint.h>

#include "nx_compat.h"

struct nx_counts {
	int64_t pages_4k;
	int64_t pages_2m;
	int64_t pages_1g;
	int64_t nx_lpage_splits;
};

void nx_counts_read(struct kvm_vm *vm, struct nx_counts *c);

/*
 * Assert that the VM's counters equal @want; @step says what the guest just
 * did, for the failure message (expected vs. actual, per counter).
 */
void nx_counts_expect(struct kvm_vm *vm, const struct nx_counts *want,
		      const char *step);

#endif /* NX_COUNTS_H */
