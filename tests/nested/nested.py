#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The nested suite: KVM_SET_NESTED_STATE for real, inside a nested-capable KVM.

This host's KVM has no nested state (or no KVM at all); a Linux guest of QEMU in software
emulation (TCG) with an AMD-V CPU model has one (kvm_amd nested=1). This script builds the
project's programs statically, packs them with busybox and Debian's KVM modules into an
initramfs (mkinitramfs.sh), boots it in qemu-system-x86_64 -accel tcg -cpu max, lets
scenario.sh migrate the nested guest there case by case, and judges what each case printed.

    nested.py --source DIR --build DIR [--cases a,b] [--modules DIR] [--label NAME] [--keep]

--modules: kvm.ko and kvm-amd.ko to load instead of the installed ones (a patched KVM);
--patched: those of kvm-patch/ (build.sh builds them, or takes them from its cache).
Exit 0 pass, 1 fail. Nothing here skips: qemu, the kernel and busybox are Debian packages
that scripts/deps installs, and a missing one is a failure that says which.
"""
import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import judge  # noqa: E402

BOOT_BOUND_S = 600  # the whole boot, every case and the power-off
STATIC_PROGRAMS = ["tools/vmm-source", "tools/vmm-dest", "tools/vmm-caps", "tools/pager-relay"]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def find_kernel():
    """The newest installed Debian kernel image whose modules (kvm-amd among them) are there
    too: the initramfs loads that kernel's own modules, so the versions must be equal."""
    images = sorted(glob.glob("/boot/vmlinuz-*"), key=os.path.getmtime, reverse=True)
    if not images:
        fail("no kernel image in /boot: install linux-image-amd64 (scripts/deps does)")
    for image in images:
        ver = image[len("/boot/vmlinuz-"):]
        if glob.glob("/lib/modules/%s/kernel/arch/x86/kvm/kvm-amd.ko*" % ver):
            return image, ver
    fail("the kernel images in /boot (%s) have no matching modules in /lib/modules (%s): "
         "the image and its modules must be the same version (reinstall linux-image-amd64)"
         % (", ".join(os.path.basename(i) for i in images),
            ", ".join(os.listdir("/lib/modules")) if os.path.isdir("/lib/modules") else "none"))


def run(argv, bound_s, what, **kw):
    """A step of the suite, bounded: its output, or a failure that says which step."""
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=kw.pop("stderr",
                           subprocess.STDOUT), text=True, timeout=bound_s, **kw)
    except subprocess.TimeoutExpired:
        fail("%s did not finish within %d s" % (what, bound_s))
    if r.returncode:
        fail("%s failed:\n%s" % (what, (r.stdout or "")[-3000:]))
    return r.stdout


def build_static(source, build):
    """The programs linked statically (libpager included), in a build tree of their own."""
    d = os.path.join(build, "nested-static")
    if not os.path.exists(os.path.join(d, "build.ninja")):
        shutil.rmtree(d, ignore_errors=True)  # a setup that failed half way
        run(["meson", "setup", d, source, "-Dstatic_programs=enabled", "-Dtests=disabled",
             "--prefer-static"], 120, "meson setup of the static build")
    run(["ninja", "-C", d] + STATIC_PROGRAMS, 600, "the static build")
    return d


def boot(kernel, initrd, cases, log_path):
    """Boots the initramfs under TCG; returns the serial console's text (bounded)."""
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        fail("qemu-system-x86_64 not found: install qemu-system-x86 (scripts/deps does)")
    argv = [qemu, "-accel", "tcg", "-cpu", "max", "-m", "1024", "-smp", "1", "-nodefaults",
            "-nographic", "-serial", "stdio", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 quiet panic=-1 nested.cases=" + cases]
    start = time.monotonic()
    with open(log_path, "w") as log:
        try:
            subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                           timeout=BOOT_BOUND_S)
        except subprocess.TimeoutExpired:
            fail("the QEMU guest did not power off within %d s (console: %s)"
                 % (BOOT_BOUND_S, log_path))
    text = open(log_path, errors="replace").read().replace("\r", "")
    print("QEMU TCG guest: booted, ran its cases and powered off in %.1f s"
          % (time.monotonic() - start))
    return text


def parse(text):
    """The cases as scenario.sh printed them: {name: Case}, the L1's vmm-caps JSON, and the
    KVM selftests' exit statuses {name: status}."""
    cases, caps, selftests = {}, None, {}
    for line in text.splitlines():
        m = re.match(r"NESTED-SELFTEST (\S+) (\S+)", line)
        if m:
            selftests[m.group(1)] = m.group(2)
            continue
        m = re.match(r"NESTED-CASE (\S+) BEGIN", line)
        if m:
            cases[m.group(1)] = judge.Case(m.group(1))
            continue
        m = re.match(r"NESTED-CASE (\S+) END dest=(\S+) source=(\S+) relay=(\S+)", line)
        if m and m.group(1) in cases:
            c = cases[m.group(1)]
            c.ended = True
            c.rc = {"dest": m.group(2), "source": m.group(3), "relay": m.group(4)}
            continue
        m = re.match(r"NESTED-LOG (\S+) (\S+): (.*)", line)
        if m and m.group(1) in cases:
            cases[m.group(1)].logs.setdefault(m.group(2), []).append(m.group(3))
            continue
        m = re.match(r"NESTED-JSON (\S+) (\S+) (.*)", line)
        if m:
            try:
                doc = json.loads(m.group(3))
            except json.JSONDecodeError as e:
                doc = {"_unparsable": str(e)}
            if m.group(1) == "caps":
                caps = doc
            elif m.group(1) in cases:
                cases[m.group(1)].json[m.group(2)] = doc
    return cases, caps, selftests


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--cases", default=",".join(judge.CASES))
    ap.add_argument("--modules", help="kvm.ko and kvm-amd.ko to load instead of the installed")
    ap.add_argument("--patched", action="store_true",
                    help="build (or take from the cache) the KVM of kvm-patch/ and load it")
    ap.add_argument("--label", default="stock", help="what the modules are, for the tables")
    ap.add_argument("--keep", action="store_true", help="keep the console log and initramfs")
    ap.add_argument("--demo", nargs=argparse.REMAINDER,
                    help="scripts/demo without /dev/kvm: migrate the guest these vmm-source "
                         "arguments describe inside the QEMU guest, print its stats")
    args = ap.parse_args()
    if args.demo is not None:
        return demo(args)

    kernel, kver = find_kernel()
    if args.patched:
        out = run(["bash", os.path.join(os.path.abspath(args.source), "kvm-patch", "build.sh"),
                   kver], 1500, "kvm-patch/build.sh (its messages are above)", stderr=None)
        args.modules = out.strip().splitlines()[-1]
        args.label = "patched"
    static = build_static(os.path.abspath(args.source), os.path.abspath(args.build))
    work = tempfile.mkdtemp(prefix="nested-", dir=os.path.abspath(args.build))
    names = args.cases.split(",")
    selftests = None
    stock_selftests = None
    if args.modules and os.path.isdir(os.path.join(args.modules, "selftests")):
        selftests = os.path.join(args.modules, "selftests")
        names.append("kvm-selftests")
        # The same selftests on the stock KVM first: the patched one must do as well.
        _, _, stock_selftests = boot_cases(kernel, kver, static, work, None, selftests,
                                           "kvm-selftests", "stock")
    cases, caps, results = boot_cases(kernel, kver, static, work, args.modules, selftests,
                                      ",".join(names), args.label)
    failures = judge.judge_all(cases, caps, [n for n in names if n != "kvm-selftests"],
                               args.label)
    if selftests:
        failures += judge.judge_selftests(results, stock_selftests)
    if failures:
        print("\nconsole logs: " + work)
        for f in failures:
            print("FAIL: " + f)
        return 1
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS: %d nested cases (%s KVM)" % (len(names), args.label))
    return 0


def demo(args):
    """The main job in the QEMU guest: one migration, its stats as vmm-dest printed them."""
    kernel, kver = find_kernel()
    static = build_static(os.path.abspath(args.source), os.path.abspath(args.build))
    work = tempfile.mkdtemp(prefix="nested-demo-", dir=os.path.abspath(args.build))
    demo_args = [a for a in args.demo if a != "--"]
    if any("," in a or " " in a for a in demo_args):
        fail("demo arguments cannot hold commas or spaces: %s" % demo_args)
    cases, _, _ = boot_cases(kernel, kver, static, work, None, None,
                             "demo nested.demo=" + ",".join(demo_args), "demo")
    case = cases.get("demo")
    if not case or not case.ended:
        fail("the demo migration did not end (console: %s)" % work)
    for end in ("source", "dest"):
        print("\n--- vmm-%s (in the QEMU guest) ---\n%s" % (end, case.log(end)))
    d = case.json.get("dest")
    if d:
        print("\ndestination stats (JSON):")
        print(json.dumps(d, indent=2))
        print("\nguest_ok=%s (%s), digest_match=%s, state_digest_match=%s, %d pages: %d demand, "
              "%d push, %d zero; fault latency p50 %s us, p99 %s us; vCPU blocktime ms %s; %d "
              "pages faulted inside the restore ioctls; guest running %.1f ms after the "
              "source's switch-over message (all inside the QEMU guest: TCG is slow)" % (
                  d["guest_ok"], d["guest_check"], d["digest_match"], d["state_digest_match"],
                  d["pages_total"], d["pages_demand"], d["pages_push"], d["pages_zero"],
                  d["fault_latency_us"]["p50"], d["fault_latency_us"]["p99"], d["blocktime_ms"],
                  d["restore_faults"], d["switchover_ms"]))
    shutil.rmtree(work, ignore_errors=True)
    rc = case.rc.get("dest", "1")
    return int(rc) if rc.isdigit() else 1


def boot_cases(kernel, kver, static, work, modules, selftests, cases, label):
    """One boot of the initramfs running these cases: (cases, caps, selftest results)."""
    here = os.path.dirname(os.path.abspath(__file__))
    initrd = os.path.join(work, "initrd-%s.gz" % label)
    argv = ["bash", os.path.join(here, "mkinitramfs.sh"), kver, static,
            os.path.join(here, "scenario.sh"), initrd, os.path.abspath(modules) if modules
            else "-"] + ([selftests] if selftests else [])
    run(argv, 120, "building the initramfs")
    print("kernel %s (%s), KVM modules: %s" % (kver, kernel, modules or "installed (stock)"))
    log_path = os.path.join(work, "console-%s.log" % label)
    text = boot(kernel, initrd, cases, log_path)
    if "NESTED-DONE" not in text:
        print(text[-4000:])
        fail("the scenario did not finish (console: %s)" % log_path)
    return parse(text)


if __name__ == "__main__":
    sys.exit(main())
