"""Processes the bench starts, and the network namespaces it makes: every wait is bounded, and
everything is killed or removed when a step ends, fails, or the bench is interrupted."""
import atexit
import os
import signal
import subprocess
import time

# Every child the bench started and has not reaped yet, so that an interrupt kills them.
_children = set()
_namespaces = set()


def cleanup_all():
    """Kills the children still running and deletes the namespaces still there (bounded)."""
    for p in list(_children):
        kill(p)
    for ns in list(_namespaces):
        netns_delete(ns)


atexit.register(cleanup_all)


def _on_signal(signum, _frame):
    cleanup_all()
    raise SystemExit(128 + signum)


for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def start(argv, stdout=None, stderr=None):
    """Starts argv in its own process group (so that its own children die with it)."""
    p = subprocess.Popen(argv, stdout=stdout or subprocess.DEVNULL,
                         stderr=stderr or subprocess.DEVNULL, start_new_session=True)
    _children.add(p)
    return p


def kill(p):
    """SIGKILL to the child's process group, then reaps it."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    _children.discard(p)


def wait(p, timeout):
    """The exit status, or None (and the child killed) if it ran past timeout seconds."""
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(p)
        return None
    _children.discard(p)
    return rc


def run(argv, timeout):
    """Runs argv to its end: (status or None on timeout, stdout, stderr)."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         start_new_session=True, text=True)
    _children.add(p)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(p)
        return None, "", "timed out after %s s" % timeout
    _children.discard(p)
    return p.returncode, out, err


def wait_file(path, timeout, procs=()):
    """True once path exists and is not empty; False on timeout or if one of procs exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return True
        if any(p.poll() is not None for p in procs):
            return False
        time.sleep(0.02)
    return False


def pinned(argv, cpu):
    """argv under taskset when cpu is a CPU number (every thread starts with that affinity)."""
    return argv if cpu is None else ["taskset", "-c", str(cpu)] + argv


def in_netns(argv, ns):
    return argv if ns is None else ["ip", "netns", "exec", ns] + argv


def _ip(*args):
    return subprocess.run(["ip"] + list(args), stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, timeout=10)


def netns_delete(ns):
    try:
        _ip("netns", "del", ns)
    except subprocess.TimeoutExpired:
        pass
    _namespaces.discard(ns)


class Link:
    """Two network namespaces joined by a veth pair: the source at 10.232.0.1, the destination
    at 10.232.0.2 (addresses that exist only inside them). rate: a tbf rate ("1gbit") on both
    ends, or None."""

    def __init__(self, rate=None):
        tag = "pgb%d" % os.getpid()
        self.src, self.dst = tag + "-src", tag + "-dst"
        self.src_addr, self.dst_addr = "10.232.0.1", "10.232.0.2"
        self.rate = rate

    def __enter__(self):
        a, b = self.src[:-4] + "-a", self.src[:-4] + "-b"
        steps = [("netns", "add", self.src), ("netns", "add", self.dst),
                 ("link", "add", a, "type", "veth", "peer", "name", b),
                 ("link", "set", a, "netns", self.src), ("link", "set", b, "netns", self.dst),
                 ("-n", self.src, "addr", "add", self.src_addr + "/30", "dev", a),
                 ("-n", self.dst, "addr", "add", self.dst_addr + "/30", "dev", b),
                 ("-n", self.src, "link", "set", "lo", "up"),
                 ("-n", self.dst, "link", "set", "lo", "up"),
                 ("-n", self.src, "link", "set", a, "up"), ("-n", self.dst, "link", "set", b, "up")]
        _namespaces.update((self.src, self.dst))
        for step in steps:
            r = _ip(*step)
            if r.returncode:
                self.__exit__(None, None, None)
                raise RuntimeError("ip %s: %s" % (" ".join(step), r.stderr.strip()))
        if self.rate:
            for ns, dev in ((self.src, a), (self.dst, b)):
                r = subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev,
                                    "root", "tbf", "rate", self.rate, "burst", "512kb",
                                    "latency", "50ms"], capture_output=True, text=True,
                                   timeout=10)
                if r.returncode:
                    self.__exit__(None, None, None)
                    raise RuntimeError("tc tbf: %s" % r.stderr.strip())
        return self

    def __exit__(self, *_exc):
        # Deleting a namespace deletes its end of the veth pair, and with it the other end.
        netns_delete(self.src)
        netns_delete(self.dst)
        return False


def wait_listening(ns, port, timeout, procs=()):
    """True once something listens on TCP port inside namespace ns."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = subprocess.run(in_netns(["ss", "-Hltn", "sport = :%d" % port], ns),
                           capture_output=True, text=True, timeout=10)
        if r.stdout.strip():
            return True
        if any(p.poll() is not None for p in procs):
            return False
        time.sleep(0.02)
    return False


HUGE_DIR = "/sys/kernel/mm/hugepages/hugepages-2048kB"


class HugePages:
    """N free 2 MiB hugetlb pages for a step (the pool grown by the shortfall, shrunk back
    after). reason is set, and nothing changed, when this kernel has none or the pool cannot
    grow (not root, or no memory)."""

    def __init__(self, count):
        self.count, self.added, self.reason = count, 0, None

    @staticmethod
    def _read(name):
        with open(os.path.join(HUGE_DIR, name)) as f:
            return int(f.read())

    def __enter__(self):
        if not os.path.isdir(HUGE_DIR):
            self.reason = "this kernel has no 2 MiB hugetlb pages"
            return self
        short = self.count - self._read("free_hugepages")
        if short > 0:
            try:
                with open(os.path.join(HUGE_DIR, "nr_hugepages"), "w") as f:
                    f.write(str(self._read("nr_hugepages") + short))
                self.added = short
            except OSError as e:
                self.reason = "cannot grow the hugetlb pool: %s" % e
        if not self.reason and self._read("free_hugepages") < self.count:
            self.reason = "%d free 2 MiB hugetlb pages, %d needed" % (
                self._read("free_hugepages"), self.count)
        return self

    def __exit__(self, *exc):
        if self.added:
            with open(os.path.join(HUGE_DIR, "nr_hugepages"), "w") as f:
                f.write(str(max(0, self._read("nr_hugepages") - self.added)))
        return False
