#!/bin/sh
# Runs libFuzzer targets one after another, each for a bounded time, and
# prints what each did; exits 1 when any found a crash, leak or hang.
# usage: scripts/fuzz.sh BUILD_DIR SECONDS TARGET...
set -u
build=$1
secs=$2
shift 2
fuzzdir=tests/fuzz
mkdir -p "$build/tmp" "$build/logs"
# The harnesses build their small index under TMPDIR; a crashed run's
# leftovers stay in the build folder.
export TMPDIR="$PWD/$build/tmp"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

failed=""
summary=""
for t in "$@"; do
	corpus="$build/corpus/$t"
	crashes="$build/crashes/$t"
	log="$build/logs/$t.log"
	mkdir -p "$corpus" "$crashes"
	# Inputs as large as a target meets in use: a long pasted ticket, an
	# article, a taxonomy file, a request head.
	case "$t" in
	article_*) maxlen=65536 ;;
	taxonomy) maxlen=16384 ;;
	*) maxlen=8192 ;;
	esac
	set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$maxlen" -print_final_stats=1 \
		-artifact_prefix="$crashes/"
	[ -f "$fuzzdir/$t.dict" ] && set -- "$@" -dict="$fuzzdir/$t.dict"
	set -- "$@" "$corpus" "$fuzzdir/seeds/$t"
	[ -d "$fuzzdir/regressions/$t" ] && set -- "$@" "$fuzzdir/regressions/$t"
	echo "fuzz: $t for ${secs} s (log: $log)"
	t0=$(date +%s)
	if "$build/fuzz_$t" "$@" >"$log" 2>&1; then
		result="ok"
	else
		result="FOUND: $(ls -t "$crashes" | head -1)"
		failed="$failed $t"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz: )|runtime error' "$log" |
			head -5
	fi
	took=$(($(date +%s) - t0))
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	# A run that stopped on a crash prints no totals: its last status line.
	[ -n "$runs" ] ||
		runs=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed 's/^#\([0-9]*\).*/\1/')
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
	line=$(printf '%-13s %10s runs %5s s  cov %5s  ft %6s  corpus %-10s %s' \
		"$t" "${runs:-?}" "${took:-?}" "${cov:-?}" "${ft:-?}" \
		"${corp:-?}" "$result")
	echo "  $line"
	summary="$summary
$line"
done
echo
echo "fuzz summary ($secs s per target):$summary"
if [ -n "$failed" ]; then
	echo "fuzz: crashes in:$failed (inputs in $build/crashes/; reproduce with $build/fuzz_TARGET FILE)"
	exit 1
fi
