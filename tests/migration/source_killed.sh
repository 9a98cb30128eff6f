#!/bin/bash
# The source dies after the switch-over, with pages still missing (no push), and never comes
# back: vmm-dest waits --reconnect-timeout for it, then says so and exits 2 within a bound,
# its vCPUs never given wrong or zero data, never hanging.
#
# usage: source_killed.sh BUILD_DIR
set -uo pipefail
build=$(realpath "$1")
[ -e /dev/kvm ] || { echo "SKIP: no /dev/kvm"; exit 77; }
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT

timeout -s KILL 60 "$build/tools/vmm-dest" --listen 127.0.0.1:0 --port-file "$dir/port" \
	--timeout 30000 --reconnect-timeout 1000 --json "$dir/dest.json" 2>"$dir/dest.log" &
dest=$!
pids+=($dest)
for _ in $(seq 200); do [ -s "$dir/port" ] && break; sleep 0.05; done
[ -s "$dir/port" ] || { echo "FAIL: vmm-dest did not start"; exit 1; }
"$build/tools/vmm-source" --connect "127.0.0.1:$(cat "$dir/port")" \
	--guest incrementer --mem 16M --vcpus 2 --switch-at 2 --no-push 2>"$dir/source.log" &
source=$!
pids+=($source)
for _ in $(seq 400); do grep -q "guest running" "$dir/dest.log" && break; sleep 0.05; done
grep -q "guest running" "$dir/dest.log" || { cat "$dir"/*.log; echo "FAIL: the guest never ran"; exit 1; }
kill -9 "$source"
start=$(date +%s%N)
wait "$dest"
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
cat "$dir/dest.log"
echo "vmm-dest exited $rc ${elapsed_ms} ms after the source was killed"
[ $rc = 2 ] || { echo "FAIL: expected exit 2"; exit 1; }
[ $elapsed_ms -lt 10000 ] || { echo "FAIL: took ${elapsed_ms} ms"; exit 1; }
python3 - "$dir/dest.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(json.dumps(d)[:600])
if d["status"] != 2 or "source" not in d["failure"] or "missing" not in d["failure"] \
        or "did not come back within 1000 ms" not in d["failure"]:
    print("FAIL: the JSON does not say the source went away with pages missing:", d["failure"])
    sys.exit(1)
if d["pages_total"] == d["pages_demand"] + d["pages_push"] + d["pages_zero"]:
    print("FAIL: every page arrived: the source died too late to test anything")
    sys.exit(1)
print("PASS: %s" % d["failure"])
PY
