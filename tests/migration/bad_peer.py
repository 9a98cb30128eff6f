#!/usr/bin/env python3
"""A peer that speaks the wire protocol wrongly, by hand (tests/lib/pgwire.py): vmm-dest must
answer with an Error frame naming what is wrong and never hang. Strangers are refused at
admission and vmm-dest goes on waiting for its source; a source it admitted that then breaks
the protocol fails the migration (exit 2, the reason in the JSON `failure`).

usage: bad_peer.py BUILD_DIR CASE

  admission (vmm-dest refuses the connection and keeps waiting):
  version            a hello of another protocol version
  token-wrong        a hello with the wrong session token
  token-missing      a hello without a session token
  not-protocol       an HTTP request
  undecodable-hello  a hello frame whose body is not protobuf
  trickle            a hello sent one byte a second: refused when the 10 s bound for the
                     whole message passes (not 10 s for its header and 10 more for its body)
  after admission (vmm-dest exits 2):
  layout             a memory layout the VM config does not match
  layout-huge        a layout of 32 TiB: refused at once, before anything is allocated
  precopy-demand     a pre-copy page flagged as the answer to a request nobody made
  error-text         the source gives up with an Error whose text holds quotes, backslashes,
                     newlines and control characters: vmm-dest's JSON must carry it verbatim
"""
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pgwire as w  # noqa: E402

TOKEN = b"bad-peer-test-token-0123456789abcdef"
HELLO_TIMEOUT_S = 10  # MIG_HANDSHAKE_TIMEOUT_MS
# vmm/guest/guest_abi.h: the boot region, then the work memory.
GUEST_BOOT_SIZE, GUEST_WORK_GPA = 0x200000, 0x200000
NASTY = ('the source gave up: "quoted", back\\slash, new\nline, tab\t, bell\x07, esc\x1b[31m, '
         'unit\x1f, del\x7f, caf\u00e9 \u20ac, {"json": [1]}')
# case: (what the stranger sends on one connection, Error code, words the Error must hold)
ADMISSION = {
    "version": (w.hello(w.DEMAND, 7, TOKEN, version=2), "VERSION", "version 2"),
    "token-wrong": (w.hello(w.DEMAND, 7, b"not-the-token-0123456789"), "TOKEN",
                    "wrong session token"),
    "token-missing": (w.hello(w.DEMAND, 7), "TOKEN", "no session token"),
    "not-protocol": (b"GET / HTTP/1.1\r\nHost: dest\r\n\r\n", "PROTOCOL",
                     "not the pager protocol"),
    "undecodable-hello": (w.frame(w.HELLO, b"\xff\xff\xff\xff\xff\xff"), "PROTOCOL",
                          "undecodable hello"),
    "trickle": (w.hello(w.DEMAND, 7, TOKEN), "TIMEOUT", "no whole hello within 10000 ms"),
}


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def start_dest(build, tmp):
    port_file = os.path.join(tmp, "port")
    w.write_token(os.path.join(tmp, "token"), TOKEN)
    dest = subprocess.Popen([os.path.join(build, "tools", "vmm-dest"), "--listen", "127.0.0.1:0",
                             "--port-file", port_file, "--timeout", "40000",
                             "--token-file", os.path.join(tmp, "token"),
                             "--json", os.path.join(tmp, "dest.json")],
                            stderr=subprocess.PIPE, text=True, errors="replace")
    for _ in range(200):
        if os.path.exists(port_file) and os.path.getsize(port_file):
            break
        time.sleep(0.05)
    return dest, int(open(port_file).read())


def admission_case(case, port, dest):
    sent, code, words = ADMISSION[case]
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    start = time.monotonic()
    if case == "trickle":
        # One byte a second until vmm-dest answers (the whole hello would take ~40 s).
        for i in range(len(sent)):
            if select.select([sock], [], [], 1.0)[0]:
                break
            sock.sendall(sent[i:i + 1])
    else:
        sock.sendall(sent)
    got_code, text = w.read_error(sock, timeout=HELLO_TIMEOUT_S + 5)
    elapsed = time.monotonic() - start
    print("stranger got %s after %.1f s: %s" % (got_code, elapsed, text))
    if got_code != code or words not in text:
        fail("expected an Error %s naming %r" % (code, words))
    if case == "trickle" and not HELLO_TIMEOUT_S - 0.5 < elapsed < HELLO_TIMEOUT_S + 1.5:
        fail("the trickled hello was refused after %.1f s, its bound is %d s"
             % (elapsed, HELLO_TIMEOUT_S))
    time.sleep(0.3)
    if dest.poll() is not None:
        fail("vmm-dest exited (%d) after refusing a stranger: it must keep waiting" % dest.returncode)
    dest.send_signal(signal.SIGTERM)
    log = dest.communicate(timeout=10)[1]
    print("vmm-dest said:", log.strip())
    if words not in log:
        fail("vmm-dest's log does not name the refusal")
    print("PASS: %s refused at admission, vmm-dest still waiting for its source" % case)


def handshake(demand, push, layout_frame):
    for s in (demand, push):
        mtype, _ = w.read_frame(s)
        if mtype != w.HELLO:
            fail("no hello back, got type %s" % mtype)
    demand.sendall(layout_frame)


def speak(case, demand, push):
    """What the admitted source sends; returns the words vmm-dest's error must hold."""
    demand.sendall(w.hello(w.DEMAND, 7, TOKEN))
    push.sendall(w.hello(w.PUSH, 7, TOKEN))
    work = 1 << 20
    config = (w.field_varint(1, 1) + w.field_bytes(4, b"pattern") + w.field_varint(5, work) +
              w.field_varint(6, 1))
    if case == "layout":
        # One region where the VM config implies two (boot area + work memory).
        handshake(demand, push, w.layout([(0, work)]))
        demand.sendall(w.frame(w.VM_CONFIG, config))
        # The states never come: the destination must refuse the layout before waiting.
        return "layout"
    if case == "layout-huge":
        handshake(demand, push, w.layout([(0, 1 << 45)]))
        return "this destination accepts"
    handshake(demand, push, w.layout([(0, GUEST_BOOT_SIZE), (GUEST_WORK_GPA, work)]))
    if case == "error-text":
        demand.sendall(w.frame(w.ERROR, w.field_varint(1, 5) + w.field_bytes(2, NASTY.encode())))
        return None
    demand.sendall(w.frame(w.VM_CONFIG, config))
    # Well formed (flag and request id agree), but nothing was requested before the switch-over.
    header = (w.field_varint(1, 1) + w.field_varint(3, w.PAGE_FLAG_DEMAND) +
              w.field_varint(4, 4096) + w.field_varint(5, 1))
    demand.sendall(w.frame(w.PAGE, header) + bytes(4096))
    return "answer to a page request"


def check_json(tmp, want):
    with open(os.path.join(tmp, "dest.json")) as f:
        report = json.load(f)  # raises, and so fails, on a broken document
    print("vmm-dest's JSON failure:", repr(report["failure"]))
    if report["status"] == 0:
        fail("the JSON says status 0")
    if want not in report["failure"]:
        fail("the JSON failure does not hold %r verbatim: %r" % (want, report["failure"]))


def session_case(case, tmp, port, dest):
    demand = socket.create_connection(("127.0.0.1", port), timeout=15)
    push = socket.create_connection(("127.0.0.1", port), timeout=15)
    start = time.monotonic()
    want = speak(case, demand, push)
    if want:
        code, text = w.read_error(demand)
        print("source got %s after %.2f s: %s" % (code, time.monotonic() - start, text))
        if code is None or want not in text:
            fail("expected an Error naming the %s problem, got %s %r" % (want, code, text))
    rc = dest.wait(timeout=30)
    log = dest.stderr.read()
    print("vmm-dest said:", log.strip())
    if rc != 2:
        fail("vmm-dest exited %d, expected 2" % rc)
    check_json(tmp, want or NASTY)
    if want and want not in log:
        fail("vmm-dest's log does not name the %s problem" % want)
    if case == "layout-huge" and time.monotonic() - start > 2:
        fail("the huge layout took %.1f s to refuse" % (time.monotonic() - start))
    print("PASS: %s refused on both ends" % case if want else
          "PASS: the source's error text is in vmm-dest's JSON, verbatim")


def main():
    build, case = sys.argv[1], sys.argv[2]
    if not os.path.exists("/dev/kvm"):
        print("SKIP: no /dev/kvm")
        sys.exit(77)
    tmp = tempfile.mkdtemp()
    dest, port = start_dest(build, tmp)
    try:
        if case in ADMISSION:
            admission_case(case, port, dest)
        else:
            session_case(case, tmp, port, dest)
    finally:
        if dest.poll() is None:
            dest.kill()


main()
