#!/bin/bash
# One live migration of a real KVM guest between two processes, checked end to end.
#
# usage: migrate.sh BUILD_DIR [--netns] [--relay-us N] -- VMM-SOURCE ARGS...
#   --netns       source and destination in two network namespaces joined by a veth pair
#   --relay-us N  the connections go through pager-relay, N us each way
#   --expect-restore-faults N  at least N pages faulted inside the restore ioctls (kvmclock)
#   --huge-pages N  N free 2 MiB hugetlb pages for both ends (--backing hugetlb), the pool grown
#                 by the shortfall for the test and shrunk back after
# Passes when vmm-dest exits 0 and its JSON says guest_ok and digest_match, the page origins
# add up, and zero pages travelled as zero pages. Every wait is bounded.
set -uo pipefail
build=$(realpath "$1")
shift
netns=0 relay_us=0 restore_faults=0 huge_pages=0
while [ $# -gt 0 ]; do
	case "$1" in
	--netns) netns=1 ;;
	--relay-us) relay_us=$2; shift ;;
	--expect-restore-faults) restore_faults=$2; shift ;;
	--huge-pages) huge_pages=$2; shift ;;
	--) shift; break ;;
	*) echo "unknown option $1"; exit 2 ;;
	esac
	shift
done

[ -e /dev/kvm ] || { echo "SKIP: no /dev/kvm"; exit 77; }
# shellcheck source=../lib/huge_pages.sh
. "$(dirname "$0")/../lib/huge_pages.sh"
[ "$huge_pages" -gt 0 ] && huge_pages_need "$huge_pages"
dir=$(mktemp -d)
tag=pgm$$
src_ns=() dst_ns=() dst_host=127.0.0.1
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	if [ $netns = 1 ]; then
		ip netns del "$tag-src" 2>/dev/null
		ip netns del "$tag-dst" 2>/dev/null
	fi
	rm -rf "$dir"
	huge_pages_give_back
}
trap cleanup EXIT

if [ $netns = 1 ]; then
	# Two hosts of our own: 10.231.0.1 (source) and 10.231.0.2 (destination) on a veth pair.
	ip netns add "$tag-src" && ip netns add "$tag-dst" || { echo "FAIL: cannot create netns"; exit 1; }
	ip link add "$tag-a" type veth peer name "$tag-b" || { echo "FAIL: veth"; exit 1; }
	ip link set "$tag-a" netns "$tag-src"
	ip link set "$tag-b" netns "$tag-dst"
	ip -n "$tag-src" addr add 10.231.0.1/30 dev "$tag-a"
	ip -n "$tag-dst" addr add 10.231.0.2/30 dev "$tag-b"
	for ns in "$tag-src" "$tag-dst"; do ip -n "$ns" link set lo up; done
	ip -n "$tag-src" link set "$tag-a" up
	ip -n "$tag-dst" link set "$tag-b" up
	src_ns=(ip netns exec "$tag-src")
	dst_ns=(ip netns exec "$tag-dst")
	dst_host=10.231.0.2
fi

wait_file() { # file, seconds
	for _ in $(seq $(($2 * 20))); do [ -s "$1" ] && return 0; sleep 0.05; done
	return 1
}

"${dst_ns[@]}" timeout -s KILL 150 "$build/tools/vmm-dest" --listen "$dst_host:0" \
	--port-file "$dir/dest.port" --timeout 90000 --json "$dir/dest.json" &
dest_pid=$!
pids+=($dest_pid)
wait_file "$dir/dest.port" 10 || { echo "FAIL: vmm-dest did not start listening"; exit 1; }
target="$dst_host:$(cat "$dir/dest.port")"

if [ "$relay_us" != 0 ]; then
	"${src_ns[@]}" timeout -s KILL 150 "$build/tools/pager-relay" --listen 127.0.0.1:0 \
		--to "$target" --delay-us "$relay_us" --connections 2 --port-file "$dir/relay.port" &
	pids+=($!)
	wait_file "$dir/relay.port" 10 || { echo "FAIL: relay did not start"; exit 1; }
	target="127.0.0.1:$(cat "$dir/relay.port")"
fi

"${src_ns[@]}" timeout -s KILL 150 "$build/tools/vmm-source" --connect "$target" \
	--json "$dir/source.json" --timeout 60000 "$@"
src_rc=$?
wait "$dest_pid"
dest_rc=$?
echo "destination JSON:"
cat "$dir/dest.json" 2>/dev/null
echo "source JSON:"
cat "$dir/source.json" 2>/dev/null
[ $src_rc = 0 ] || { echo "FAIL: vmm-source exited $src_rc"; exit 1; }
[ $dest_rc = 0 ] || { echo "FAIL: vmm-dest exited $dest_rc"; exit 1; }
python3 - "$dir/dest.json" "$dir/source.json" "$restore_faults" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
def need(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
need(d["guest_ok"], "the guest's own check failed: " + d["guest_check"])
need(d["digest_match"], "memory as received differs from the source's at switch-over")
need(d["source_digest"] == s["memory_digest"], "the source digest was not carried over")
need(d["state_digest_match"] and d["state_digest"] == s["state_digest"],
     "the state as received differs from the state the source sent")
need(d["pages_demand"] + d["pages_push"] + d["pages_zero"] + d["pages_precopy"] == d["pages_total"],
     "page origins do not add up")
need(s["serve"]["pages_precopy"] >= d["pages_precopy"], "more pre-copied pages kept than sent")
if s["serve"]["pages_precopy"]:
    # Both paths of pre-copy ran: pages kept from it (the guest's code and page tables) and
    # pages dropped because the guest wrote them again (its workload).
    need(d["pages_precopy"] > 0 and d["pages_discarded"] > 0,
         "pre-copy kept %d and discarded %d pages" % (d["pages_precopy"], d["pages_discarded"]))
need(d["pages_zero"] > 0 or d["pages_precopy"] > 0, "no page travelled as a zero page")
need(s["serve"]["pages_zero"] >= d["pages_zero"], "zero pages installed that were not sent as zero")
need(s["serve"]["duplicate_requests"] == 0, "a page was requested twice")
need(len(d["blocktime_ms"]) == d["vcpus"], "per-vCPU blocktime missing")
need(d["restore_faults"] >= int(sys.argv[3]),
     "%d pages faulted inside the restore ioctls, expected at least %s" % (d["restore_faults"], sys.argv[3]))
print("PASS: %s on %d vCPUs: %d pages (%d demand, %d push, %d zero, %d pre-copy), fault p50 %.1f us "
      "p99 %.1f us, switch-over %.1f ms, restore faults %d" % (d["guest"], d["vcpus"],
      d["pages_total"], d["pages_demand"], d["pages_push"], d["pages_zero"], d["pages_precopy"],
      d["fault_latency_us"]["p50"], d["fault_latency_us"]["p99"], d["switchover_ms"],
      d["restore_faults"]))
PY
