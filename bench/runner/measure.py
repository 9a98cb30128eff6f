"""One measurement each: a baseline probe, a pager-fill against pager-source (on loopback, or
between two network namespaces, through pager-relay for a link delay), and a KVM migration
between vmm-source and vmm-dest. Each returns a dict of results; a failure is a dict with
status "failed" and the reason, never an exception that ends the run."""
import json
import os
import tempfile

from . import procs
from .plan import PLACEMENTS

STEP_TIMEOUT = 120  # seconds: no single measurement may take longer


def percentiles(values):
    """Nearest-rank percentiles in us of latencies in ns (as the probes compute them)."""
    v = sorted(values)
    n = len(v)

    def rank(q):
        return v[min(n, max(1, int(q * n + 0.999999))) - 1] / 1e3 if n else 0.0
    return {"count": n, "mean": round(sum(v) / n / 1e3, 2) if n else 0.0,
            "p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99), "p99_9": rank(0.999),
            "max": rank(1.0)}


def run_probe(build, probe, args):
    exe = os.path.join(build, "bench", "bench-" + probe.replace("_", "-"))
    rc, out, err = procs.run([exe] + args, STEP_TIMEOUT)
    if rc != 0:
        return {"status": "failed", "reason": "%s exited %s: %s" % (probe, rc, err.strip()[-300:])}
    r = json.loads(out)
    r["status"] = "ok"
    return r


def read_dump(path):
    """(header dict, latencies in ns) of a pager-fill --latency-dump file."""
    header, values = {}, []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                parts = line[1:].split()
                if len(parts) == 2 and parts[1].isdigit():
                    header[parts[0]] = int(parts[1])
            elif line.strip():
                values.append(int(line))
    return header, values


def _fill_commands(build, c, work, target):
    """The source's and the destination's command lines for configuration c."""
    where = PLACEMENTS[c["placement"]]
    src = [os.path.join(build, "tools", "pager-source"), "--size", str(c["size"]),
           "--stats-json", os.path.join(work, "source.json"), "--timeout", "30000"]
    if not c["push"]:
        src.append("--no-push")
    if c["backing"] == "hugetlb":
        src.append("--hugetlb")  # pager-fill follows the layout: private 2 MiB hugetlb pages
    if where["source"] is not None:
        src += ["--demand-cpu", str(where["source"]), "--push-cpu", str(where["source"])]
    dst = [os.path.join(build, "tools", "pager-fill"), "-q", "--threads", str(c["threads"]),
           "--json", os.path.join(work, "dest.json"), "--timeout", "90000",
           "--latency-dump", os.path.join(work, "latency")]
    if c["cover"]:
        dst.append("--cover")
    if c["backing"] == "shmem":
        dst += ["--backing", c["backing"]]
    if c["install"] == "move":
        dst += ["--install", "move"]
    if c["connections"] == 1:
        # The side that dials decides: pager-fill on loopback, pager-source through netns.
        dst += ["--connections", "1"]
        src += ["--connections", "1"]
    if where["listener"] is not None:
        dst += ["--listener-cpu", str(where["listener"])]
    return procs.pinned(src, where["source"]), procs.pinned(dst, where["dest"])


def _fill_loopback(build, c, work):
    src_cmd, dst_cmd = _fill_commands(build, c, work, None)
    port_file = os.path.join(work, "port")
    log = open(os.path.join(work, "source.log"), "w")
    src = procs.start(src_cmd + ["--listen", "127.0.0.1:0", "--port-file", port_file],
                      stderr=log)
    if not procs.wait_file(port_file, 10, [src]):
        procs.kill(src)
        return "pager-source did not start listening"
    with open(port_file) as f:
        port = f.read().strip()
    dst = procs.start(dst_cmd + ["--connect", "127.0.0.1:" + port])
    return _fill_wait(src, dst, [])


def _fill_netns(build, c, work):
    """pager-fill listens in the destination namespace; pager-source connects from the source
    namespace, directly over the veth pair or through pager-relay (in the source namespace)."""
    src_cmd, dst_cmd = _fill_commands(build, c, work, None)
    port = 4500
    with procs.Link(rate=c.get("rate")) as link:
        dest_addr = "%s:%d" % (link.dst_addr, port)
        dst = procs.start(procs.in_netns(dst_cmd + ["--listen", dest_addr], link.dst))
        if not procs.wait_listening(link.dst, port, 10, [dst]):
            procs.kill(dst)
            return "pager-fill did not start listening"
        others, target = [], dest_addr
        if c["link"] == "relay":
            relay_port = os.path.join(work, "relay.port")
            relay = procs.start(procs.in_netns(
                [os.path.join(build, "tools", "pager-relay"), "-q", "--listen", "127.0.0.1:0",
                 "--to", dest_addr, "--delay-us", str(c["delay_us"]),
                 "--connections", str(c["connections"]),
                 "--port-file", relay_port], link.src))
            others.append(relay)
            if not procs.wait_file(relay_port, 10, [relay]):
                procs.kill(relay)
                procs.kill(dst)
                return "pager-relay did not start"
            with open(relay_port) as f:
                target = "127.0.0.1:" + f.read().strip()
        log = open(os.path.join(work, "source.log"), "w")
        src = procs.start(procs.in_netns(src_cmd + ["--connect", target], link.src),
                          stderr=log)
        return _fill_wait(src, dst, others)


def _fill_wait(src, dst, others):
    """None when both ends exited 0, else the reason; the others are waited for or killed."""
    dst_rc = procs.wait(dst, STEP_TIMEOUT)
    src_rc = procs.wait(src, 15)
    for p in others:
        procs.wait(p, 5)
    if dst_rc != 0 or src_rc != 0:
        return "pager-fill exited %s, pager-source exited %s" % (dst_rc, src_rc)
    return None


def run_fill(build, c):
    """c["repeat"] runs of one fill, merged: with the push on, the faults happen only while it
    runs, so one run gives a few hundred; the repeats pool their samples."""
    runs = []
    # The image's 2 MiB pages, and one spare.
    with procs.HugePages(c["size"] // (2 << 20) + 1 if c["backing"] == "hugetlb" else 0) as huge:
        if huge.reason:
            return {"status": "failed", "reason": huge.reason}
        for _ in range(c.get("repeat", 1)):
            r = _run_fill_once(build, c)
            if r["status"] != "ok":
                return r
            runs.append(r)
    return merge_runs(runs) if len(runs) > 1 else runs[0]


def merge_runs(runs):
    """Pooled latency samples; the median run's value of every other figure; each run's own."""
    import statistics
    out = dict(runs[0])
    out["samples_ns"] = [x for r in runs for x in r["samples_ns"]]
    out["latency_us"] = percentiles(out["samples_ns"])
    for key, v in runs[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            m = statistics.median(r[key] for r in runs)
            out[key] = round(m) if isinstance(v, int) else m
    out["pager_latency_us"] = {k: statistics.median(r["pager_latency_us"][k] for r in runs)
                               for k in runs[0]["pager_latency_us"]}
    out["faults"] = sum(r["faults"] for r in runs)
    out["runs"] = [{"p50": r["latency_us"]["p50"], "p99": r["latency_us"]["p99"],
                    "max": r["latency_us"]["max"], "faults": r["faults"],
                    "fill_seconds": r["fill_seconds"]} for r in runs]
    return out


def _run_fill_once(build, c):
    with tempfile.TemporaryDirectory(prefix="bench-fill-") as work:
        if c["link"] == "loopback":
            failure = _fill_loopback(build, c, work)
        else:
            try:
                failure = _fill_netns(build, c, work)
            except RuntimeError as e:
                failure = "network namespaces: %s" % e
        if failure:
            return {"status": "failed", "reason": failure}
        with open(os.path.join(work, "dest.json")) as f:
            dest = json.load(f)
        with open(os.path.join(work, "source.json")) as f:
            source = json.load(f)
        header, lat = read_dump(os.path.join(work, "latency"))
    return fill_result(c, dest, source, header, lat)


def fill_result(c, dest, source, header, lat):
    secs = dest["duration_ms"] / 1e3
    touch_s = header.get("touch_phase_ns", 0) / 1e9
    return {
        "status": "ok",
        "latency_us": percentiles(lat),
        "pager_latency_us": dest["fault_latency_us"],
        "faults": dest["faults"], "pages_total": dest["pages_total"],
        "pages_demand": dest["pages_demand"], "pages_push": dest["pages_push"],
        "pages_zero": dest["pages_zero"], "pages_duplicate": dest["pages_duplicate"],
        "fill_seconds": round(secs, 4),
        "fill_gbytes_per_s": round(dest["pages_total"] * 4096 / secs / 1e9, 3) if secs else 0,
        "push_payload_gbytes_per_s": round(dest["bytes_received"] / secs / 1e9, 3) if secs else 0,
        # Faults served per second while the threads touched (demand-only: every page once).
        "faults_per_s": round(len(lat) / touch_s) if touch_s else 0,
        "source": source,
        "samples_ns": lat,
    }




def _migration_commands(build, c, work):
    where = PLACEMENTS[c["placement"]]
    dst = [os.path.join(build, "tools", "vmm-dest"), "-q", "--listen", "127.0.0.1:0",
           "--port-file", os.path.join(work, "port"), "--timeout", str(_dest_timeout_ms(c)),
           "--json", os.path.join(work, "dest.json")]
    if where["listener"] is not None:
        dst += ["--listener-cpu", str(where["listener"])]
    # The demo's guest: 2 passes of the incrementer over every page, kvmclock and irqchip on.
    src = [os.path.join(build, "tools", "vmm-source"), "-q", "--guest", "incrementer",
           "--mem", str(c["size"]), "--vcpus", str(c["threads"]), "--switch-at", "2",
           "--kvmclock", "--irqchip", "--timeout", "60000",
           "--json", os.path.join(work, "source.json")]
    if not c["push"]:
        src.append("--no-push")
    return procs.pinned(src, where["source"]), procs.pinned(dst, where["dest"])


def _dest_timeout_ms(c):
    """Demand only, the guest never touches every page (its code, stack and tables are not
    in the work memory it walks), so post-copy never completes: vmm-dest gives up after a
    bound that leaves the vCPUs time to fault every work page (~100 us each) and reports."""
    if c["push"]:
        return 90000
    return 1500 + c["size"] // 4096 // 10


def _demand_only_end(c, d):
    """A demand-only run ends in vmm-dest's "did not complete in time": expected here."""
    return (not c["push"] and "did not complete in time" in d.get("failure", "") and
            d["pages_demand"] > 0)


def run_migration(build, c):
    """A live migration of a KVM guest: its faults come from vCPUs (and KVM itself)."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        # Said, not hidden: the row reads "skipped: no /dev/kvm" and check.py allows it only
        # on a machine without the device.
        return {"status": "skipped", "reason": "no /dev/kvm on this machine"}
    with tempfile.TemporaryDirectory(prefix="bench-kvm-") as work:
        src_cmd, dst_cmd = _migration_commands(build, c, work)
        dst = procs.start(dst_cmd)
        if not procs.wait_file(os.path.join(work, "port"), 10, [dst]):
            procs.kill(dst)
            return {"status": "failed", "reason": "vmm-dest did not start listening"}
        with open(os.path.join(work, "port")) as f:
            target = "127.0.0.1:" + f.read().strip()
        src = procs.start(src_cmd + ["--connect", target])
        src_rc = procs.wait(src, STEP_TIMEOUT)
        dst_rc = procs.wait(dst, 30)
        d = None
        if os.path.exists(os.path.join(work, "dest.json")):
            with open(os.path.join(work, "dest.json")) as f:
                d = json.load(f)
        if (src_rc != 0 or dst_rc != 0) and not (d and _demand_only_end(c, d)):
            return {"status": "failed",
                    "reason": "vmm-source exited %s, vmm-dest exited %s: %s"
                              % (src_rc, dst_rc, d["failure"] if d else "no report")}
    return migration_result(c, d)


def migration_result(c, d):
    ok = _demand_only_end(c, d) or (d["guest_ok"] and d["digest_match"])
    secs = d["duration_ms"] / 1e3
    # Demand only, every fault comes from a vCPU walking its pages: the faults over the
    # longest vCPU wait is the rate a vCPU is served at (post-copy itself never completes).
    busy = max(d["blocktime_ms"]) / 1e3 if d["blocktime_ms"] else 0
    return {
        "status": "ok" if ok else "failed",
        "reason": "" if ok else "guest check or digest failed",
        "pager_latency_us": d["fault_latency_us"],
        "faults": d["faults"], "pages_total": d["pages_total"],
        "pages_demand": d["pages_demand"], "pages_push": d["pages_push"],
        "pages_zero": d["pages_zero"], "pages_duplicate": d["pages_duplicate"],
        "all_pages_ms": d["duration_ms"],
        "blocktime_ms": d["blocktime_ms"],
        "switchover_ms": d["switchover_ms"],
        "restore_faults": d["restore_faults"],
        "fill_gbytes_per_s": round(d["pages_total"] * 4096 / secs / 1e9, 3)
        if secs and c["push"] else 0,
        "faults_per_s": round(d["pages_demand"] / busy) if busy and not c["push"] else 0,
    }
