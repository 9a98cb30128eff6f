#!/bin/bash
# -q quiets the library too: pager-source and pager-fill pass libpager a log callback and their
# level. Each is asked to pin a thread to a CPU that does not exist, which the library reports
# as a warning; without -q that warning appears, through the program's logger; with -q
# stderr stays empty. The fill completes either way.
# usage: quiet.sh PAGER_SOURCE PAGER_FILL
set -uo pipefail
source_bin=$1 fill_bin=$2
fail() { echo "FAIL: $*"; exit 1; }

tmp=$(mktemp -d)
trap 'kill $source_pid 2>/dev/null; rm -rf "$tmp"' EXIT
source_pid=

run() { # extra options for both programs
	rm -f "$tmp/port"
	"$source_bin" "$@" --listen 127.0.0.1:0 --port-file "$tmp/port" --size 4M \
		--push-cpu 4095 --timeout 20000 2>"$tmp/source.err" &
	source_pid=$!
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
	[ -s "$tmp/port" ] || fail "pager-source did not listen"
	"$fill_bin" "$@" --connect "127.0.0.1:$(cat "$tmp/port")" --threads 2 \
		--listener-cpu 4095 --timeout 20000 >"$tmp/fill.out" 2>"$tmp/fill.err" ||
		{ cat "$tmp/fill.err"; fail "pager-fill $* exited $?"; }
	wait $source_pid || { cat "$tmp/source.err"; fail "pager-source $* failed"; }
	grep -q '^digest ' "$tmp/fill.out" || fail "no digest from pager-fill $*"
}

run
echo "== without -q"
cat "$tmp/source.err" "$tmp/fill.err"
grep -q '^pager-fill warning: libpager: listener: cannot pin to CPU 4095' "$tmp/fill.err" ||
	fail "pager-fill: the library's warning is missing"
grep -q '^pager-source warning: libpager: source: cannot pin the push thread to CPU 4095' \
	"$tmp/source.err" || fail "pager-source: the library's warning is missing"

run -q
echo "== with -q"
cat "$tmp/source.err" "$tmp/fill.err"
[ -s "$tmp/fill.err" ] && fail "pager-fill -q wrote to stderr"
[ -s "$tmp/source.err" ] && fail "pager-source -q wrote to stderr"
echo "PASS"
