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
