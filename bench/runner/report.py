"""The run's results as ratios to the limits measured in the same run, the JSON document, and
the table on the terminal."""
import statistics

from .plan import BASELINE_CPUS, PLACEMENTS

# The targets: (ratio, comparison, bound).
TARGETS = {
    "ratio_p50_to_limit": ("<=", 1.5),
    "ratio_p99_to_limit": ("<=", 3.0),
    "max_us_with_push": ("<", 1000.0),
    "push_to_bulk_throughput": (">=", 0.7),
    "all_pages_to_size_over_bulk": ("<=", 1.5),
    "fault_throughput_2_over_1_threads": (">", 1.0),
}


def _probe(baselines, probe, placement):
    a, b = BASELINE_CPUS[placement][probe]
    key = "%s/1/%d,%d" % (probe, a, b) if probe == "tcp_bulk" else "%s/%d,%d" % (probe, a, b)
    r = baselines.get(key)
    return r if r and r.get("status") == "ok" else None


def limits(baselines):
    """Per placement: the fault limit (uffd round trip + TCP page round trip) and bulk TCP."""
    out = {}
    image = baselines.get("tcp_bulk_image/1/-1,-1") or {}
    for placement in PLACEMENTS:
        u, t = _probe(baselines, "uffd_rtt", placement), _probe(baselines, "tcp_rtt", placement)
        bulk = _probe(baselines, "tcp_bulk", placement)
        if not (u and t and bulk):
            continue
        out[placement] = {
            "uffd_rtt_p50_us": u["latency_us"]["p50"], "tcp_rtt_p50_us": t["latency_us"]["p50"],
            "p50_us": round(u["latency_us"]["p50"] + t["latency_us"]["p50"], 2),
            "p99_us": round(u["latency_us"]["p99"] + t["latency_us"]["p99"], 2),
            "bulk_gbytes_per_s": bulk["gbytes_per_s"],
            # Streaming an image of the push's size from memory (not a cached buffer).
            "image_bulk_gbytes_per_s": image.get("gbytes_per_s")
            if image.get("status") == "ok" else None,
        }
    return out


def _ratio(x, y):
    return round(x / y, 3) if x is not None and y else None


def add_config_ratios(configs, lim):
    """Each measured loopback configuration against the limit of its own placement."""
    for c in configs:
        r, l = c.get("result"), lim.get(c["placement"])
        if c["status"] != "ok" or not l or c["link"] != "loopback":
            continue
        lat = r.get("latency_us") or r["pager_latency_us"]
        if lat.get("count"):
            r["ratio_p50_to_limit"] = _ratio(lat["p50"], l["p50_us"])
            r["ratio_p99_to_limit"] = _ratio(lat["p99"], l["p50_us"])
        if c["kind"] == "fill" and c["push"] and c["threads"] == 0:
            r["push_to_bulk_throughput"] = _ratio(r["push_payload_gbytes_per_s"],
                                                  l["bulk_gbytes_per_s"])
            r["push_to_image_stream_throughput"] = _ratio(r["push_payload_gbytes_per_s"],
                                                          l["image_bulk_gbytes_per_s"])
        if c["kind"] == "migration":
            size_over_bulk = r["pages_total"] * 4096 / (l["bulk_gbytes_per_s"] * 1e9)
            r["all_pages_to_size_over_bulk"] = _ratio(r["all_pages_ms"] / 1e3, size_over_bulk)


def _find(configs, **kw):
    for c in configs:
        if c["status"] == "ok" and all(c.get(k) == v for k, v in kw.items()):
            return c["result"]
    return None


def _placement_ratios(configs, placement):
    base = dict(kind="fill", link="loopback", backing="anon", install="copy", connections=2,
                placement=placement)
    out = {}
    push1 = _find(configs, push=True, threads=1, **base)
    if push1 and "ratio_p50_to_limit" in push1:
        out["ratio_p50_to_limit"] = push1["ratio_p50_to_limit"]
        out["ratio_p99_to_limit"] = push1["ratio_p99_to_limit"]
        out["max_us_with_push"] = push1["latency_us"]["max"]
    push0 = _find(configs, push=True, threads=0, **base)
    if push0:
        out["push_to_bulk_throughput"] = push0.get("push_to_bulk_throughput")
        out["push_to_image_stream_throughput"] = push0.get("push_to_image_stream_throughput")
    d1 = _find(configs, push=False, threads=1, **base)
    d2 = _find(configs, push=False, threads=2, **base)
    if d1 and d2:
        out["fault_throughput_2_over_1_threads"] = _ratio(d2["faults_per_s"], d1["faults_per_s"])
    return out


def headline(configs):
    """The named ratios: the default placement (unpinned) for the headline, every placement
    in by_placement, the whole migrations of the largest size run after run."""
    by = {p: _placement_ratios(configs, p) for p in PLACEMENTS}
    out = dict(by.get("unpinned", {}))
    migrations = [c for c in configs if c["kind"] == "migration" and c["status"] == "ok"]
    if migrations:
        size = max(c["size"] for c in migrations)
        runs = [c["result"].get("all_pages_to_size_over_bulk") for c in migrations
                if c["size"] == size]
        runs = [r for r in runs if r is not None]
        if runs:
            # "Run after run": the worst run is the one the target is judged by.
            out["all_pages_to_size_over_bulk"] = max(runs)
            out["all_pages_to_size_over_bulk_runs"] = runs
            out["all_pages_to_size_over_bulk_median"] = statistics.median(runs)
            out["all_pages_size_bytes"] = size
    targets = {}
    for name, (op, bound) in TARGETS.items():
        v = out.get(name)
        met = None if v is None else {"<=": v <= bound, "<": v < bound,
                                      ">=": v >= bound, ">": v > bound}[op]
        targets[name] = {"value": v, "target": "%s %s" % (op, bound), "met": met}
    out["targets"] = targets
    out["by_placement"] = by
    return out


def _fmt(v, width=8, digits=1):
    if v is None or v == "":
        return "-".rjust(width)
    if isinstance(v, float):
        return ("%.*f" % (digits, v)).rjust(width)
    return str(v).rjust(width)


def print_baselines(baselines, lim, out):
    out.write("\nBaselines (this machine, this run)\n")
    for key, r in baselines.items():
        if r.get("status") != "ok":
            out.write("  %-22s FAILED: %s\n" % (key, r.get("reason")))
        elif "latency_us" in r:
            l = r["latency_us"]
            out.write("  %-22s p50 %7.2f us  p99 %7.2f us  max %8.1f us\n"
                      % (key, l["p50"], l["p99"], l["max"]))
        else:
            out.write("  %-22s %6.3f GB/s\n" % (key, r["gbytes_per_s"]))
    for p, l in lim.items():
        out.write("  limit (%-8s) uffd %.1f + tcp %.1f = %.1f us p50; bulk %.2f GB/s\n"
                  % (p, l["uffd_rtt_p50_us"], l["tcp_rtt_p50_us"], l["p50_us"],
                     l["bulk_gbytes_per_s"]))


def print_table(configs, out):
    cols = ("configuration", "faults", "p50", "p90", "p99", "p99.9", "max", "xlim50",
            "xlim99", "GB/s", "faults/s", "secs")
    out.write("\nFault service latency as the faulting thread sees it, us (KVM: the pager's "
              "own histogram)\n")
    out.write("%-44s" % cols[0] + "".join(_fmt(c) for c in cols[1:-2]) + _fmt(cols[-2], 9) +
              _fmt(cols[-1], 6) + "\n")
    for c in configs:
        if c["status"] != "ok":
            out.write("%-44s  %s: %s\n" % (c["id"], c["status"].replace("_", " "),
                                           c["reason"][:70]))
            continue
        r = c["result"]
        lat = r.get("latency_us") or r["pager_latency_us"]
        gbs = r.get("push_payload_gbytes_per_s") if c["threads"] == 0 else r["fill_gbytes_per_s"]
        out.write("%-44s" % c["id"] + _fmt(r["faults"]) +
                  "".join(_fmt(lat[k]) for k in ("p50", "p90", "p99", "p99_9", "max")) +
                  _fmt(r.get("ratio_p50_to_limit"), digits=2) +
                  _fmt(r.get("ratio_p99_to_limit"), digits=2) + _fmt(gbs, digits=2) +
                  _fmt(r.get("faults_per_s"), 9) + _fmt(c.get("seconds"), 6) + "\n")
        if c["kind"] == "migration":
            out.write("%-44s all pages %.0f ms (x%.2f of size/bulk), blocktime ms %s, "
                      "%d demand / %d push\n" % ("", r["all_pages_ms"],
                                                 r.get("all_pages_to_size_over_bulk") or 0,
                                                 r["blocktime_ms"], r["pages_demand"],
                                                 r["pages_push"]))


def print_targets(head, out):
    out.write("\nTargets (issue 9), headline placement: unpinned\n")
    for name, t in head["targets"].items():
        verdict = {True: "met", False: "MISSED", None: "not measured"}[t["met"]]
        out.write("  %-36s %10s   target %-8s %s\n" % (name, _fmt(t["value"], 10, 3),
                                                       t["target"], verdict))
