#!/bin/bash
# Lost connections during post-copy, cut by the kernel (ss -K destroys the source's sockets,
# and the destination's end is reset): vmm-source redials, both ends resume the session, and
# the migration completes with the guest's check and equal digests; each end counts the
# reconnects, and the source exits 0 only once the destination confirmed the digest.
#
# usage: reconnect.sh BUILD_DIR CUTS [VMM-SOURCE ARGS...]
set -uo pipefail
build=$(realpath "$1")
cuts=$2
shift 2
[ -e /dev/kvm ] || { echo "SKIP: no /dev/kvm"; exit 77; }
command -v ss >/dev/null || { echo "FAIL: ss (iproute2) is missing"; exit 1; }
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT

# Both ends prove a session token, on the first connections and on every resumed pair.
(umask 077; head -c 24 /dev/urandom | base64 >"$dir/token")
timeout -s KILL 90 "$build/tools/vmm-dest" --listen 127.0.0.1:0 --port-file "$dir/port" \
	--timeout 60000 --reconnect-timeout 20000 --token-file "$dir/token" \
	--json "$dir/dest.json" 2>"$dir/dest.log" &
dest=$!
pids+=($dest)
for _ in $(seq 200); do [ -s "$dir/port" ] && break; sleep 0.05; done
[ -s "$dir/port" ] || { echo "FAIL: vmm-dest did not start"; exit 1; }
port=$(cat "$dir/port")
timeout -s KILL 90 "$build/tools/vmm-source" --connect "127.0.0.1:$port" --json "$dir/source.json" \
	--token-file "$dir/token" "$@" 2>"$dir/source.log" &
source=$!
pids+=($source)
for _ in $(seq 400); do grep -q "guest running" "$dir/dest.log" && break; sleep 0.05; done
grep -q "guest running" "$dir/dest.log" || { cat "$dir"/*.log; echo "FAIL: the guest never ran"; exit 1; }

made=0
for i in $(seq "$cuts"); do
	# Both of the source's connections to the destination, while they exist.
	n=$(ss -K -t state established dst "127.0.0.1:$port" 2>/dev/null | grep -c "127.0.0.1:$port")
	if [ "$n" -gt 0 ]; then
		made=$((made + 1))
		echo "cut $made: $n connections destroyed"
	fi
	# The next cut only once the session is back (its new connections are up).
	for _ in $(seq 100); do
		[ "$(grep -c "resumed session" "$dir/source.log")" -ge "$made" ] && break
		sleep 0.05
	done
	sleep 0.1
done
wait "$source"; src_rc=$?
wait "$dest"; dest_rc=$?
cat "$dir/dest.log" "$dir/source.log" | grep -iE "lost|resum|reconnect|confirmed|error" | head -40
echo "vmm-source exited $src_rc, vmm-dest $dest_rc, $made cuts"
[ "$made" -ge 1 ] || { echo "FAIL: the migration ended before any cut"; exit 1; }
[ $dest_rc = 0 ] && [ $src_rc = 0 ] || { echo "FAIL: expected both to exit 0"; exit 1; }
python3 - "$dir/dest.json" "$dir/source.json" "$made" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
cuts = int(sys.argv[3])
p = d["pager"]
print("dest: reconnects %d, %.1f ms disconnected, %d re-requested; source: reconnects %d, %d resent"
      % (p["reconnects"], p["disconnected_ms"], p["pages_rerequested"],
         s["serve"]["reconnects"], s["serve"]["pages_resent"]))
fail = []
if d["status"] != 0 or not d["guest_ok"] or not d["digest_match"]:
    fail.append("destination: status %s guest_ok %s digest_match %s (%s)"
                % (d["status"], d["guest_ok"], d["digest_match"], d["failure"]))
if not s["ok"]:
    fail.append("source not ok")
if p["reconnects"] != cuts or s["serve"]["reconnects"] != cuts:
    fail.append("reconnects %d/%d, cuts %d" % (p["reconnects"], s["serve"]["reconnects"], cuts))
if fail:
    print("FAIL: " + "; ".join(fail))
    sys.exit(1)
print("PASS: %d cuts resumed, guest ok, digests equal and confirmed" % cuts)
PY
