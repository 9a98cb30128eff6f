#!/usr/bin/env python3
"""A fake source claims far more memory than this host has, to pager-fill with its default
--max-memory (this host's RAM): 2^45 bytes in one region (pager-fill dials it), then 64
regions of 2^46 bytes (it dials pager-fill --listen). Each must be refused at once, with an
Error LAYOUT back to the source naming the sizes, exit 2, in under 2 s and without the memory
a claimed size would cost (pager-fill's peak RSS, from wait4(), stays under 64 MiB).

usage: oversized_layout.py PAGER_FILL
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pgwire as w  # noqa: E402

TOKEN = b"oversized-layout-token-0123456789"
MAX_SECONDS, MAX_RSS_KIB = 2.0, 64 * 1024
CLAIMS = {
    "one region of 2^45 bytes": [(0, 1 << 45)],
    "64 regions of 2^46 bytes": [(i << 46, 1 << 46) for i in range(64)],
}


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def answer(demand, push, regions):
    """Hellos back on both connections (pager-fill spoke first), then the layout."""
    socks = {}
    for s in (demand, push):
        mtype, body = w.read_frame(s, 5)
        if mtype != w.HELLO:
            fail("no hello from pager-fill (type %s)" % mtype)
        f = w.parse_fields(body)
        socks[f.get(5)] = s
        session = f.get(6)
    socks[w.DEMAND].sendall(w.hello(w.DEMAND, session, TOKEN))
    socks[w.PUSH].sendall(w.hello(w.PUSH, session, TOKEN))
    socks[w.DEMAND].sendall(w.layout(regions))
    return socks[w.DEMAND]


def speak_first(demand, push, regions):
    """pager-fill listens: our hellos first, its answers, then the layout."""
    demand.sendall(w.hello(w.DEMAND, 42, TOKEN))
    push.sendall(w.hello(w.PUSH, 42, TOKEN))
    for s in (demand, push):
        if w.read_frame(s, 5)[0] != w.HELLO:
            fail("pager-fill did not answer the hellos")
    demand.sendall(w.layout(regions))
    return demand


def run(fill, name, regions, listen, tmp):
    lsock = socket.create_server(("127.0.0.1", 0))
    port = lsock.getsockname()[1]
    env = dict(os.environ)
    args = [fill, "--timeout", "10000", "--threads", "0"]
    if listen:
        lsock.close()  # pager-fill listens on it instead
        args += ["--listen", "127.0.0.1:%d" % port]
        env["PAGER_TOKEN"] = TOKEN.decode()
    else:
        w.write_token(os.path.join(tmp, "token"), TOKEN)
        args += ["--connect", "127.0.0.1:%d" % port, "--token-file", os.path.join(tmp, "token")]
    start = time.monotonic()
    proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)
    if listen:
        for _ in range(100):
            try:
                demand = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except ConnectionRefusedError:
                time.sleep(0.02)
        push = socket.create_connection(("127.0.0.1", port), timeout=5)
        demand = speak_first(demand, push, regions)
    else:
        lsock.settimeout(5)
        demand, push = lsock.accept()[0], lsock.accept()[0]
        demand = answer(demand, push, regions)
    code, text = w.read_error(demand, timeout=5)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    log = proc.stderr.read()
    rc = os.waitstatus_to_exitcode(status)
    print("%s: exit %d in %.2f s, peak RSS %d KiB; source got %s: %s"
          % (name, rc, elapsed, usage.ru_maxrss, code, text))
    if code != "LAYOUT" or "this destination accepts" not in text:
        fail("expected an Error LAYOUT naming the limit")
    if rc != 2 or "memory layout refused" not in log:
        fail("pager-fill exited %d: %s" % (rc, log))
    if elapsed > MAX_SECONDS:
        fail("refused after %.2f s" % elapsed)
    if usage.ru_maxrss > MAX_RSS_KIB:
        fail("pager-fill's peak RSS was %d KiB" % usage.ru_maxrss)


def main():
    fill = sys.argv[1]
    tmp = tempfile.mkdtemp()
    for listen, (name, regions) in enumerate(CLAIMS.items()):
        run(fill, name, regions, bool(listen), tmp)
    print("PASS: both claims refused at once, in bounded time and memory")


main()
