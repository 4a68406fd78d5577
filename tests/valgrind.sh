#!/bin/sh
# Runs every Check suite given on the command line under valgrind's
# memcheck, with the programs the suites start traced too, and reports
# suites, errors and time; exits non-zero when any suite fails or any
# process reports an error.
# usage: tests/valgrind.sh BUILD_DIR SUITE...
set -u
build=$1
shift
vg=${VALGRIND:-valgrind}
logdir="$build/valgrind"
rm -rf "$logdir"
mkdir -p "$logdir"
# Check's per-test timeouts are set for native speed.
export CK_TIMEOUT_MULTIPLIER="${CK_TIMEOUT_MULTIPLIER:-20}"
# Suites that compare resident memory leave that to memcheck here.
export KB_TEST_MEMCHECK=1

failed=""
errors=0
start=$(date +%s)
for t in "$@"; do
	name=$(basename "$t")
	log="$logdir/$name.log"
	t0=$(date +%s)
	# Every process of the suite writes to one report through fd 9: the
	# suite's forked tests, and kbindex, kbsearch and kbserver as they
	# are started (a per-process file would be overwritten on exec).
	# fd 9 is a pipe to the report, not the report itself: a file size
	# limit a test puts on kbindex (RLIMIT_FSIZE, check_faults) binds
	# writes to files, and would cut that process's report short.
	fifo="$logdir/$name.fifo"
	mkfifo "$fifo" || exit 2
	{
		cat "$fifo" >>"$log"
		rm -f "$fifo"
	} &
	# No gdbserver: at every start it makes FIFOs and a shared-memory
	# file in /tmp named by pid.  A test child that forks as root and
	# execs kbindex as nobody cannot replace its own root-owned ones, and
	# kbindex under a file size limit of 0 cannot write the file; either
	# way memcheck exits before kbindex starts (both in check_faults).
	"$vg" --tool=memcheck --error-exitcode=99 --leak-check=full \
		--vgdb=no --soname-synonyms=somalloc=*jemalloc* \
		--show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible \
		--trace-children=yes --num-callers=30 \
		--suppressions=tests/valgrind.supp --log-fd=9 \
		"$t" 9>"$fifo"
	rc=$?
	# The report is whole once every process has closed the pipe; one
	# that outlives its suite (a server left running) fails it.
	w=0
	while [ -p "$fifo" ] && [ "$w" -lt 60 ]; do
		sleep 1
		w=$((w + 1))
	done
	if [ -p "$fifo" ]; then
		echo "valgrind: $name: a process outlived the suite (the report is still open after 60 s)"
		rc=98
	fi
	n=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" |
		awk '{ s += $1 } END { print s + 0 }')
	procs=$(grep -c 'ERROR SUMMARY' "$log")
	errors=$((errors + n))
	echo "valgrind: $name: exit $rc, $n errors in $procs processes, $(($(date +%s) - t0)) s"
	if [ "$rc" -ne 0 ] || [ "$n" -ne 0 ]; then
		failed="$failed $name"
	fi
done
echo "valgrind: $# suites, $errors errors, $(($(date +%s) - start)) s (reports in $logdir/)"
if [ -n "$failed" ]; then
	echo "FAILED:$failed"
	exit 1
fi
