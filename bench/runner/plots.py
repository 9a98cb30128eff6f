"""PNG plots with gnuplot: latency CDFs per configuration, fault throughput against faulting
threads, latency against link delay. Each plot's data and script are kept beside it, so that it
can be redrawn or restyled without running the bench again."""
import os
import shutil
import subprocess

TERMINAL = "set terminal pngcairo size 960,600 font 'sans,10' noenhanced"
MAX_POINTS = 1500  # per CDF curve: enough for the eye, small files


def _cdf_points(samples):
    v = sorted(samples)
    n = len(v)
    step = max(1, n // MAX_POINTS)
    pts = [(v[i] / 1e3, (i + 1) / n) for i in range(0, n, step)]
    if pts and pts[-1][1] != 1.0:
        pts.append((v[-1] / 1e3, 1.0))
    return pts


def _kvm_points(lat):
    """A vCPU configuration has the pager's percentiles only: its CDF at those points."""
    return [(lat["p50"], 0.5), (lat["p90"], 0.9), (lat["p99"], 0.99), (lat["p99_9"], 0.999),
            (lat["max"], 1.0)]


def _write(path, rows):
    with open(path, "w") as f:
        for row in rows:
            f.write(" ".join(str(x) for x in row) + "\n")


def _gnuplot(script_path, script):
    with open(script_path, "w") as f:
        f.write(script)
    r = subprocess.run(["gnuplot", script_path], capture_output=True, text=True, timeout=60)
    if r.returncode:
        raise RuntimeError("gnuplot %s: %s" % (script_path, r.stderr.strip()[-300:]))


def _cdf_plot(outdir, name, title, curves, limit):
    """curves: [(label, points, is_kvm)]."""
    lines = []
    for i, (label, pts, kvm) in enumerate(curves):
        dat = os.path.join("data", "%s-%d.dat" % (name, i))
        _write(os.path.join(outdir, dat), pts)
        # gnuplot has 8 colours: the curves past them are dashed, so that none look alike.
        style = ("linespoints dt 2 pt 7" if kvm else
                 "lines lw 2" + (" dt %d" % (3 + i // 8) if i >= 8 else ""))
        lines.append("'%s' using 1:2 with %s title '%s'" % (dat, style, label))
    script = "\n".join([
        TERMINAL, "set output '%s.png'" % name, "set title '%s'" % title,
        "set logscale x", "set xlabel 'fault service latency (us, log)'",
        "set ylabel 'fraction of faults'", "set yrange [0:1.02]", "set grid",
        "set key bottom right",
        "set arrow from %f, graph 0 to %f, graph 1 nohead dt 3 lw 2 lc rgb 'black'"
        % (limit, limit) if limit else "",
        "set label 'limit %.0f us' at %f, graph 0.04 left offset 0.5,0" % (limit, limit)
        if limit else "",
        "plot " + ", \\\n     ".join(lines), ""])
    _gnuplot(os.path.join(outdir, name + ".gp"), script)
    return name + ".png"


def _axes_label(c):
    """The axes off their defaults, so that curves of one placement can be told apart."""
    extra = []
    if c["backing"] != "anon":
        extra.append(c["backing"])
    if c["install"] not in ("copy", "continue"):
        extra.append(c["install"])
    if c["connections"] != 2:
        extra.append("%d conn" % c["connections"])
    return (" " + ",".join(extra)) if extra else ""


def latency_cdfs(outdir, configs, lim):
    made = []
    limit = lim.get("unpinned", {}).get("p50_us")
    for push, name, title in ((False, "latency_cdf_demand", "Demand only: fault latency CDF"),
                              (True, "latency_cdf_push", "Demand + push: fault latency CDF")):
        curves = []
        for c in configs:
            if c["status"] != "ok" or c["push"] != push or c["link"] != "loopback":
                continue
            r = c["result"]
            if c["kind"] == "fill" and r.get("samples_ns"):
                curves.append(("%dt %s%s" % (c["threads"], c["placement"], _axes_label(c)),
                               _cdf_points(r["samples_ns"]), False))
            elif c["kind"] in ("kvm", "migration") and r["pager_latency_us"]["count"] and (
                    c["kind"] == "kvm" or c.get("run") == 1):
                curves.append(("KVM %dvcpu %s%s" % (c["threads"], c["placement"],
                                                     " %dM" % (c["size"] >> 20)
                                                     if c["kind"] == "migration" else ""),
                               _kvm_points(r["pager_latency_us"]), True))
        if curves:
            made.append(_cdf_plot(outdir, name, title + " (limit: uffd + TCP round trip)",
                                  curves, limit))
    return made


def throughput_threads(outdir, configs):
    series = {}
    for c in configs:
        if c["status"] != "ok" or c["push"] or c["link"] != "loopback" or c["threads"] < 1:
            continue
        if c["kind"] == "fill" and c["backing"] == "anon":
            label = "pager-fill, %s" % c["placement"]
        elif c["kind"] == "kvm":
            label = "KVM vCPUs, %s" % c["placement"]
        else:
            continue
        series.setdefault(label, []).append((c["threads"], c["result"]["faults_per_s"]))
    if not series:
        return []
    lines = []
    for i, (label, pts) in enumerate(sorted(series.items())):
        dat = os.path.join("data", "throughput-%d.dat" % i)
        _write(os.path.join(outdir, dat), sorted(pts))
        lines.append("'%s' using 1:2 with linespoints lw 2 pt 7 title '%s'" % (dat, label))
    script = "\n".join([
        TERMINAL, "set output 'throughput_threads.png'",
        "set title 'Demand-only fault throughput against faulting threads (2 CPUs)'",
        "set xlabel 'faulting threads / vCPUs'", "set ylabel 'faults served per second'",
        "set xrange [0.8:2.2]", "set xtics 1", "set yrange [0:*]", "set grid",
        "set key outside right", "plot " + ", \\\n     ".join(lines), ""])
    _gnuplot(os.path.join(outdir, "throughput_threads.gp"), script)
    return ["throughput_threads.png"]


def latency_delay(outdir, configs, lim):
    order = []
    for c in configs:
        if c["kind"] != "fill" or c["push"] or c["status"] != "ok" or c["link"] == "loopback":
            continue
        label = "veth" if c["link"] == "veth" else "relay %d us" % c["delay_us"]
        lat = c["result"]["latency_us"]
        # What an ideal pager would take: the limit plus the round trip the relay adds.
        ideal = lim.get("unpinned", {}).get("p50_us", 0) + 2 * c["delay_us"]
        order.append((label, lat["p50"], lat["p99"], lat["max"], ideal))
    if not order:
        return []
    rows = [(i, '"%s"' % o[0]) + o[1:] for i, o in enumerate(order)]
    _write(os.path.join(outdir, "data", "delay.dat"), rows)
    script = "\n".join([
        TERMINAL, "set output 'latency_delay.png'",
        "set title 'Demand-only fault latency against one-way link delay (netns + veth)'",
        "set xlabel 'link'", "set ylabel 'fault service latency (us, log)'", "set logscale y",
        "set grid", "set key top left", "set xrange [-0.5:%f]" % (len(order) - 0.5),
        "plot 'data/delay.dat' using 1:3:xtic(2) with linespoints lw 2 pt 7 title 'p50', \\",
        "     '' using 1:4 with linespoints lw 2 pt 5 title 'p99', \\",
        "     '' using 1:5 with linespoints lw 1 pt 3 title 'max', \\",
        "     '' using 1:6 with lines dt 2 lw 2 title 'limit + 2 x delay'", ""])
    _gnuplot(os.path.join(outdir, "latency_delay.gp"), script)
    return ["latency_delay.png"]


def make_all(outdir, configs, lim):
    """The PNG files made, relative to outdir; an error string if gnuplot is missing."""
    if not shutil.which("gnuplot"):
        raise RuntimeError("gnuplot is not installed (scripts/deps installs gnuplot-nox)")
    os.makedirs(os.path.join(outdir, "data"), exist_ok=True)
    cwd = os.getcwd()
    os.chdir(outdir)  # the scripts name their data relative to the plot's folder
    try:
        return (latency_cdfs(".", configs, lim) + throughput_threads(".", configs) +
                latency_delay(".", configs, lim))
    finally:
        os.chdir(cwd)
