#!/usr/bin/env python3
"""A source that speaks the wire protocol wrongly, by hand (no protobuf library needed):
vmm-dest must refuse it with a clear error on both ends and exit 2, never hang.

usage: bad_peer.py BUILD_DIR {version|layout|precopy-demand|error-text}

  version         a hello with the wrong version
  layout          a memory layout the VM config does not match
  precopy-demand  a pre-copy page flagged as the answer to a request nobody made
  error-text      after the handshake the source gives up with an Error whose text holds
                  quotes, backslashes, newlines and control characters: vmm-dest's JSON must
                  still parse and carry that text verbatim
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

HELLO, LAYOUT, PAGE, ERROR, VM_CONFIG = 1, 2, 4, 7, 8
MAGIC = 0x50474D31
PAGE_FLAG_DEMAND = 0x2
# vmm/guest/guest_abi.h: the boot region, then the work memory.
GUEST_BOOT_SIZE, GUEST_WORK_GPA = 0x200000, 0x200000
NASTY = ('the source gave up: "quoted", back\\slash, new\nline, tab\t, bell\x07, esc\x1b[31m, '
         'unit\x1f, del\x7f, caf\u00e9 \u20ac, {"json": [1]}')


def varint(v):
    out = b""
    while True:
        b = v & 0x7F
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def field_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def frame(mtype, body):
    return struct.pack("<IHH", len(body), mtype, 0) + body


def hello(version, channel, session):
    return (varint(1 << 3 | 5) + struct.pack("<I", MAGIC) + field_varint(2, version) +
            field_varint(3, os.sysconf("SC_PAGE_SIZE")) + field_varint(5, channel) +
            field_varint(6, session))


def region(rid, gpa, size):
    return field_varint(1, rid) + field_varint(2, gpa) + field_varint(3, size) + field_varint(4, 1)


def read_frame(sock):
    head = b""
    while len(head) < 8:
        chunk = sock.recv(8 - len(head))
        if not chunk:
            return None, b""
        head += chunk
    length, mtype, _ = struct.unpack("<IHH", head)
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            break
        body += chunk
    return mtype, body


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def start_dest(build, tmp):
    port_file = os.path.join(tmp, "port")
    dest = subprocess.Popen([os.path.join(build, "tools", "vmm-dest"), "--listen", "127.0.0.1:0",
                             "--port-file", port_file, "--timeout", "20000",
                             "--json", os.path.join(tmp, "dest.json")],
                            stderr=subprocess.PIPE, text=True, errors="replace")
    for _ in range(200):
        if os.path.exists(port_file) and os.path.getsize(port_file):
            break
        time.sleep(0.05)
    return dest, int(open(port_file).read())


def handshake(demand, push, layout):
    for s in (demand, push):
        mtype, _ = read_frame(s)
        if mtype != HELLO:
            fail("no hello back, got type %s" % mtype)
    demand.sendall(frame(LAYOUT, layout))


def speak(case, demand, push):
    """What the bad source sends; returns the word vmm-dest's error must name."""
    version = 1 if case == "version" else 2
    demand.sendall(frame(HELLO, hello(version, 1, 7)))
    push.sendall(frame(HELLO, hello(version, 2, 7)))
    if case == "version":
        return "version"
    work = 1 << 20
    config = (field_varint(1, 1) + field_bytes(4, b"pattern") + field_varint(5, work) +
              field_varint(6, 1))
    if case == "layout":
        # One region where the VM config implies two (boot area + work memory).
        handshake(demand, push, field_bytes(1, field_varint(1, 0) + field_varint(3, work) +
                                            field_varint(4, 1)))
        demand.sendall(frame(VM_CONFIG, config))
        # The states never come: the destination must refuse the layout before waiting.
        return "layout"
    layout = (field_bytes(1, region(0, 0, GUEST_BOOT_SIZE)) +
              field_bytes(1, region(1, GUEST_WORK_GPA, work)))
    handshake(demand, push, layout)
    if case == "error-text":
        text = NASTY.encode()
        demand.sendall(frame(ERROR, field_varint(1, 5) + field_bytes(2, text)))
        return None
    demand.sendall(frame(VM_CONFIG, config))
    # Well formed (flag and request id agree), but nothing was requested before the switch-over.
    header = (field_varint(1, 1) + field_varint(3, PAGE_FLAG_DEMAND) + field_varint(4, 4096) +
              field_varint(5, 1))
    demand.sendall(frame(PAGE, header) + bytes(4096))
    return "answer to a page request"


def check_json(tmp, want):
    with open(os.path.join(tmp, "dest.json")) as f:
        report = json.load(f)  # raises, and so fails, on a broken document
    print("vmm-dest's JSON failure:", repr(report["failure"]))
    if report["status"] == 0:
        fail("the JSON says status 0")
    if want not in report["failure"]:
        fail("the JSON failure does not hold %r verbatim: %r" % (want, report["failure"]))


def main():
    build, case = sys.argv[1], sys.argv[2]
    if not os.path.exists("/dev/kvm"):
        print("SKIP: no /dev/kvm")
        sys.exit(77)
    tmp = tempfile.mkdtemp()
    dest, port = start_dest(build, tmp)
    try:
        demand = socket.create_connection(("127.0.0.1", port), timeout=15)
        push = socket.create_connection(("127.0.0.1", port), timeout=15)
        want = speak(case, demand, push)
        if want:
            mtype, body = read_frame(demand)
            if mtype != ERROR:
                fail("expected an error message from vmm-dest, got type %s" % mtype)
            text = body.decode(errors="replace")
            print("source got:", text.strip())
            if want not in text:
                fail("the error does not name the %s problem: %r" % (want, text))
        rc = dest.wait(timeout=30)
        log = dest.stderr.read()
        print("vmm-dest said:", log.strip())
        if rc != 2:
            fail("vmm-dest exited %d, expected 2" % rc)
        check_json(tmp, want or NASTY)
        if want and want not in log:
            fail("vmm-dest's log does not name the %s problem" % want)
        print("PASS: %s refused on both ends" % case if want else
              "PASS: the source's error text is in vmm-dest's JSON, verbatim")
    finally:
        if dest.poll() is None:
            dest.kill()


main()
