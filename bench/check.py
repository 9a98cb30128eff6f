#!/usr/bin/env python3
"""Checks a bench.json (the smoke test's verdict): every baseline, every named ratio, every
configuration measured or marked not implemented with a reason, and every plot on disk.
usage: bench/check.py OUT_DIR"""
import json
import os
import sys

RATIOS = ("ratio_p50_to_limit", "ratio_p99_to_limit", "push_to_bulk_throughput",
          "all_pages_to_size_over_bulk")
BASELINES = ("uffd_rtt", "tcp_rtt", "tcp_bulk/1", "tcp_bulk/2", "uffd_copy/1", "uffd_copy/2",
             "uffd_stage/copy", "uffd_stage/move")
PLOTS = ("latency_cdf_demand.png", "latency_cdf_push.png", "throughput_threads.png",
         "latency_delay.png")


def problems(out):
    doc = json.load(open(os.path.join(out, "bench.json")))
    found = []
    # Only a machine without /dev/kvm may leave the KVM rows (and the whole-migration ratio)
    # unmeasured; there they are marked skipped with the reason.
    kvm = os.path.exists("/dev/kvm")
    for key in BASELINES:
        runs = [r for k, r in doc["baselines"].items() if k.startswith(key)]
        if not runs or any(r.get("status") != "ok" for r in runs):
            found.append("baseline %s missing or failed" % key)
    for key in RATIOS:
        if not isinstance(doc.get(key), (int, float)) and (
                kvm or key != "all_pages_to_size_over_bulk"):
            found.append("ratio %s missing" % key)
        if key not in doc["ratios"]["targets"]:
            found.append("target %s missing" % key)
    for c in doc["configurations"]:
        if c["status"] == "not_implemented" and not c["reason"]:
            found.append("%s: not implemented without a reason" % c["id"])
        elif c["status"] == "skipped" and not kvm and c["kind"] in ("kvm", "migration"):
            pass
        elif c["status"] not in ("ok", "not_implemented"):
            found.append("%s: %s %s" % (c["id"], c["status"], c["reason"]))
    for axis in ("backing", "install", "connections"):
        if not any(c[axis] not in ("anon", "copy", 2) for c in doc["configurations"]):
            found.append("no row for the %s axis" % axis)
    for png in PLOTS:
        path = os.path.join(out, png)
        if png not in doc["plots"] or not os.path.exists(path) or os.path.getsize(path) < 1000:
            found.append("plot %s missing" % png)
    return found


if __name__ == "__main__":
    found = problems(sys.argv[1])
    for p in found:
        print("FAIL:", p)
    print("PASS: bench.json has every baseline, ratio and configuration; every plot exists"
          if not found else "FAIL: %d problems" % len(found))
    sys.exit(1 if found else 0)
