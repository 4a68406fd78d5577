#!/bin/sh
# deps.sh - installs the Debian packages `make bench` needs that are missing, and says which.
#
# Xapian (Python bindings and quest) and nginx are the baselines, wrk loads
# the servers, GNU time reports peak RSS, man-db and manpages give the
# plain-text corpus (col is in bsdextrautils).  Debian starts the nginx
# service when it installs it; the bench runs its own nginx on a free
# loopback port and never touches that one.
set -eu

want="python3 python3-xapian xapian-tools nginx wrk time man-db manpages manpages-dev bsdextrautils"

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "bench deps: missing packages:$missing (install them with your package manager)" >&2
	exit 1
fi
echo "bench deps: installing:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "bench deps: need root or sudo to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || echo "bench deps: apt-get update failed; trying the install with the current lists" >&2
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
