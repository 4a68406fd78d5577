#!/bin/sh
# Runs every Check suite given on the command line and reports a summary;
# exits non-zero when any suite fails.
set -u
build=$1
shift
failed=""
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
