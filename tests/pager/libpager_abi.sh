#!/bin/bash
# An outside program against the installed libpager: `meson install --destdir`, then build
# outside.c with only `pkg-config --cflags --libs libpager` and run it. The library must export
# exactly libpager.map's list (= the PAGER_API declarations of pager.h), each at its version
# node (LIBPAGER_1, or LIBPAGER_1.N for what 1.N added),
# require nothing it does not use (no xxhash), and carry no logger of its own.
# usage: libpager_abi.sh MESON BUILD_ROOT OUTSIDE_C MAP [CFLAGS...]
set -euo pipefail
meson=$1 build=$2 outside=$3 map=$4
shift 4
fail() { echo "FAIL: $*"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$meson" install -C "$build" --destdir "$tmp/root" --no-rebuild >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log"; fail "meson install"; }
pc=$(find "$tmp/root" -name libpager.pc)
[ -n "$pc" ] || fail "no libpager.pc installed"
export PKG_CONFIG_LIBDIR=$(dirname "$pc") # this .pc only: it must stand alone
prefix=$(pkg-config --variable=prefix libpager)
pkgconf=(pkg-config --define-variable=prefix="$tmp/root$prefix")
libdir=$("${pkgconf[@]}" --variable=libdir libpager)
so=$libdir/libpager.so

echo "== libpager.pc"
cat "$pc"
grep -qi xxhash "$pc" && fail "libpager.pc mentions xxhash"
"${pkgconf[@]}" --print-requires --print-requires-private libpager | grep -qi xxhash &&
	fail "libpager.pc requires xxhash"
readelf -d "$so" | grep NEEDED | grep -qi xxhash && fail "libpager.so needs libxxhash"
# The library logs through its caller's callback: no copy of the project's logger inside.
nm "$so" | grep -Ew "log_msg|log_max_level|die" && fail "libpager.so carries the project's logger"

echo "== exports"
sed -n 's/^[[:space:]]*\([a-z_0-9]*\);$/\1/p' "$map" | sort >"$tmp/map"
nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' >"$tmp/nm.raw"
sed 's/@.*//' "$tmp/nm.raw" | sort >"$tmp/nm"
diff -u "$tmp/map" "$tmp/nm" || fail "exported symbols differ from libpager.map"
# Each symbol at the map's node that lists it: LIBPAGER_1, LIBPAGER_1.1, ...
awk '/^LIBPAGER_[0-9.]* {/ { node = $1 } /^[[:space:]]*[a-z_0-9]*;$/ { gsub(/[[:space:];]/, ""); print $0, node }' \
	"$map" >"$tmp/nodes"
while read -r sym; do
	want=$(awk -v s="${sym%%@*}" '$1 == s { print $2 }' "$tmp/nodes")
	[ "${sym#*@@}" = "$want" ] || fail "$sym: expected version $want"
done <"$tmp/nm.raw"
header=$(find "$tmp/root" -name pager.h)
grep -o '^PAGER_API [^(]*(' "$header" | sed 's/.*[ *]\([a-z_0-9]*\)($/\1/' | sort >"$tmp/api"
diff -u "$tmp/api" "$tmp/map" || fail "PAGER_API declarations of pager.h differ from libpager.map"
echo "$(wc -l <"$tmp/map") symbols, each at its node ($(awk '{ print $2 }' "$tmp/nodes" | sort | uniq -c | tr -s ' ' | tr '\n' ';')), as listed and declared"

echo "== outside program"
# shellcheck disable=SC2046
${CC:-cc} "$@" -std=gnu11 -Wall -Wextra -Werror -o "$tmp/outside" "$outside" \
	$("${pkgconf[@]}" --cflags --libs libpager)
set +e
LD_LIBRARY_PATH=$libdir "$tmp/outside" 2>"$tmp/stderr"
status=$?
set -e
cat "$tmp/stderr"
[ $status -eq 77 ] && exit 77
[ $status -eq 0 ] || fail "the outside program exited $status"
[ "$(wc -l <"$tmp/stderr")" -eq 1 ] || fail "expected one line on stderr (the default log)"
grep -q '^libpager: error: region id 1: regions are added in layout order' "$tmp/stderr" ||
	fail "the default log line lacks its 'libpager: error:' prefix"
echo "PASS"
