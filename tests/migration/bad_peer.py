#!/usr/bin/env python3
"""A source that speaks the wire protocol wrongly, by hand (no protobuf library needed):
vmm-dest must refuse it with a clear error on both ends and exit 2, never hang.

usage: bad_peer.py BUILD_DIR {version|layout}
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

HELLO, LAYOUT, ERROR, VM_CONFIG = 1, 2, 7, 8
MAGIC = 0x50474D31


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


def main():
    build, case = sys.argv[1], sys.argv[2]
    if not os.path.exists("/dev/kvm"):
        print("SKIP: no /dev/kvm")
        sys.exit(77)
    tmp = tempfile.mkdtemp()
    port_file = os.path.join(tmp, "port")
    dest = subprocess.Popen([os.path.join(build, "tools", "vmm-dest"), "--listen", "127.0.0.1:0",
                             "--port-file", port_file, "--timeout", "20000"],
                            stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(200):
            if os.path.exists(port_file) and os.path.getsize(port_file):
                break
            time.sleep(0.05)
        port = int(open(port_file).read())
        demand = socket.create_connection(("127.0.0.1", port), timeout=15)
        push = socket.create_connection(("127.0.0.1", port), timeout=15)
        version = 2 if case == "version" else 1
        demand.sendall(frame(HELLO, hello(version, 1, 7)))
        push.sendall(frame(HELLO, hello(version, 2, 7)))
        if case == "layout":
            for s in (demand, push):
                mtype, _ = read_frame(s)
                if mtype != HELLO:
                    fail("no hello back, got type %s" % mtype)
            # One region where the VM config implies two (boot area + work memory).
            region = field_varint(1, 0) + field_varint(3, 1 << 20) + field_varint(4, 1)
            demand.sendall(frame(LAYOUT, field_bytes(1, region)))
            config = (field_varint(1, 1) + field_bytes(4, b"pattern") + field_varint(5, 1 << 20) +
                      field_varint(6, 1))
            demand.sendall(frame(VM_CONFIG, config))
            # The states never come: the destination must refuse the layout before waiting.
        mtype, body = read_frame(demand)
        if mtype != ERROR:
            fail("expected an error message from vmm-dest, got type %s" % mtype)
        text = body.decode(errors="replace")
        want = "version" if case == "version" else "layout"
        print("source got:", text.strip())
        if want not in text:
            fail("the error does not name the %s problem: %r" % (want, text))
        rc = dest.wait(timeout=30)
        log = dest.stderr.read()
        print("vmm-dest said:", log.strip())
        if rc != 2:
            fail("vmm-dest exited %d, expected 2" % rc)
        if want not in log:
            fail("vmm-dest's log does not name the %s problem" % want)
        print("PASS: %s mismatch refused on both ends" % case)
    finally:
        if dest.poll() is None:
            dest.kill()


main()
