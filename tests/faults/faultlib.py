# SPDX-License-Identifier: GPL-2.0-only
"""Runs one migration through pager-relay under a fault spec, every wait bounded.

Two pairs of ends:
  fill: pager-source -> relay -> pager-fill  (the relay's clients are destinations)
  vmm:  vmm-source -> relay -> vmm-dest      (the relay's clients are sources)
run() returns an Outcome: each end's exit status and stderr, the relay's JSON report and
exit status, the destination's JSON, and whether anything had to be killed (a hang).
Only processes started here are ever signalled, each by its own id.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

# Every wait has a bound: an end that outlives this is a hang, killed and reported.
END_BOUND_S = 40
RELAY_EXIT_BOUND_S = 5


class Outcome:
    def __init__(self):
        self.dest_rc = self.source_rc = self.relay_rc = None
        self.dest_err = self.source_err = self.relay_err = self.dest_out = ""
        self.relay = {}
        self.dest = {}
        self.hung = []           # names of the processes that had to be killed
        self.relay_lingered = False
        self.elapsed_s = 0.0

    def fired(self, rule):
        """How often rule (from 1) fired, from the relay's own report."""
        for r in self.relay.get("rules", []):
            if r["rule"] == rule:
                return r["fired"]
        return 0

    def events(self):
        return self.relay.get("events", [])

    def summary(self):
        return "dest %s, source %s, relay %s%s in %.1f s" % (
            self.dest_rc, self.source_rc, self.relay_rc,
            ", hung: " + ",".join(self.hung) if self.hung else "", self.elapsed_s)


class Procs:
    """The processes of one run; whatever is still running at the end is killed by id."""

    def __init__(self, workdir):
        self.dir = workdir
        self.running = {}

    def start(self, name, argv):
        err = open(os.path.join(self.dir, name + ".err"), "w")
        out = open(os.path.join(self.dir, name + ".out"), "w")
        p = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        self.running[name] = p
        return p

    def wait(self, name, deadline):
        p = self.running[name]
        try:
            rc = p.wait(timeout=max(0.0, deadline - time.monotonic()))
            return rc, False
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return None, True

    def text(self, name, ext="err"):
        try:
            with open(os.path.join(self.dir, name + "." + ext)) as f:
                return f.read()
        except OSError:
            return ""

    def kill_all(self):
        for p in self.running.values():
            if p.poll() is None:
                p.kill()
                p.wait()


def wait_file(path, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return True
        time.sleep(0.02)
    return False


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def relay_argv(build, d, target, spec, seed, pairs, extra):
    return [os.path.join(build, "tools", "pager-relay"), "--listen", "127.0.0.1:0",
            "--to", target, "--faults", spec, "--seed", str(seed), "--pairs", str(pairs),
            "--port-file", os.path.join(d, "relay.port"), "--json",
            os.path.join(d, "relay.json"), "--log-schedule"] + list(extra)


def start_relay(procs, build, d, target, spec, seed, pairs, extra):
    procs.start("relay", relay_argv(build, d, target, spec, seed, pairs, extra))
    if not wait_file(os.path.join(d, "relay.port"), 10):
        raise RuntimeError("pager-relay did not listen: " + procs.text("relay"))
    return "127.0.0.1:" + open(os.path.join(d, "relay.port")).read().strip()


def finish_relay(procs, out):
    """The relay ends by itself once both ends are gone; a relay that lingers is a bug
    (reported), told to stop so that its report is still written."""
    p = procs.running["relay"]
    try:
        rc = p.wait(timeout=RELAY_EXIT_BOUND_S)
    except subprocess.TimeoutExpired:
        out.relay_lingered = True
        p.send_signal(signal.SIGTERM)
        rc, _ = procs.wait("relay", time.monotonic() + RELAY_EXIT_BOUND_S)
    out.relay_rc = rc
    out.relay_err = procs.text("relay")
    out.relay = read_json(os.path.join(procs.dir, "relay.json"))


def start_fill_source(procs, build, d, name, size, listen="127.0.0.1:0"):
    """A pager-source for one session: its process name, its fill's, and its address."""
    src, dst = "source" + name, "dest" + name
    port = os.path.join(d, src + ".port")
    procs.start(src, [os.path.join(build, "tools", "pager-source"), "--listen", listen,
                      "--port-file", port, "--size", size, "--timeout", "20000"])
    if not wait_file(port, 10):
        raise RuntimeError("pager-source did not listen: " + procs.text(src))
    return src, dst, "127.0.0.1:" + open(port).read().strip()


def run_fill(build, spec, seed=1, size="16M", fill_args=(), relay_args=(), sessions=1,
             fill_timeout_ms=3000):
    """pager-fill through the relay to pager-source, `sessions` times in a row (one relay)."""
    out, d = [], tempfile.mkdtemp(prefix="faults-")
    procs = Procs(d)
    start = time.monotonic()
    try:
        relay_addr = target = None
        for i in range(sessions):
            o = Outcome()
            # The relay's target is fixed: a later session's source listens where the
            # first one did (it has exited by then).
            src, dst, target = start_fill_source(procs, build, d, str(i), size,
                                                 target or "127.0.0.1:0")
            if relay_addr is None:
                relay_addr = start_relay(procs, build, d, target, spec, seed, sessions,
                                         relay_args)
            digest = re.search(r"digest ([0-9a-f]+)", procs.text(src))
            procs.start(dst, [os.path.join(build, "tools", "pager-fill"), "--connect",
                              relay_addr, "--timeout", str(fill_timeout_ms), "--json",
                              os.path.join(d, dst + ".json"), "--expect-digest",
                              digest.group(1) if digest else "0"] + list(fill_args))
            deadline = time.monotonic() + END_BOUND_S
            o.dest_rc, hung_d = procs.wait(dst, deadline)
            o.source_rc, hung_s = procs.wait(src, deadline)
            o.hung = [n for n, h in ((dst, hung_d), (src, hung_s)) if h]
            o.dest_err, o.source_err = procs.text(dst), procs.text(src)
            o.dest_out = procs.text(dst, "out")
            o.dest = read_json(os.path.join(d, dst + ".json"))
            out.append(o)
        finish_relay(procs, out[-1])
        for o in out:
            o.relay, o.relay_rc, o.relay_err = out[-1].relay, out[-1].relay_rc, out[-1].relay_err
            o.relay_lingered = out[-1].relay_lingered
            o.elapsed_s = time.monotonic() - start
        return out if sessions > 1 else out[0]
    finally:
        procs.kill_all()
        shutil.rmtree(d, ignore_errors=True)


def run_vmm(build, spec, seed=1, guest_args=(), relay_args=(), watchdog_ms=2000):
    """vmm-source through the relay to vmm-dest: one live migration of a real KVM guest."""
    o, d = Outcome(), tempfile.mkdtemp(prefix="faults-")
    procs = Procs(d)
    start = time.monotonic()
    try:
        port = os.path.join(d, "dest.port")
        procs.start("dest", [os.path.join(build, "tools", "vmm-dest"), "--listen",
                             "127.0.0.1:0", "--port-file", port, "--timeout", "15000",
                             "--watchdog", str(watchdog_ms), "--json",
                             os.path.join(d, "dest.json")])
        if not wait_file(port, 10):
            raise RuntimeError("vmm-dest did not listen: " + procs.text("dest"))
        target = "127.0.0.1:" + open(port).read().strip()
        relay_addr = start_relay(procs, build, d, target, spec, seed, 1, relay_args)
        procs.start("source", [os.path.join(build, "tools", "vmm-source"), "--connect",
                               relay_addr, "--timeout", "15000", "--json",
                               os.path.join(d, "source.json")] + list(guest_args))
        deadline = time.monotonic() + END_BOUND_S
        o.source_rc, hung_s = procs.wait("source", deadline)
        o.dest_rc, hung_d = procs.wait("dest", deadline)
        o.hung = [n for n, h in (("dest", hung_d), ("source", hung_s)) if h]
        o.dest_err, o.source_err = procs.text("dest"), procs.text("source")
        o.dest = read_json(os.path.join(d, "dest.json"))
        finish_relay(procs, o)
        o.elapsed_s = time.monotonic() - start
        return o
    finally:
        procs.kill_all()
        shutil.rmtree(d, ignore_errors=True)


def have_kvm():
    return os.path.exists("/dev/kvm")
