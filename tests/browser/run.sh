#!/bin/sh
# Runs the browser test: indexes kb/ and the hostile articles of
# tests/browser/xss/ into a temporary index, starts kbserver on a free port,
# runs search.test.mjs in Debian's Chromium, stops the server by its PID.
# usage: tests/browser/run.sh [BUILD_DIR]
# Installs nothing: make check installs chromium and runs
# "npm ci --prefix tests/browser" first.
set -eu

build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

fail() {
	echo "browser test: $*" >&2
	exit 1
}

[ -x "$build/kbserver" ] || fail "$build/kbserver is missing: run make"
[ -x "$build/kbindex" ] || fail "$build/kbindex is missing: run make"
[ -x /usr/bin/chromium ] ||
	fail "/usr/bin/chromium is missing: apt-get install chromium"
command -v node >/dev/null 2>&1 || fail "node is missing: apt-get install nodejs"
[ -d "$here/node_modules/playwright-core" ] ||
	fail "playwright-core is missing: npm ci --prefix tests/browser"

# Sanitizer findings in the server must fail the run, as in tests/run.sh.
export ASAN_OPTIONS="${ASAN_OPTIONS:-exitcode=86:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kbsearch-browser.XXXXXX")
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$build/kbindex" --quiet --db "$tmp/kb.db" kb/ tests/browser/xss/ \
	>"$tmp/index.log" 2>&1 || {
	cat "$tmp/index.log" >&2
	fail "kbindex failed (above)"
}

# Created first: the background redirection may not have run yet when the
# loop below reads the file.
: >"$tmp/server.out"
: >"$tmp/server.err"
"$build/kbserver" --db "$tmp/kb.db" --port 0 >"$tmp/server.out" \
	2>"$tmp/server.err" &
pid=$!

# The first line on stdout is "listening on http://127.0.0.1:PORT/".
base=""
tries=0
while [ -z "$base" ]; do
	base=$(sed -n '1s#^listening on \(http://[^ /]*\)/*$#\1#p' \
		"$tmp/server.out")
	[ -n "$base" ] && break
	if ! kill -0 "$pid" 2>/dev/null; then
		cat "$tmp/server.err" >&2
		pid=""
		fail "kbserver exited before listening (above)"
	fi
	tries=$((tries + 1))
	[ "$tries" -le 100 ] ||
		fail "kbserver printed no 'listening on' line in 10 s" \
			"(stdout: $(head -c 200 "$tmp/server.out"))"
	sleep 0.1
done

mkdir -p tests/artifacts
status=0
KB_URL=$base KB_ARTIFACTS="$root/tests/artifacts" \
	timeout 300 node "$here/search.test.mjs" || status=$?

# Stop the server by its PID and check it went cleanly (no sanitizer report).
kill -TERM "$pid" 2>/dev/null || true
srv=0
wait "$pid" || srv=$?
pid=""
if [ "$srv" -ne 0 ] && [ "$srv" -ne 143 ]; then
	echo "browser test: kbserver exited with status $srv; its stderr:" >&2
	tail -n 40 "$tmp/server.err" >&2
	[ "$status" -ne 0 ] || status=1
fi
if [ "$status" -ne 0 ]; then
	echo "browser test: FAILED (screenshots in tests/artifacts/;" \
		"server stderr below)" >&2
	tail -n 20 "$tmp/server.err" >&2
fi
exit "$status"
