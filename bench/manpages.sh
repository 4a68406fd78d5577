#!/bin/sh
# manpages.sh - real prose: N man pages rendered to text, measured like a generated corpus.
#
# usage: bench/manpages.sh N [BUILD] [REPS]
#
# Renders N man pages (evenly spread over the sorted list of
# /usr/share/man/man[1-8], leaving out the Google Cloud SDK's 16,000
# generated gcloud_* pages where it is installed) to plain text in bench/corpus/man-N/pages, once;
# later runs reuse them.  Each file's first line is the page's NAME line
# ("ls - list directory contents"), then the page without its running
# header and footer.  Then bench.py measures kbindex, raw FTS5 and Xapian
# on it with the queries of bench/man/queries.tsv, into
# bench/work/results/man-N.json.
set -eu

if [ "${1:-}" = --render ]; then
	# One page: bench/manpages.sh --render OUTDIR FILE
	out="$2/$(basename "$3" .gz).txt"
	MANROFFOPT='-rHY=0' MANWIDTH=80 man -l -P cat "$3" 2>/dev/null |
		col -bx | awk '
		NR == 1 { next }	# the running header
		{ line[++n] = $0 }
		END {
			while (n > 0 && line[n] ~ /^[ \t]*$/)
				n--
			n--		# the running footer
			for (i = 1; i <= n && title == ""; i++)
				if (line[i] == "NAME")
					for (j = i + 1; j <= n; j++)
						if (line[j] !~ /^[ \t]*$/) {
							title = line[j]
							break
						}
			sub(/^[ \t]+/, "", title)
			if (title == "")
				exit 1
			print title
			print ""
			for (i = 1; i <= n; i++)
				print line[i]
		}' >"$out" || rm -f "$out"
	# Redirections (.so) and stubs render to next to nothing.
	if [ -f "$out" ] && [ "$(wc -c <"$out")" -lt 1000 ]; then
		rm -f "$out"
	fi
	exit 0
fi

n=${1:?usage: bench/manpages.sh N [BUILD] [REPS]}
build=${2:-build}
reps=${3:-5}
cd "$(dirname "$0")/.."
dest=bench/corpus/man-$n

if [ "$(cat "$dest/.done" 2>/dev/null)" = "$n" ]; then
	echo "manpages: reusing $dest" >&2
else
	command -v man >/dev/null 2>&1 || {
		echo "manpages: man is missing (bench/deps.sh installs man-db)" >&2
		exit 1
	}
	rm -rf "$dest" "$dest.tmp"
	mkdir -p "$dest.tmp/pages"
	list="$dest.tmp/candidates"
	find /usr/share/man/man1 /usr/share/man/man2 /usr/share/man/man3 \
		/usr/share/man/man4 /usr/share/man/man5 /usr/share/man/man7 \
		/usr/share/man/man8 -type f -name '*.gz' 2>/dev/null |
		grep -v '/gcloud_' | LC_ALL=C sort >"$list.all"
	total=$(wc -l <"$list.all")
	# A third more than asked for: some pages render to nothing.
	want=$((n + n / 3 + 10))
	awk -v total="$total" -v want="$want" \
		'int(NR * want / total) != int((NR - 1) * want / total)' \
		"$list.all" >"$list"
	echo "manpages: rendering $(wc -l <"$list") of $total man pages" \
		"to get $n into $dest" >&2
	start=$(date +%s)
	tr '\n' '\0' <"$list" |
		xargs -0 -P "$(nproc)" -n 1 "$0" --render "$dest.tmp/pages"
	# Keep the first n, in name order, so the corpus is the same each time.
	find "$dest.tmp/pages" -type f -printf '%f\n' | LC_ALL=C sort |
		tail -n +$((n + 1)) |
		while read -r f; do rm -f "$dest.tmp/pages/$f"; done
	got=$(find "$dest.tmp/pages" -type f | wc -l)
	rm -f "$list" "$list.all"
	echo "manpages: $got pages, $(du -sh "$dest.tmp/pages" | cut -f1)," \
		"rendered in $(($(date +%s) - start)) s" >&2
	echo "$n" >"$dest.tmp/.done"
	mv "$dest.tmp" "$dest"
fi

mkdir -p bench/work/results
/usr/bin/python3 bench/bench.py text "man-$n" "$dest/pages" \
	bench/man/queries.tsv bench/man/taxonomy.json "copy file permissions" \
	"$build" bench/work "bench/work/results/man-$n.json" --reps "$reps" \
	--title "$(find "$dest/pages" -type f | wc -l) man pages rendered to text"
