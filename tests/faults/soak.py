#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Soak: many seeded fault schedules, each drawn from its seed, outcomes counted per class.

    soak.py BUILD_DIR N [--first-seed S] [--vmm] [--lenient] [--jobs J]

Run `seed` uses seed S+i both to draw its spec (a fault class, then that class's parameters)
and as the relay's --seed, so one seed names one run completely: the line it prints is the
spec and the seed to replay it with. Each run ends as one of
  completed    both ends exit 0 (the destination checked the digest, the source its
               confirmation)
  clear error  the migration ended, with an error on an end, where ending is right: the loss
               came before the switch-over (the guest still runs on the source)
  wrong        anything else: a hang, a crash, the relay lingering or failing, a wrong digest,
               a fault recovery should have survived
--lenient also accepts any ending fault's clear error (recovery off). Exit 0 when no run was
wrong.
"""
import argparse
import concurrent.futures
import os
import random
import sys

# faultlib sits beside this file; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402

SIZE = "32M"
FILL_PAGES = 32 * 256
# Classes a migration survives today, and classes that may end it.
SHAPING = ["delay", "throttle", "stall", "reorder", "dup", "blackhole-brief"]
ENDING = ["drop", "corrupt", "cut", "blackhole"]
CLASSES = SHAPING + ENDING + ["mixed"]
FILL_PHASES = ["handshake", "first-fault", "mid-push", "completion"]
VMM_PHASES = FILL_PHASES + ["config", "state", "restore"]


def draw_shaping(rng, cls, phases):
    if cls == "delay":
        lo = rng.randrange(0, 500)
        scope = rng.choice(["", ":demand", ":push", ":to-dest"])
        return "delay=%dus..%dus%s" % (lo, lo + rng.randrange(0, 3000), scope)
    if cls == "throttle":
        return "throttle=%dMB/s%s" % (rng.choice([40, 100, 400, 1000]),
                                      rng.choice(["", ":push", ":to-dest"]))
    if cls == "stall":
        if rng.random() < 0.5:
            return "stall:page=0:0x%x@ms=%d" % (rng.randrange(FILL_PAGES) * 4096,
                                               rng.randrange(20, 800))
        return "stall@phase=%s,ms=%d" % (rng.choice(phases), rng.randrange(20, 800))
    if cls == "reorder":
        return "reorder%s@window=%d" % (rng.choice(["", ":push", ":demand"]),
                                        rng.randrange(2, 17))
    if cls == "dup":
        return "dup%s@p=%.3f" % (rng.choice(["", ":push", ":demand"]), rng.uniform(0.01, 0.3))
    return "blackhole@phase=%s,ms=%d" % (rng.choice(phases), rng.randrange(20, 800))


def draw_ending(rng, cls, phases):
    if cls == "drop":
        if rng.random() < 0.5:
            return "drop@p=%.2f" % rng.uniform(0.05, 0.6)
        return "drop@frames=%d" % rng.randrange(0, 40)
    if cls == "corrupt":
        return "corrupt%s@p=%.3f,bits=%d" % (rng.choice(["", ":push", ":demand"]),
                                             rng.uniform(0.002, 0.05), rng.randrange(1, 9))
    if cls == "cut":
        scope = rng.choice(["", ":demand", ":push"])
        if rng.random() < 0.5:
            return "cut%s@phase=%s" % (scope, rng.choice(phases))
        return "cut%s@frames=%d" % (scope, rng.randrange(0, 400))
    return "blackhole%s@phase=%s" % (rng.choice(["", ":demand", ":push"]), rng.choice(phases))


def draw(seed, vmm):
    """(class, spec) of the run with this seed."""
    rng = random.Random(seed)
    cls = rng.choice(CLASSES)
    phases = VMM_PHASES if vmm else FILL_PHASES
    if cls == "mixed":
        rules = [draw_shaping(rng, c, phases) for c in rng.sample(SHAPING, rng.randrange(1, 4))]
        if rng.random() < 0.5:
            rules.append(draw_ending(rng, rng.choice(ENDING), phases))
        return cls, ";".join(rules)
    if cls in SHAPING:
        return cls, draw_shaping(rng, cls, phases)
    return cls, draw_ending(rng, cls, phases)


def fired_kinds(o):
    """The kinds of fault that fired; a blackhole with an end is a delay, named so."""
    return {"blackhole-brief" if r["fault"] == "blackhole" and "for=" in r["schedule"]
            else r["fault"] for r in o.relay.get("rules", []) if r["fired"]}


def ending_is_right(o, vmm):
    """A migration may end, clearly, only where recovery has nothing to recover."""
    # Before the switch-over the guest still runs on the source: failing is safe.
    if vmm:
        return o.dest.get("failed_in") in ("accept", "handshake", "config", "precopy", "state")
    return (o.dest_rc == 2 and "handshake" in o.dest_err) or never_admitted(o)


def never_admitted(o):
    """Connections a fault broke before their hellos were whole are strangers to the
    destination (admission): it waited for its source until its --timeout, then exit 1."""
    return o.dest_rc == 1 and "no source connected" in o.dest_err


def classify(o, vmm, strict):
    """('completed' | 'clear error' | 'wrong', why)."""
    if o.hung:
        return "wrong", "hung: " + ", ".join(o.hung)
    if o.relay_lingered or o.relay_rc != 0:
        return "wrong", "the relay did not exit by itself with 0 (%s)" % o.relay_rc
    dest_ok = (0, 2, 3, 4) if vmm else (0, 2, 3)
    if (o.dest_rc not in dest_ok and not never_admitted(o)) or o.source_rc not in (0, 2):
        return "wrong", "exit statuses %s/%s explained by no fault" % (o.dest_rc, o.source_rc)
    if o.dest_rc == 0 and o.source_rc == 0:
        return "completed", ""
    fired = fired_kinds(o)
    if o.dest_rc == 3:
        return "wrong", "a wrong digest (corruption must be caught before install)"
    if not fired & {"drop", "corrupt", "cut", "blackhole"}:
        return "wrong", "ended (%s/%s) with only shaping faults fired: %s" % (
            o.dest_rc, o.source_rc, ", ".join(sorted(fired)) or "none")
    if "error" not in (o.dest_err + o.source_err):
        return "wrong", "ended without an error message"
    if strict and not ending_is_right(o, vmm):
        return "wrong", "ended (%s/%s): recovery expected" % (o.dest_rc, o.source_rc)
    return "clear error", ""


def run_one(build, seed, vmm):
    cls, spec = draw(seed, vmm)
    if vmm:
        o = faultlib.run_vmm(build, spec, seed=seed, guest_args=[
            "--guest", "pattern", "--mem", "16M", "--vcpus", "2", "--switch-at", "4",
            "--kvmclock"])
    else:
        o = faultlib.run_fill(build, spec, seed=seed, size=SIZE,
                              fill_args=["--threads", "4"])
    return cls, spec, o


def print_table(counts):
    outcomes = ["completed", "clear error", "wrong"]
    print("%-16s %10s %12s %6s" % tuple(["class"] + outcomes))
    for cls in CLASSES:
        if cls in counts:
            print("%-16s %10d %12d %6d" % tuple([cls] + [counts[cls].get(k, 0)
                                                         for k in outcomes]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build")
    ap.add_argument("runs", type=int)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--vmm", action="store_true",
                    help="every fourth run is a live migration (needs /dev/kvm)")
    ap.add_argument("--lenient", action="store_true",
                    help="accept any clear error of an ending fault (recovery off)")
    ap.add_argument("--jobs", type=int, default=1, help="runs at once (they mostly wait)")
    args = ap.parse_args()
    build = os.path.realpath(args.build)
    if args.vmm and not faultlib.have_kvm():
        # The fill schedules need no KVM: they still run, all of them.
        print("soak: no /dev/kvm on this machine: the live-migration runs are left out, every "
              "run is a fill")
        args.vmm = False
    counts, wrong = {}, 0
    seeds = range(args.first_seed, args.first_seed + args.runs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        runs = pool.map(lambda s: (s, args.vmm and s % 4 == 0) + run_one(build, s, args.vmm
                                                                           and s % 4 == 0),
                        seeds)
        for seed, vmm, cls, spec, o in runs:
            outcome, why = classify(o, vmm, not args.lenient)
            counts.setdefault(cls, {}).setdefault(outcome, 0)
            counts[cls][outcome] += 1
            wrong += outcome == "wrong"
            print("seed %d %s %-15s %-60s -> %s%s (%s)" % (
                seed, "vmm " if vmm else "fill", cls, spec, outcome,
                ": " + why if why else "", o.summary()), flush=True)
    print_table(counts)
    print("%d runs, %d wrong" % (args.runs, wrong))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
