# SPDX-License-Identifier: GPL-2.0-only
"""Runs one migration through pager-relay under a fault spec, every wait bounded.

Two pairs of ends:
  fill: pager-source -> relay -> pager-fill  (pager-fill listens)
  vmm:  vmm-source -> relay -> vmm-dest      (vmm-dest listens)
In both the source dials, and redials through the relay after a lost connection.
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


# Recovery: the source redials through the relay after a lost connection, so the relay relays
# as many pairs as that takes and ends once both ends are gone (idle for RELAY_IDLE_MS).
RELAY_PAIRS = 256
RELAY_IDLE_MS = 1500
RECONNECT_MS = 5000


def start_fill_dest(procs, build, d, name, fill_args, fill_timeout_ms, listen="127.0.0.1:0"):
    """A pager-fill listening for one session (the source dials, and redials after a loss)."""
    dst = "dest" + name
    port = os.path.join(d, dst + ".port")
    procs.start(dst, [os.path.join(build, "tools", "pager-fill"), "--listen", listen,
                      "--port-file", port, "--timeout", str(fill_timeout_ms),
                      "--reconnect-timeout", str(RECONNECT_MS), "--json",
                      os.path.join(d, dst + ".json")] + list(fill_args))
    if not wait_file(port, 10):
        raise RuntimeError("pager-fill did not listen: " + procs.text(dst))
    return dst, "127.0.0.1:" + open(port).read().strip()


def fill_digest_checked(o):
    """pager-fill prints the digest it filled, pager-source the image's: a difference is the
    exit status 3 pager-fill gives with --expect-digest (it cannot know the digest first here,
    the source starting after it)."""
    want = re.search(r"digest ([0-9a-f]{16})", o.source_err)
    got = re.search(r"^digest ([0-9a-f]{16})", o.dest_out, re.M)
    if o.dest_rc == 0 and want and got and want.group(1) != got.group(1):
        o.dest_rc = 3
        o.dest_err += "\nfilled digest %s differs from the expected %s\n" % (
            got.group(1), want.group(1))


def run_fill(build, spec, seed=1, size="16M", fill_args=(), relay_args=(), sessions=1,
             fill_timeout_ms=20000, source_args=()):
    """pager-source through the relay to pager-fill, `sessions` times in a row (one relay)."""
    out, d = [], tempfile.mkdtemp(prefix="faults-")
    procs = Procs(d)
    start = time.monotonic()
    try:
        relay_addr = target = None
        for i in range(sessions):
            o = Outcome()
            # The relay's target is fixed: a later session's pager-fill listens where the
            # first one did (it has exited by then).
            dst, target = start_fill_dest(procs, build, d, str(i), fill_args, fill_timeout_ms,
                                          target or "127.0.0.1:0")
            if relay_addr is None:
                relay_addr = start_relay(procs, build, d, target, spec, seed, RELAY_PAIRS,
                                         ["--idle-exit", str(RELAY_IDLE_MS)] + list(relay_args))
            src = "source" + str(i)
            procs.start(src, [os.path.join(build, "tools", "pager-source"), "--connect",
                              relay_addr, "--size", size, "--timeout", "20000",
                              "--reconnect-timeout", str(RECONNECT_MS)] + list(source_args))
            deadline = time.monotonic() + END_BOUND_S
            o.dest_rc, hung_d = procs.wait(dst, deadline)
            o.source_rc, hung_s = procs.wait(src, deadline)
            o.hung = [n for n, h in ((dst, hung_d), (src, hung_s)) if h]
            o.dest_err, o.source_err = procs.text(dst), procs.text(src)
            o.dest_out = procs.text(dst, "out")
            o.dest = read_json(os.path.join(d, dst + ".json"))
            fill_digest_checked(o)
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
                             "--reconnect-timeout", str(RECONNECT_MS),
                             "--watchdog", str(watchdog_ms), "--json",
                             os.path.join(d, "dest.json")])
        if not wait_file(port, 10):
            raise RuntimeError("vmm-dest did not listen: " + procs.text("dest"))
        target = "127.0.0.1:" + open(port).read().strip()
        relay_addr = start_relay(procs, build, d, target, spec, seed, RELAY_PAIRS,
                                 ["--idle-exit", str(RELAY_IDLE_MS)] + list(relay_args))
        procs.start("source", [os.path.join(build, "tools", "vmm-source"), "--connect",
                               relay_addr, "--timeout", "15000",
                               "--reconnect-timeout", str(RECONNECT_MS), "--json",
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
