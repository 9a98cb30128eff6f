"""The wire protocol (docs/protocol.md) by hand, for scripted peers in the tests: frames,
the few protobuf fields they need, and reading frames back, without a protobuf library."""
import os
import socket
import struct
import time

VERSION = 5
MAGIC = 0x50474D31
HELLO, LAYOUT, PAGE, ERROR, VM_CONFIG, VM_STATE, VCPU_STATE, SWITCHOVER = 1, 2, 4, 7, 8, 9, 10, 12
DEMAND, PUSH = 1, 2
PAGE_FLAG_DEMAND = 0x2
ERROR_CODES = {1: "PROTOCOL", 2: "VERSION", 3: "LAYOUT", 4: "RANGE", 5: "INTERNAL", 6: "BUSY",
               7: "STREAM", 8: "TOKEN", 9: "TIMEOUT", 10: "SESSION"}


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


def hello(channel, session, token=b"", version=VERSION, resume=False):
    body = (varint(1 << 3 | 5) + struct.pack("<I", MAGIC) + field_varint(2, version) +
            field_varint(3, os.sysconf("SC_PAGE_SIZE")) + field_varint(5, channel) +
            field_varint(6, session))
    if resume:
        body += field_varint(7, 1)
    if token:
        body += field_bytes(8, token)
    return frame(HELLO, body)


def region(rid, gpa, size):
    return field_bytes(1, field_varint(1, rid) + field_varint(2, gpa) + field_varint(3, size) +
                       field_varint(4, 1))


def layout(regions):
    """A MemoryLayout frame of (gpa, size) regions, ids in order."""
    return frame(LAYOUT, b"".join(region(i, gpa, size) for i, (gpa, size) in enumerate(regions)))


def recv_exact(sock, n, deadline):
    data = b""
    while len(data) < n:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(n - len(data))
        except (socket.timeout, ConnectionResetError):
            return None
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(sock, timeout=15.0):
    """(type, body), or (None, b"") when the peer closed or nothing came in time."""
    deadline = time.monotonic() + timeout
    head = recv_exact(sock, 8, deadline)
    if head is None:
        return None, b""
    length, mtype, _ = struct.unpack("<IHH", head)
    body = recv_exact(sock, length, deadline)
    return (mtype, body) if body is not None else (None, b"")


def parse_fields(body):
    """{field number: value} of a flat protobuf body (varints and length-delimited only)."""
    fields, i = {}, 0
    while i < len(body):
        key, i = _read_varint(body, i)
        num, wtype = key >> 3, key & 7
        if wtype == 0:
            fields[num], i = _read_varint(body, i)
        elif wtype == 2:
            n, i = _read_varint(body, i)
            fields[num], i = body[i:i + n], i + n
        elif wtype == 1:
            fields[num], i = struct.unpack("<Q", body[i:i + 8])[0], i + 8
        elif wtype == 5:
            fields[num], i = struct.unpack("<I", body[i:i + 4])[0], i + 4
        else:
            raise ValueError("wire type %d" % wtype)
    return fields


def _read_varint(data, i):
    v = shift = 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def read_error(sock, timeout=15.0):
    """The Error frame the peer sends: (code name, text), or (None, what came instead)."""
    mtype, body = read_frame(sock, timeout)
    if mtype != ERROR:
        return None, "type %s" % mtype
    f = parse_fields(body)
    return ERROR_CODES.get(f.get(1, 0), str(f.get(1))), f.get(2, b"").decode(errors="replace")


def write_token(path, token):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, token + b"\n")
    os.close(fd)
