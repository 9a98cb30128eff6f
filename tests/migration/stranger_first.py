#!/usr/bin/env python3
"""Strangers connect to vmm-dest before its source does: one silent, one with the wrong session
token, one without a token, one speaking HTTP. Each is refused with an Error frame naming why
(the silent one once the real source has the place: BUSY), and the real source, proving the
token through $PAGER_TOKEN where vmm-dest read it from --token-file, migrates: both exit 0.

usage: stranger_first.py BUILD_DIR
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pgwire as w  # noqa: E402

TOKEN = b"stranger-test-token-" + os.urandom(8).hex().encode()
STRANGERS = {  # what each sends, the Error code it must get, words the Error must hold
    "wrong token": (w.hello(w.DEMAND, 1, b"a-guess-at-the-token-0000"), "TOKEN",
                    "wrong session token"),
    "no token": (w.hello(w.PUSH, 2), "TOKEN", "no session token"),
    "http": (b"GET / HTTP/1.1\r\n\r\n", "PROTOCOL", "not the pager protocol"),
}


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    build = sys.argv[1]
    if not os.path.exists("/dev/kvm"):
        print("SKIP: no /dev/kvm")
        sys.exit(77)
    tmp = tempfile.mkdtemp()
    w.write_token(os.path.join(tmp, "token"), TOKEN)
    port_file = os.path.join(tmp, "port")
    dest = subprocess.Popen([os.path.join(build, "tools", "vmm-dest"), "--listen", "127.0.0.1:0",
                             "--port-file", port_file, "--timeout", "60000",
                             "--token-file", os.path.join(tmp, "token"),
                             "--json", os.path.join(tmp, "dest.json")],
                            stderr=subprocess.PIPE, text=True, errors="replace")
    source = None
    try:
        for _ in range(200):
            if os.path.exists(port_file) and os.path.getsize(port_file):
                break
            time.sleep(0.05)
        port = int(open(port_file).read())
        # The silent one first: it must not hold the place, nor delay the others.
        silent = socket.create_connection(("127.0.0.1", port), timeout=15)
        for name, (sent, code, words) in STRANGERS.items():
            sock = socket.create_connection(("127.0.0.1", port), timeout=15)
            sock.sendall(sent)
            got, text = w.read_error(sock, timeout=5)
            print("%s: %s %s" % (name, got, text))
            if got != code or words not in text:
                fail("the %s stranger: expected an Error %s naming %r" % (name, code, words))
        env = dict(os.environ, PAGER_TOKEN=TOKEN.decode())
        source = subprocess.run([os.path.join(build, "tools", "vmm-source"),
                                 "--connect", "127.0.0.1:%d" % port, "--guest", "pattern",
                                 "--mem", "16M", "--vcpus", "1", "--switch-at", "4",
                                 "--timeout", "60000", "-q"], env=env, timeout=90)
        got, text = w.read_error(silent, timeout=15)
        print("silent: %s %s" % (got, text))
        if got not in ("BUSY", "TIMEOUT"):
            fail("the silent stranger was not refused")
        dest_rc = dest.wait(timeout=60)
        log = dest.stderr.read()
        print("vmm-dest exited %d, vmm-source %d" % (dest_rc, source.returncode))
        print("\n".join(l for l in log.splitlines() if "refused" in l or "admitted" in l))
        report = json.load(open(os.path.join(tmp, "dest.json")))
        if source.returncode != 0 or dest_rc != 0 or report["status"] != 0:
            fail("the real source did not migrate: %s" % report["failure"])
        if not report["guest_ok"] or not report["digest_match"]:
            fail("guest_ok %s digest_match %s" % (report["guest_ok"], report["digest_match"]))
        if log.count("refused the connection") < len(STRANGERS) + 1:
            fail("vmm-dest did not log every refusal")
        print("PASS: %d strangers refused, the real source migrated" % (len(STRANGERS) + 1))
    finally:
        if dest.poll() is None:
            dest.kill()


main()
