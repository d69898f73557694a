# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# The TAP lines of the project's own check scripts (sourced): report
# STATUS NAME prints "ok N NAME" or "not ok N NAME" and counts it;
# report_skip NAME WHY, "ok N NAME # SKIP WHY".
# shellcheck disable=SC2034 # the counts are the caller's

n=0
passed=0
failed=0
skipped=0

report() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		passed=$((passed + 1))
		echo "ok $n $2"
	else
		failed=$((failed + 1))
		echo "not ok $n $2"
	fi
}

report_skip() {
	n=$((n + 1))
	skipped=$((skipped + 1))
	echo "ok $n $1 # SKIP $2"
}
