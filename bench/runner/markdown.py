"""results.md: the run's baselines, configurations and targets as Markdown tables, for
docs/benchmarks.md."""


def _v(x, digits=1):
    if x is None:
        return "-"
    return ("%.*f" % (digits, x)) if isinstance(x, float) else str(x)


def baselines(doc):
    rows = ["| probe (cpu a, cpu b) | p50 us | p99 us | max us | GB/s |", "|---|---|---|---|---|"]
    for key, r in doc["baselines"].items():
        if r.get("status") != "ok":
            rows.append("| %s | failed | | | |" % key)
        elif "latency_us" in r:
            l = r["latency_us"]
            rows.append("| %s | %s | %s | %s | |" % (key, _v(l["p50"], 2), _v(l["p99"], 2),
                                                     _v(l["max"])))
        else:
            rows.append("| %s | | | | %s |" % (key, _v(r["gbytes_per_s"], 2)))
    rows += ["", "| placement | limit p50 us (uffd + TCP) | bulk TCP GB/s |", "|---|---|---|"]
    for p, l in doc["limits"].items():
        rows.append("| %s | %s + %s = %s | %s |" % (p, _v(l["uffd_rtt_p50_us"]),
                                                     _v(l["tcp_rtt_p50_us"]), _v(l["p50_us"]),
                                                     _v(l["bulk_gbytes_per_s"], 2)))
    return "\n".join(rows)


def configurations(doc):
    rows = ["| configuration | faults | p50 | p90 | p99 | p99.9 | max | x limit p50 | "
            "x limit p99 | GB/s | faults/s |", "|---|" + "---|" * 10]
    for c in doc["configurations"]:
        if c["status"] != "ok":
            rows.append("| %s | %s: %s |" % (c["id"], c["status"].replace("_", " "), c["reason"]))
            continue
        r = c["result"]
        lat = r.get("latency_us") or r["pager_latency_us"]
        gbs = r.get("push_payload_gbytes_per_s") if c["threads"] == 0 else r["fill_gbytes_per_s"]
        rows.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            c["id"], r["faults"], _v(lat["p50"]), _v(lat["p90"]), _v(lat["p99"]),
            _v(lat["p99_9"]), _v(lat["max"]), _v(r.get("ratio_p50_to_limit"), 2),
            _v(r.get("ratio_p99_to_limit"), 2), _v(gbs, 2), _v(r.get("faults_per_s"))))
    return "\n".join(rows)


def migrations(doc):
    rows = ["| migration | every page ms | x size/bulk | vCPU blocktime ms | demand pages | "
            "push pages | fault p50 us | p99 us |", "|---|---|---|---|---|---|---|---|"]
    for c in doc["configurations"]:
        if c["kind"] != "migration" or c["status"] != "ok":
            continue
        r = c["result"]
        rows.append("| %s | %.0f | %s | %s | %d | %d | %s | %s |" % (
            c["id"], r["all_pages_ms"], _v(r.get("all_pages_to_size_over_bulk"), 2),
            ", ".join("%.0f" % b for b in r["blocktime_ms"]), r["pages_demand"],
            r["pages_push"], _v(r["pager_latency_us"]["p50"]), _v(r["pager_latency_us"]["p99"])))
    return "\n".join(rows)


def targets(doc):
    rows = ["| ratio | unpinned | same CPU | split | target | met (unpinned) |",
            "|---|---|---|---|---|---|"]
    by = doc["ratios"]["by_placement"]
    for name, t in doc["ratios"]["targets"].items():
        per = [_v(by.get(p, {}).get(name), 3) for p in ("unpinned", "same", "split")]
        if name == "all_pages_to_size_over_bulk":
            per = [_v(t["value"], 3), "-", "-"]
        verdict = {True: "yes", False: "**no**", None: "not measured"}[t["met"]]
        rows.append("| %s | %s | %s | %s | %s | %s |" % (name, per[0], per[1], per[2],
                                                         t["target"], verdict))
    return "\n".join(rows)


def render(doc):
    return "\n\n".join([
        "Run: `scripts/bench --%s`, %s, %s s, kernel %s, %d CPUs, load average %.2f at the end."
        % (doc["mode"], doc["date"], doc["seconds"], doc["host"]["kernel"], doc["host"]["cpus"],
           doc["host"]["load_avg_1m"]),
        "### Baselines\n\n" + baselines(doc),
        "### Configurations\n\n" + configurations(doc),
        "### Whole migrations\n\n" + migrations(doc),
        "### Targets\n\n" + targets(doc), ""])
