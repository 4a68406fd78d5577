#!/bin/sh
# Runs every Check suite given on the command line and reports a summary;
# exits non-zero when any suite fails.
set -u
build=$1
shift
failed=""
# Sanitizer findings must not pass for an expected exit status.
export ASAN_OPTIONS="${ASAN_OPTIONS:-exitcode=86:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
# Check's timeout is a guard against a test that hangs, not a speed
# limit (speed is measured by make bench).  Its 4 s default was tripped
# by tests that take 0.3 s under ASan when the virtual machine was held
# off its cores for seconds (the kernel logged "sched: DL replenish
# lagged too much" during such a run); a hang still fails, at 60 s.
# Suites that set their own timeout keep it.
export CK_DEFAULT_TIMEOUT="${CK_DEFAULT_TIMEOUT:-60}"
for t in "$@"; do
	name=$(basename "$t")
	if "$t"; then
		:
	else
		failed="$failed $name"
	fi
done
if [ -n "$failed" ]; then
	echo "FAILED:$failed"
	exit 1
fi
echo "all $# test suites passed ($build)"
