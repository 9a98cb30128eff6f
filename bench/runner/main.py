"""scripts/bench: baselines, configurations, ratios, JSON, table and plots in one run."""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

from . import markdown, measure, plan, plots, procs, report
from .progress import Progress


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="scripts/bench",
        description="Measure the pager's fault latency and throughput against this machine's "
                    "limits (userfaultfd and TCP round trips, bulk TCP, UFFDIO_COPY), measured "
                    "in the same run. Writes bench.json, table.txt and PNG plots.")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="mode", action="store_const", const="quick",
                      help="about a minute (the default)")
    mode.add_argument("--full", dest="mode", action="store_const", const="full",
                      help="more placements, larger images, 1 GiB migrations run after run "
                           "(several minutes)")
    mode.add_argument("--smoke", dest="mode", action="store_const", const="smoke",
                      help="tiny sizes, under 30 s: checks that every key and plot is made")
    ap.add_argument("--out", default=None, help="output folder (default bench-results/MODE)")
    ap.add_argument("--build", default="build", help="meson build folder (default build)")
    ap.add_argument("--rate", default=None,
                    help="tbf rate on the veth pair for the link-delay runs, e.g. 10gbit")
    ap.add_argument("--no-setup", action="store_true",
                    help="do not run scripts/deps nor build first")
    ap.set_defaults(mode="quick")
    return ap.parse_args(argv)


def setup(args):
    if args.no_setup:
        return
    subprocess.run(["scripts/deps"], check=True)
    if not os.path.isdir(args.build):
        subprocess.run(["meson", "setup", args.build], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", args.build, "-j2"], check=True, stdout=subprocess.DEVNULL)


def weight(c):
    """The expected seconds of a step, for the progress bar."""
    if c["status"] == "not_implemented":
        return 0.01
    if c["kind"] == "migration":
        return 1.5 + 4.0 * c["size"] / plan.GiB
    if c["kind"] == "kvm":
        return 2.0
    return (c.get("repeat", 1) * (0.3 + 2 * c["size"] / plan.GiB) +
            (0.5 if c["link"] != "loopback" else 0))


def run_all(args, sizes, configs):
    steps = plan.baseline_steps(sizes)
    bar = Progress([0.6] * len(steps) + [weight(c) for c in configs])
    baselines = {}
    for key, probe, probe_args in steps:
        bar.begin("baseline " + key)
        baselines[key] = measure.run_probe(args.build, probe, probe_args)
        bar.end(0.6)
    for c in configs:
        bar.begin(c["id"])
        if c["status"] != "not_implemented":
            if args.rate and c["link"] != "loopback":
                c["rate"] = args.rate
            run = measure.run_fill if c["kind"] == "fill" else measure.run_migration
            t0 = time.monotonic()
            r = run(args.build, c)
            c["seconds"] = round(time.monotonic() - t0, 2)
            c["status"], c["reason"] = r.get("status", "ok"), r.get("reason", "")
            c["result"] = r
        bar.end(weight(c))
    bar.close()
    return baselines


def document(args, baselines, configs, lim, head, pngs, seconds):
    samples_free = []
    for c in configs:
        c = dict(c)
        if "result" in c:
            c["result"] = {k: v for k, v in c["result"].items() if k != "samples_ns"}
        samples_free.append(c)
    return {
        "schema": 1, "mode": args.mode, "seconds": round(seconds, 1),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"kernel": platform.release(), "cpus": os.cpu_count(),
                 "load_avg_1m": round(os.getloadavg()[0], 2)},
        "baselines": baselines, "limits": lim, "configurations": samples_free,
        "ratios": head,
        "ratio_p50_to_limit": head.get("ratio_p50_to_limit"),
        "ratio_p99_to_limit": head.get("ratio_p99_to_limit"),
        "push_to_bulk_throughput": head.get("push_to_bulk_throughput"),
        "all_pages_to_size_over_bulk": head.get("all_pages_to_size_over_bulk"),
        "plots": pngs,
    }


def main(argv):
    args = parse_args(argv)
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    args.out = os.path.abspath(args.out or os.path.join("bench-results", args.mode))
    args.build = os.path.abspath(args.build)
    setup(args)
    os.makedirs(args.out, exist_ok=True)
    sizes, configs = plan.build(args.mode)
    t0 = time.monotonic()
    try:
        baselines = run_all(args, sizes, configs)
    finally:
        procs.cleanup_all()
    lim = report.limits(baselines)
    report.add_config_ratios(configs, lim)
    head = report.headline(configs)
    plot_error, pngs = None, []
    try:
        pngs = plots.make_all(args.out, configs, lim)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        plot_error = str(e)
    doc = document(args, baselines, configs, lim, head, pngs, time.monotonic() - t0)
    with open(os.path.join(args.out, "bench.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(markdown.render(doc))
    with open(os.path.join(args.out, "table.txt"), "w") as f:
        for out in (f, sys.stdout):
            report.print_baselines(baselines, lim, out)
            report.print_table(configs, out)
            report.print_targets(head, out)
    print("\n%s: bench.json, table.txt, results.md, %s"
          % (args.out, ", ".join(pngs) or "no plots"))
    failed = [c["id"] for c in configs if c["status"] == "failed"]
    failed += [k for k, r in baselines.items() if r.get("status") != "ok"]
    for what in failed:
        print("failed: %s" % what, file=sys.stderr)
    if plot_error:
        print("plots: %s" % plot_error, file=sys.stderr)
    return 1 if failed or plot_error else 0
