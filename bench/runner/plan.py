"""What one bench run measures, by mode: the baselines and the configurations, each a dict the
runner fills with results. The axes the pager does not implement yet are listed too, so that
their rows say "not implemented" instead of going missing."""

MiB = 1 << 20
GiB = 1 << 30

# Where the threads run. dest: the destination process (its faulting threads and the
# listener, via taskset), listener: --listener-cpu, source: the source process and its demand
# and push threads. None: the scheduler's choice.
PLACEMENTS = {
    "same": {"dest": 0, "listener": 0, "source": 0},
    "split": {"dest": 0, "listener": 0, "source": 1},
    "unpinned": {"dest": None, "listener": None, "source": None},
}

# The baselines each placement is compared with: (cpu_a, cpu_b) of each probe, -1 unpinned.
# The uffd round trip pairs the faulting thread with the listener; the TCP round trip the
# listener with the source's demand thread; bulk TCP the source's push (sender) with the
# listener (receiver).
BASELINE_CPUS = {
    "same": {"uffd_rtt": (0, 0), "tcp_rtt": (0, 0), "tcp_bulk": (0, 0)},
    "split": {"uffd_rtt": (0, 0), "tcp_rtt": (0, 1), "tcp_bulk": (1, 0)},
    "unpinned": {"uffd_rtt": (-1, -1), "tcp_rtt": (-1, -1), "tcp_bulk": (-1, -1)},
}

# Axes of the issue that the pager does not implement yet: value -> why not.
NOT_IMPLEMENTED = {}

SIZES = {
    #          probe iters, bulk ms, copy size, demand fill, push fill, kvm demand, migrations
    # push_repeat: runs of each fill with the push on, their fault samples pooled
    "smoke": dict(iters=1000, bulk_ms=200, copy=32 * MiB, demand=4 * MiB, push=32 * MiB,
                  push_repeat=1, kvm=8 * MiB, migrations=[(32 * MiB, 1)]),
    "quick": dict(iters=10000, bulk_ms=500, copy=256 * MiB, demand=32 * MiB, push=256 * MiB,
                  push_repeat=3, kvm=32 * MiB, migrations=[(256 * MiB, 3)]),
    "full": dict(iters=30000, bulk_ms=1000, copy=512 * MiB, demand=64 * MiB, push=1 * GiB,
                 push_repeat=3, kvm=64 * MiB, migrations=[(256 * MiB, 3), (1 * GiB, 6)]),
}

# Demand-only fills through a delayed link: every fault waits a whole round trip, so the
# image shrinks with the delay to keep each run about a second.
DELAY_DEMAND_SIZE = {"smoke": {0: 2 * MiB, 100: 1 * MiB},
                     "quick": {0: 8 * MiB, 100: 4 * MiB, 1000: 1 * MiB},
                     "full": {0: 16 * MiB, 100: 8 * MiB, 1000: 2 * MiB}}


def config(kind, **kw):
    c = dict(kind=kind, backing="anon", install="copy", connections=2, push=False, threads=1,
             placement="unpinned", link="loopback", delay_us=0, size=0, cover=False,
             status="pending", reason="")
    c.update(kw)
    c["id"] = config_id(c)
    for axis, values in NOT_IMPLEMENTED.items():
        if c[axis] in values:
            c["status"], c["reason"] = "not_implemented", values[c[axis]]
    return c


def config_id(c):
    parts = [c["kind"], c["link"]]
    if c["link"] == "relay":
        parts.append("%dus" % c["delay_us"])
    parts += ["push" if c["push"] else "demand",
              "%d%s" % (c["threads"], "vcpu" if c["kind"] != "fill" else "t"), c["placement"]]
    for axis, default in (("backing", "anon"), ("install", "copy"), ("connections", 2)):
        if c[axis] != default:
            parts.append("%s=%s" % (axis, c[axis]))
    if c["kind"] == "migration":
        parts.append("%dM" % (c["size"] // MiB))
        parts.append("run%d" % c["run"])
    return "/".join(parts)


def _loopback(mode, s):
    out = []
    placements = ["unpinned"] if mode == "smoke" else list(PLACEMENTS)
    for placement in placements:
        for threads in (1, 2):
            out.append(config("fill", threads=threads, placement=placement, size=s["demand"],
                              cover=True))
            out.append(config("fill", push=True, threads=threads, placement=placement,
                              size=s["push"], repeat=s["push_repeat"]))
        # Push alone, no faulting thread: the push's own throughput.
        out.append(config("fill", push=True, threads=0, placement=placement, size=s["push"]))
    # memfd (shmem) backing, MISSING + MINOR, installed by UFFDIO_CONTINUE: demand only and
    # with the push, beside the anonymous rows of the headline placement.
    out.append(config("fill", backing="shmem", install="continue", size=s["demand"],
                      cover=True))
    out.append(config("fill", push=True, backing="shmem", install="continue", size=s["push"],
                      repeat=s["push_repeat"]))
    # Private 2 MiB hugetlb pages (pager-source --hugetlb): each faulted, moved and installed
    # whole (one UFFDIO_COPY), demand only and with the push.
    out.append(config("fill", backing="hugetlb", size=s["demand"], cover=True))
    out.append(config("fill", push=True, backing="hugetlb", size=s["push"],
                      repeat=s["push_repeat"]))
    # Pushed pages received into pages of their own and moved into place (UFFDIO_MOVE,
    # pager-fill --install move), with faulting threads and alone.
    out.append(config("fill", push=True, install="move", size=s["push"],
                      repeat=s["push_repeat"]))
    out.append(config("fill", push=True, install="move", threads=0, size=s["push"]))
    # Demand and push on one connection (pager-fill --connections 1, protocol v5): a
    # demanded page waits behind the pushed data queued before it, and the listener installs
    # the push itself. Demand only, with the push, and the push alone.
    out.append(config("fill", connections=1, size=s["demand"], cover=True))
    out.append(config("fill", push=True, connections=1, size=s["push"],
                      repeat=s["push_repeat"]))
    out.append(config("fill", push=True, connections=1, threads=0, size=s["push"]))
    # The other axes, on the headline configuration: not implemented rows.
    for axis, values in NOT_IMPLEMENTED.items():
        for value in values:
            out.append(config("fill", push=True, size=s["push"], **{axis: value}))
    return out


def _delays(mode, s):
    out = [config("fill", link="veth", size=DELAY_DEMAND_SIZE[mode][0], cover=True)]
    for delay, size in DELAY_DEMAND_SIZE[mode].items():
        out.append(config("fill", link="relay", delay_us=delay, size=size, cover=True))
    if mode == "full":
        out.append(config("fill", link="veth", push=True, size=256 * MiB, repeat=2))
        for delay in DELAY_DEMAND_SIZE[mode]:
            out.append(config("fill", link="relay", delay_us=delay, push=True, size=256 * MiB,
                              repeat=2))
    return out


def _kvm(mode, s):
    out = []
    placements = ["unpinned", "same"] if mode == "full" else ["unpinned"]
    vcpus = (1,) if mode == "smoke" else (1, 2)
    for placement in placements:
        for n in vcpus:
            out.append(config("kvm", threads=n, placement=placement, size=s["kvm"]))
    for size, runs in s["migrations"]:
        for run in range(1, runs + 1):
            out.append(config("migration", push=True, threads=2, size=size, run=run))
    return out


def build(mode):
    """(sizes, configurations) of a mode: smoke, quick or full."""
    s = SIZES[mode]
    return s, _loopback(mode, s) + _delays(mode, s) + _kvm(mode, s)


def baseline_steps(s):
    """Every probe run: (key, probe, args). Placements sharing a probe's CPUs share its run."""
    steps, seen = [], set()
    for placement, cpus in BASELINE_CPUS.items():
        for probe in ("uffd_rtt", "tcp_rtt"):
            a, b = cpus[probe]
            key = "%s/%d,%d" % (probe, a, b)
            if key not in seen:
                seen.add(key)
                steps.append((key, probe, ["-a", str(a), "-b", str(b), "-n", str(s["iters"])]))
        a, b = cpus["tcp_bulk"]
        key = "tcp_bulk/1/%d,%d" % (a, b)
        if key not in seen:
            seen.add(key)
            steps.append((key, "tcp_bulk", ["-a", str(a), "-b", str(b), "-t", "1",
                                             "-d", str(s["bulk_ms"])]))
    steps.append(("tcp_bulk/2/-1,-1", "tcp_bulk", ["-t", "2", "-d", str(s["bulk_ms"])]))
    # Bulk TCP streaming through an image of the push's size (written memory, read from DRAM):
    # what the push's sender can do where memory, not TCP, is the bottleneck.
    steps.append(("tcp_bulk_image/1/-1,-1", "tcp_bulk", ["-t", "1", "-d", str(s["bulk_ms"]),
                                                         "-s", str(s["push"])]))
    steps.append(("uffd_copy/1", "uffd_copy", ["-t", "1", "-s", str(s["copy"])]))
    steps.append(("uffd_copy/2", "uffd_copy", ["-t", "2", "-a", "0", "-b", "1",
                                               "-s", str(s["copy"])]))
    # Receive-and-install of a pushed page: COPY from a staging buffer (what the pager does)
    # against UFFDIO_MOVE of it (zero-copy, the install=move axis), one thread on CPU 0.
    for method in ("copy", "move", "move-populate"):
        steps.append(("uffd_stage/" + method, "uffd_stage",
                      ([] if method == "copy" else ["--" + method]) +
                      ["-a", "0", "-s", str(s["copy"])]))
    return steps
