# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The command line of run_nx_tests.sh, for it and for scripts/bisect.sh
# (which takes its --bisect* options): how a usage error is said, and what
# an option without its value is.  Sourced.

# Say MESSAGE as run_nx_tests.sh's usage error and exit with EXIT (2;
# git bisect run needs 128 to abort).
nx_usage_error() {
	local rc=$1
	shift
	echo "run_nx_tests.sh: $*" >&2
	echo "Try 'run_nx_tests.sh --help'." >&2
	exit "$rc"
}

# OPTION [VALUE...]: 0 if OPTION has a value (not empty, not an option).
nx_has_value() {
	[ $# -ge 2 ] && [ -n "$2" ] && [ "${2#--}" = "$2" ]
}
