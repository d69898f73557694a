/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small case runner for the suite's test binaries, with the kselftest
 * contract: KTAP on stdout, exit 0 (all ran and passed, skips allowed),
 * 1 (a case failed), 4 (everything skipped).
 *
 * Each case runs in its own child process (a TEST_ASSERT kills only that
 * case) with a deadline; the child's output becomes KTAP diagnostics.  The
 * cases can be listed (-l) and picked by name (-r), so a runner can run and
 * time them one by one.  Host knobs a case changed through nx_params.h are
 * restored after it, even when it had to be killed.
 */
#ifndef NX_HARNESS_H
#define NX_HARNESS_H

#include <stdbool.h>
#include <stdlib.h>

#include "nx_needs.h"
#include "nx_skip.h"

struct nx_case {
	const char *name;	/* "<variant>.<behaviour>", e.g. hugetlb_2m.split */
	void (*fn)(const struct nx_case *c);
	const void *arg;	/* per-case data, e.g. the backing to use */
	/*
	 * What the case does to a host that cannot be undone or that
	 * disturbs other VMs (it writes what sticks until kvm.ko is
	 * reloaded, reloads kvm.ko, wakes every VM's worker): set, the case
	 * is vm_only and runs only where the environment declares the host
	 * disposable (NX_DISPOSABLE_HOST=1, which only the suite's VM sets);
	 * everywhere else it skips with this text, before it starts.
	 */
	const char *vm_only;
	/*
	 * What it needs of the host (nx_needs.h): checked before it starts,
	 * a need not met skips it with the reason; -l prints it.
	 */
	struct nx_needs needs;
};

/* The environment variable that declares the host disposable. */
#define NX_DISPOSABLE_ENV	"NX_DISPOSABLE_HOST"

/*
 * A case's time limit unless -t says otherwise: the default of
 * run_nx_tests.sh's NX_TEST_TIMEOUT, which it passes as -t.  The one limit
 * of the test level (docs/runner.md "Timeouts").
 */
#define NX_CASE_TIMEOUT_S	120

struct nx_suite {
	const char *name;	/* prefix of every case's full name */
	const struct nx_case *cases;
	int nr_cases;
	/* Optional suite-specific options (getopt letters, their handler). */
	const char *optstring;
	const char *usage;
	bool (*parse_opt)(int opt, const char *arg);
};

int nx_suite_main(const struct nx_suite *s, int argc, char **argv);
void nx_suite_list_early(const struct nx_suite *s, int argc, char **argv);

/*
 * Before any constructor of the KVM selftest framework: the 7.x framework's
 * start-up opens /dev/kvm and exits with a skip where there is none, so a
 * runner on a build host could not learn the cases.  GCC reserves
 * priorities up to 100; the framework's constructors have none and run
 * after every prioritized one.
 */
#define NX_LIST_EARLY_PRIORITY	101

/*
 * main() of a test binary running SUITE, and -l answered before the
 * framework starts (glibc passes argc and argv to constructors).
 */
#define NX_SUITE_MAIN(suite)						\
	static void __attribute__((constructor(NX_LIST_EARLY_PRIORITY)))\
	nx_list_early(int argc, char **argv)				\
	{								\
		nx_suite_list_early(&(suite), argc, argv);		\
	}								\
									\
	int main(int argc, char **argv)					\
	{								\
		exit(nx_suite_main(&(suite), argc, argv));		\
	}

#endif /* NX_HARNESS_H */
