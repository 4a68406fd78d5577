#!/bin/sh
# run.sh - what `make bench` runs once everything is built: kb/, each corpus, man pages, the report.
#
# usage: bench/run.sh BUILD "SIZES" MAN_PAGES REPS
#
# Generated corpora are cached in bench/corpus/N (reused while gen.py is
# unchanged); indexes and raw figures go to bench/work (both gitignored);
# the report to bench/results/<date>.md, and to standard output.
set -eu
build=${1:?usage: bench/run.sh BUILD "SIZES" MAN_PAGES REPS}
sizes=${2:?}
man=${3:?}
reps=${4:?}
cd "$(dirname "$0")/.."
py=/usr/bin/python3
results=bench/work/results
rm -rf "$results"
mkdir -p "$results"
start=$(date +%s)

$py bench/bench.py env "$build" "$results/env.json"
$py bench/bench.py kb "$build" bench/work "$results/kb.json"
for n in $sizes; do
	$py bench/bench.py generated "$n" "$build" bench/work \
		"$results/$n.json" --reps "$reps"
done
if [ "$man" -gt 0 ]; then
	bench/manpages.sh "$man" "$build" "$reps"
fi

# Named for the day the run started, as its title is (env.json).
out=bench/results/$(date -d "@$start" +%F).md
$py bench/report.py "$results" "$out" --elapsed $(($(date +%s) - start)) \
	--command "make bench BENCH_SIZES=\"$sizes\" BENCH_MAN=$man BENCH_REPS=$reps"
echo "bench: wrote $out" >&2
