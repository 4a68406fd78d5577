#!/bin/sh
# Installs the Debian packages kbsearch needs that are missing, and says which.
# usage: scripts/deps.sh build|test|fuzz|valgrind|all
set -eu

build_pkgs="gcc make pkg-config libsqlite3-dev libcmark-dev libyaml-dev libxml2-dev libjansson-dev libmicrohttpd-dev zlib1g-dev libzstd-dev libjemalloc-dev libxxhash-dev"
# The browser test runs Debian's Chromium, driven by playwright-core.
test_pkgs="check chromium"
# make fuzz: clang and its runtimes; libFuzzer is in libclang-rt-dev, which
# clang only recommends.
fuzz_pkgs="clang libclang-rt-dev"

case "${1:-build}" in
build) want="$build_pkgs" ;;
test)
	want="$build_pkgs $test_pkgs"
	command -v node >/dev/null 2>&1 || want="$want nodejs"
	command -v npm >/dev/null 2>&1 || want="$want npm"
	;;
fuzz) want="$build_pkgs $fuzz_pkgs" ;;
valgrind) want="$build_pkgs check valgrind" ;;
all) want="$build_pkgs $test_pkgs $fuzz_pkgs valgrind" ;;
*) echo "usage: $0 build|test|fuzz|valgrind|all" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

install_npm() {
	# playwright-core for the browser test, exactly as locked; it never
	# downloads a browser (Debian's chromium is used).
	[ "${1:-build}" = test ] || return 0
	dir=$(dirname "$0")/../tests/browser
	[ -f "$dir/package-lock.json" ] || return 0
	[ -d "$dir/node_modules/playwright-core" ] && return 0
	echo "deps: installing playwright-core (npm ci in tests/browser)"
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$dir" \
		--no-audit --no-fund --loglevel=error
}

if [ -z "$missing" ]; then
	install_npm "${1:-build}"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing packages:$missing (install them with your package manager)" >&2
	exit 1
fi

echo "deps: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "deps: need root or sudo to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || echo "deps: apt-get update failed; trying the install with the current lists" >&2
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
install_npm "${1:-build}"
