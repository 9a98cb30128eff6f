#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The faults suite: migrations through pager-relay under seeded fault schedules.

    scenarios.py BUILD_DIR NAME     run one scenario (exit 0 pass, 1 fail, 77 skip)
    scenarios.py --list             the scenario names (meson reads them at setup)
    scenarios.py BUILD_DIR --measure [NAME...]   run and print what happened, checking nothing

SCENARIOS below is the one table of what each fault does to a migration: with recovery
(docs/protocol.md, "Lost connections and resume"), cuts, drops, damaged pages and a silent
path are survived; only a loss once the destination is complete (the source never hears it),
or before the switch-over (safe: the guest still runs on the source), ends with a clear error.

Every scenario also checks, whatever its outcome: nothing hung (each end exits within
faultlib.END_BOUND_S), the relay exited by itself with 0 once both ends were gone, it printed
its seed and schedule, and its JSON report says each listed rule really fired.
"""
import os
import sys

# faultlib sits beside this file; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib  # noqa: E402


def OK(**checks):
    """Both ends exit 0; pager-fill checked the digest, vmm-dest the guest and digest."""
    return dict(dest=0, source=0, **checks)


def FAILS(dest, source, dest_says, source_says=None, **checks):
    """The migration ends with these exit statuses (a tuple: any of them; source None: any
    failure) and the destination's stderr says dest_says (the source's, source_says)."""
    return dict(dest=dest, source=source, dest_says=dest_says, source_says=source_says,
                **checks)


CLOSED = "the source closed the"  # ... demand connection / push connection

VMM_GUEST = ["--guest", "pattern", "--mem", "16M", "--vcpus", "2", "--switch-at", "4",
             "--kvmclock"]

ONE_CONNECTION = ["--connections", "1"]

# name: (ends, spec, expected outcome[, run options]); fires: rules (from 1) that must fire,
# default all. Run options: size (the fill's image, default 16M).
SCENARIOS = {
    # Faults a migration survives as it is.
    "fill-delay": ("fill", "delay=200us..2ms", OK()),
    "fill-throttle": ("fill", "throttle=40MB/s", OK(min_ms=300)),
    "fill-reorder": ("fill", "reorder:push@window=8;reorder:demand@window=2",
                     OK(fires=[1])),
    "fill-dup": ("fill", "dup@p=0.05", OK(duplicates=True)),
    "fill-stall-page": ("fill", "stall:page=0:0x3000@ms=300", OK(min_ms=250)),
    "fill-stall-first-fault": ("fill", "stall@phase=first-fault,ms=300", OK(min_ms=250)),
    "fill-blackhole-brief": ("fill", "blackhole@phase=first-fault,ms=300", OK(min_ms=250)),
    # Faults recovered from (issue 7): a lost connection is resumed on new ones, a lost
    # answer asked again, a damaged page refused by its checksum and fetched again.
    "fill-cut-push": ("fill", "cut:push@frames=20", OK(cut=["push"], reconnects=1)),
    "fill-cut-first-fault": ("fill", "cut:demand@phase=first-fault",
                             OK(cut=["demand"], reconnects=1)),
    "fill-cut-mid-push": ("fill", "cut@phase=mid-push,pages=512",
                          OK(cut=["demand", "push"], reconnects=1)),
    # Every page is in and the Complete sent when the cut falls: the source redials, and the
    # resumed session only tells it the migration is complete (and the digest).
    "fill-cut-completion": ("fill", "cut@phase=completion", OK(reconnects=0)),
    # In 64 MiB the faults run ahead of the push: a lost answer is asked again after the
    # request timeout (2 s).
    "fill-drop": ("fill", "drop@p=0.2", OK(rerequested=True), {"size": "64M"}),
    "fill-corrupt": ("fill", "corrupt:push@p=0.01", OK(corrupt=True)),
    "fill-corrupt-demand": ("fill", "corrupt:demand@p=0.2", OK(corrupt=True), {"size": "64M"}),
    # Nothing more after the first fault: after 5 s of silence the destination takes the
    # connection as lost, the source redials, and the new connections are clean.
    "fill-blackhole": ("fill", "blackhole@phase=first-fault", OK(reconnects=1, min_ms=4500)),
    # The Complete is never acknowledged: after the silence bound the destination takes the
    # connection as lost, and the resumed session tells the source.
    "fill-blackhole-completion": ("fill", "blackhole@phase=completion", OK(min_ms=4500)),
    # Demand and push on one connection (protocol v5, the relay sees it as a demand link that
    # is its whole pair): a cut mid-push resumed on one connection; a cut that takes the
    # Complete (the source's PushDone then comes on the same stream as its answer); damage.
    "fill1-cut-mid-push": ("fill", "cut:demand,to-dest@frames=200",
                           OK(cut=["demand"], reconnects=1), {"source_args": ONE_CONNECTION}),
    "fill1-cut-completion": ("fill", "cut@phase=completion", OK(reconnects=0),
                             {"source_args": ONE_CONNECTION}),
    "fill1-shaped": ("fill", "delay=100us..1ms;reorder:demand@window=4;dup@p=0.05;"
                     "corrupt:demand@p=0.01", OK(corrupt=True, fires=[1, 2, 3, 4]),
                     {"source_args": ONE_CONNECTION}),
    # One relay, two sessions in a row: the cut fires once, then once per pair with every.
    "fill-reconnect": ("fill2", "cut:push@frames=20", [OK(reconnects=1), OK()]),
    "fill-reconnect-every": ("fill2", "cut:push@frames=20,every", [OK()] * 2),
    # A push-only fill is the same stream every time: seed 7 twice duplicates and corrupts
    # the same frames, seed 8 others; every run ends with the right digest all the same.
    "fill-replay": ("replay", "dup:push@p=0.05;corrupt:push@p=0.02;reorder:push@window=4",
                    OK(corrupt=True)),
    # Live migrations of a real guest (2 vCPUs, kvmclock: KVM writes guest pages inside
    # KVM_SET_MSRS during the restore, and 0xc000 is the first of them).
    "vmm-shaped": ("vmm", "delay=100us..1ms;reorder:push@window=8;dup:push@p=0.02;"
                   "throttle=400MB/s", OK(dest_json={"digest_match": True})),
    "vmm-stall-restore": ("vmm", "stall@phase=restore,ms=300",
                          OK(dest_min={"restore_blocktime_ms": 200})),
    # The restore ioctl waits on a missing page for 500 ms, synchronously, then carries on.
    "vmm-stall-restore-page": ("vmm", "stall:demand,page=0:0xc000@ms=500",
                               OK(dest_min={"restore_blocktime_ms": 400})),
    # Before the switch-over the guest still runs on the source: failing is safe, and clear.
    # The cut connections never became the destination's session (admission: they are as
    # strangers), so it keeps waiting for its source, up to its --timeout (exit 1).
    "vmm-cut-handshake": ("vmm", "cut@phase=handshake",
                          FAILS(1, 2, "no source connected", "no hello")),
    # A cut while KVM_SET_MSRS waits on a page: the restore goes on once resumed.
    "vmm-cut-restore": ("vmm", "cut@phase=restore",
                        OK(cut=["demand", "push"], reconnects=1,
                           dest_json={"digest_match": True})),
    "vmm-cut-push-mid-push": ("vmm", "cut:push@phase=mid-push,pages=256",
                              OK(cut=["push"], reconnects=1)),
    # The first answer (the restore fault's page) lost: asked again within the watchdog's
    # bound, the restore goes on.
    "vmm-drop": ("vmm", "drop@frames=0", OK(rerequested=True)),
    # Damaged pages never installed: fetched again, the digest matches.
    "vmm-corrupt": ("vmm", "corrupt:push@p=0.01",
                    OK(corrupt=True, dest_json={"digest_match": True})),
    "vmm-blackhole-restore": ("vmm", "blackhole@phase=restore", OK(reconnects=1)),
    # The Complete lost with its connection: the source redials and is told, digest and all.
    "vmm-cut-completion": ("vmm", "cut@phase=completion", OK(dest_json={"digest_match": True})),
}

FILL_ARGS = ["--threads", "4"]
REPLAY_FILL_ARGS = ["--threads", "0"]


def run(build, name):
    """The scenario's outcomes, one per session."""
    ends, spec = SCENARIOS[name][:2]
    opts = SCENARIOS[name][3] if len(SCENARIOS[name]) > 3 else {}
    if ends == "vmm":
        return [faultlib.run_vmm(build, spec, guest_args=VMM_GUEST)]
    if ends == "fill2":
        return faultlib.run_fill(build, spec, fill_args=FILL_ARGS, sessions=2)
    if ends == "replay":
        # No pre-paging: a damaged page asked again must not move the push's order.
        return [faultlib.run_fill(build, spec, seed=s, fill_args=REPLAY_FILL_ARGS,
                                  source_args=["--prepage", "0"]) for s in (7, 7, 8)]
    return [faultlib.run_fill(build, spec, fill_args=FILL_ARGS, size=opts.get("size", "16M"),
                              source_args=opts.get("source_args", ()))]


def check_outcome(o, want, spec):
    """The failures of one outcome against its expectation, as sentences."""
    bad = []
    if o.hung:
        bad.append("hung: %s had to be killed after %d s" % (", ".join(o.hung),
                                                             faultlib.END_BOUND_S))
    if o.relay_lingered or o.relay_rc != 0:
        bad.append("the relay did not exit by itself with 0 (%s)" % o.relay_rc)
    if "seed " not in o.relay_err or "rule 1: " not in o.relay_err:
        bad.append("the relay did not print its seed and schedule")
    if o.dest_rc not in (want["dest"] if isinstance(want["dest"], tuple) else (want["dest"],)):
        bad.append("destination exited %s, expected %s" % (o.dest_rc, want["dest"]))
    if want["source"] is None and o.source_rc in (0, None):
        bad.append("source exited %s, expected a failure" % o.source_rc)
    elif want["source"] is not None and o.source_rc != want["source"]:
        bad.append("source exited %s, expected %s" % (o.source_rc, want["source"]))
    for who, text, says in (("destination", o.dest_err, want.get("dest_says")),
                            ("source", o.source_err, want.get("source_says"))):
        if says and says.lower() not in text.lower():
            bad.append("the %s did not say '%s'" % (who, says))
    rules = [r for r in spec.split(";") if r.strip()]
    for rule in want.get("fires", range(1, len(rules) + 1)):
        if o.fired(rule) < 1:
            bad.append("rule %d (%s) never fired" % (rule, rules[rule - 1]))
    for key, value in want.get("dest_json", {}).items():
        if o.dest.get(key) != value:
            bad.append("destination JSON %s is %s, expected %s" % (key, o.dest.get(key), value))
    for key, value in want.get("dest_min", {}).items():
        if not o.dest.get(key, 0) >= value:
            bad.append("destination JSON %s is %s, expected at least %s" %
                       (key, o.dest.get(key), value))
    if "cut" in want:
        cut = sorted(name for p in o.relay.get("pairs", [])[:1]
                     for name, c in p["connections"].items() if c["cut"])
        if cut != sorted(want["cut"]):
            bad.append("the relay cut %s, expected %s" % (cut or "nothing", want["cut"]))
    pager = o.dest.get("pager", o.dest)
    if "reconnects" in want and pager.get("reconnects", 0) < want["reconnects"]:
        bad.append("the destination resumed %s times, expected at least %d" %
                   (pager.get("reconnects"), want["reconnects"]))
    if want.get("corrupt") and not pager.get("pages_corrupt"):
        bad.append("no damaged page was caught by its checksum")
    if want.get("rerequested") and not pager.get("pages_rerequested"):
        bad.append("no request was sent again")
    if want.get("duplicates") and not o.dest.get("pages_duplicate"):
        bad.append("the destination saw no duplicate page")
    if want.get("min_ms") and o.elapsed_s * 1000 < want["min_ms"]:
        bad.append("done in %.0f ms: the fault cannot have held it %d ms" %
                   (o.elapsed_s * 1000, want["min_ms"]))
    return bad


def replay_keys(o):
    """What a replay must repeat: the frame-keyed faults, and the digest they led to."""
    return ([(e["rule"], e["frame"], e.get("offset"), e["detail"]) for e in o.events()
             if e["fault"] in ("dup", "corrupt")],
            [ln for ln in o.dest_out.splitlines() if ln.startswith("digest ")])


def check(name, outcomes):
    spec, want = SCENARIOS[name][1:3]
    wants = want if isinstance(want, list) else [want] * len(outcomes)
    bad = []
    for i, (o, w) in enumerate(zip(outcomes, wants)):
        bad += ["session %d: %s" % (i, b) if len(outcomes) > 1 else b
                for b in check_outcome(o, w, spec)]
    if SCENARIOS[name][0] == "replay":
        a, b, c = (replay_keys(o) for o in outcomes)
        if not a[0] or not a[1] or a != b:
            bad.append("seed 7 twice fired differently: %d and %d events, %s and %s" %
                       (len(a[0]), len(b[0]), a[1], b[1]))
        if a[0] == c[0]:
            bad.append("seeds 7 and 8 fired on the same frames")
    return bad


def report(name, outcomes):
    for i, o in enumerate(outcomes):
        print("%s session %d: %s" % (name, i, o.summary()))
        for who, text in (("destination", o.dest_err), ("source", o.source_err)):
            lines = [ln for ln in text.splitlines() if "error" in ln][:2]
            for ln in lines:
                print("  %s: %s" % (who, ln))
        fired = ", ".join("%d %s x%d" % (r["rule"], r["fault"], r["fired"])
                          for r in o.relay.get("rules", []))
        print("  relay fired: %s; %d events" % (fired, len(o.events())))


def main(argv):
    if len(argv) == 2 and argv[1] == "--list":
        print("\n".join(SCENARIOS))
        return 0
    build, names = argv[1], argv[2:]
    measure = bool(names) and names[0] == "--measure"
    if measure:
        names = names[1:] or list(SCENARIOS)
    for name in names:
        if SCENARIOS[name][0] == "vmm" and not faultlib.have_kvm():
            print("SKIP: no /dev/kvm")
            return 77
        outcomes = run(os.path.realpath(build), name)
        report(name, outcomes)
        if measure:
            continue
        bad = check(name, outcomes)
        for b in bad:
            print("FAIL: " + b)
        if bad:
            print("relay log:\n" + outcomes[-1].relay_err[-3000:])
            return 1
        print("PASS: %s" % name)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
