# SPDX-License-Identifier: GPL-2.0-only
"""What each case of scenario.sh must show, on the stock KVM and on the patched one
(kvm-patch/: KVM_SET_NESTED_STATE maps the nested state's pages itself, no deferred request).

judge_all() prints, for every case, the table of the nested state's pages (each with the
restore ioctl or first KVM_RUN during which it faulted) and returns the failures, in words.
"""

CASES = ["demand", "demand-2vcpu", "demand-shmem", "demand-hugetlb", "one-connection", "precopy", "wrong-order", "wrong-order-deferred",
         "cut-first-fault", "source-killed", "faults"]

FIRST_RUN = "KVM_RUN (first)"
SET_NESTED = "KVM_SET_NESTED_STATE"
MSRPM = "nested MSR permission map"
IOPM = "nested I/O permission map"
VMCB12 = "vmcb12"
HSAVE = "SVM host save area"
NESTED_PAGES = [VMCB12, MSRPM, IOPM, HSAVE]


class Case:
    def __init__(self, name):
        self.name = name
        self.ended = False
        self.rc = {}
        self.logs = {}
        self.json = {}

    def log(self, end):
        return "\n".join(self.logs.get(end, []))


def page_rows(dest):
    """One row a 4 KiB page of what the vCPU's state points at: (gpa, what, faults)."""
    faults = {}
    for f in dest.get("restore_fault_pages", []):
        faults.setdefault(int(f["gpa"], 16), []).append(f)
    rows = []
    for sp in dest.get("state_pages", []):
        for p in sp["pages"]:
            first = int(p["gpa"], 16) & ~0xfff
            end = int(p["gpa"], 16) + p["len"]
            for gpa in range(first, end, 4096):
                rows.append((gpa, p["what"], faults.get(gpa, [])))
    return rows


def print_table(case, label, dest):
    nested = [sp.get("nested") for sp in dest.get("state_pages", [])]
    print("\n%s (%s KVM): vCPU nested state %s" % (
        case.name, label, ", ".join(
            "%s %d bytes%s" % (n["format"], n["size"], ", guest mode" if n["guest_mode"] else "")
            if n else "none" for n in nested) or "none"))
    print("  %-12s %-28s %-26s %-8s %s" % ("guest page", "what the state says", "faulted during",
                                           "thread", "at ms"))
    for gpa, what, faults in page_rows(dest):
        if not faults:
            print("  %-12s %-28s %-26s" % (hex(gpa), what,
                                           "-- (not during the restore or first run)"))
        for f in faults:
            print("  %-12s %-28s %-26s %-8s %.3f" % (hex(gpa), what, f["during"], f["thread"],
                                                    f["at_ms"]))
    other = [f for f in dest.get("restore_fault_pages", []) if not f.get("what")]
    if other:
        by = {}
        for f in other:
            by[f["during"]] = by.get(f["during"], 0) + 1
        print("  and %d other pages (code, page tables, stack, data): %s" % (
            len(other), ", ".join("%d during %s" % (n, d) for d, n in sorted(by.items()))))
    steps = [s for s in dest.get("restore_steps", []) if s.get("faults")]
    print("  restore ioctls that faulted: %s" % (
        ", ".join("%s (vCPU %d): %d" % (s["ioctl"], s["vcpu"], s["faults"]) for s in steps)
        or "none"))


class Checks:
    def __init__(self, case):
        self.case = case
        self.failures = []

    def that(self, ok, msg):
        if not ok:
            self.failures.append("%s: %s" % (self.case.name, msg))
        return ok


def faulted(dest, what):
    return [f for f in dest.get("restore_fault_pages", []) if f.get("what") == what]


def check_migrated(c, case, dest):
    """Both ends succeeded and every check of the destination holds."""
    c.that(case.rc.get("dest") == "0", "vmm-dest exited %s, expected 0: %s"
           % (case.rc.get("dest"), dest.get("failure", "")))
    c.that(case.rc.get("source") == "0", "vmm-source exited %s, expected 0" % case.rc.get("source"))
    c.that(dest.get("guest_ok") is True, "the nested guest's check: %s" % dest.get("guest_check"))
    c.that(dest.get("digest_match") is True, "memory digest %s, the source's %s"
           % (dest.get("digest"), dest.get("source_digest")))
    c.that(dest.get("state_digest_match") is True, "the state digest differs")


def check_guest_mode(c, dest):
    nested = [sp.get("nested") for sp in dest.get("state_pages", [])]
    c.that(nested and all(n and n["format"] == "svm" and n["guest_mode"] and n["size"] == 4224
                          for n in nested),
           "every vCPU must be saved in guest mode with a 4224-byte SVM nested state: %s" % nested)
    whats = {p["what"] for sp in dest.get("state_pages", []) for p in sp["pages"]}
    c.that(set(NESTED_PAGES) <= whats, "the state must point at %s; it points at %s"
           % (NESTED_PAGES, sorted(whats)))


def check_nested_faults(c, dest, patched):
    """Where KVM touched the nested state's pages, and that the listener served them."""
    msrpm = faulted(dest, MSRPM)
    steps = {s["ioctl"]: s for s in dest.get("restore_steps", [])}
    if patched:
        c.that(msrpm and all(f["during"] == SET_NESTED and f["thread"] == "restore"
                             for f in msrpm),
               "the MSR permission map must fault inside KVM_SET_NESTED_STATE on the restoring "
               "thread: %s" % msrpm)
        c.that(steps.get(SET_NESTED, {}).get("faults", 0) >= 1,
               "KVM_SET_NESTED_STATE itself must fault (listener served): %s"
               % steps.get(SET_NESTED))
    else:
        c.that(msrpm and all(f["during"] == FIRST_RUN and f["thread"] == "vcpu" for f in msrpm),
               "the MSR permission map must fault at the first KVM_RUN on the vCPU thread "
               "(KVM_REQ_GET_NESTED_STATE_PAGES): %s" % msrpm)
        c.that(steps.get(SET_NESTED, {}).get("faults", 1) == 0,
               "stock KVM_SET_NESTED_STATE touches no guest page: %s" % steps.get(SET_NESTED))
    vcpus = len(dest.get("state_pages", []))
    c.that(len({f["gpa"] for f in msrpm}) == 2 * vcpus,
           "both pages of each vCPU's MSR permission map must fault (KVM reads its offsets in "
           "both): %s" % msrpm)
    for what in (VMCB12, IOPM):
        # Read when the nested guest first exits, on both KVMs: in the first KVM_RUN.
        got = faulted(dest, what)
        c.that(len({f["gpa"] for f in got}) == vcpus and
               all(f["during"] == FIRST_RUN and f["thread"] == "vcpu" for f in got),
               "each vCPU's %s must fault through the listener in its first KVM_RUN: %s"
               % (what, got))


def check_hugetlb(c, dest, patched):
    """Guest memory in 2 MiB hugetlb pages: one fault brings a whole huge page, so KVM's
    accesses fault once a huge page. KVM_SET_MSRS faults the kvmclock's (the boot area's); the
    nested state's pages (at the top of the workload, another huge page) fault where the
    anonymous case's do: the first KVM_RUN on stock KVM, KVM_SET_NESTED_STATE when patched."""
    pager = dest.get("pager", {})
    c.that(dest.get("backing") == "hugetlb", "guest memory on the destination: %r"
           % dest.get("backing"))
    c.that(pager.get("pages_demand", 1) % 512 == 0 and pager.get("pages_push", 1) % 512 == 0,
           "pages must come in whole 2 MiB pages: %s demanded, %s pushed"
           % (pager.get("pages_demand"), pager.get("pages_push")))
    clock = [f for f in dest.get("restore_fault_pages", [])
             if f["during"] == "KVM_SET_MSRS" and f["thread"] == "restore"]
    c.that(len(clock) == 1 and clock[0]["what"].startswith("kvmclock"),
           "KVM_SET_MSRS must fault one kvmclock page (its huge page brings the other): %s"
           % clock)
    state = [f for f in dest.get("restore_fault_pages", [])
             if f.get("what") in NESTED_PAGES]
    where = SET_NESTED if patched else FIRST_RUN
    c.that(len(state) == 1 and state[0]["during"] == where,
           "one fault on the nested state's huge page, in %s: %s" % (where, state))


def judge_case(case, label):
    patched = label != "stock"
    c = Checks(case)
    dest = case.json.get("dest", {})
    if not c.that(case.ended, "did not end (the scenario was cut off)"):
        return c.failures
    if case.name == "one-connection":
        check_migrated(c, case, dest)
        check_guest_mode(c, dest)
        pager = dest.get("pager", {})
        c.that(dest.get("connections") == 1, "connections admitted: %r" % dest.get("connections"))
        c.that(pager.get("pages_push", 0) > 0, "nothing came by the push on the one connection: "
               "%s" % pager.get("pages_push"))
        clock = [f for f in dest.get("restore_fault_pages", [])
                 if f["during"] == "KVM_SET_MSRS" and f["thread"] == "restore"]
        # The push may bring them first (it is not held back on one connection): at most
        # those two, and nothing else, fault in KVM_SET_MSRS.
        c.that({f["what"] for f in clock} <= {"kvmclock system time", "kvmclock wall clock"},
               "KVM_SET_MSRS faulted what is not a kvmclock page: %s" % clock)
    elif case.name == "demand-hugetlb":
        check_migrated(c, case, dest)
        check_guest_mode(c, dest)
        check_hugetlb(c, dest, patched)
    elif case.name in ("demand", "demand-2vcpu", "demand-shmem", "cut-first-fault", "faults"):
        check_migrated(c, case, dest)
        check_guest_mode(c, dest)
        if case.name.startswith("demand"):
            check_nested_faults(c, dest, patched)
        c.that(dest.get("backing") == ("shmem" if case.name == "demand-shmem" else "anon"),
               "guest memory on the destination: %r" % dest.get("backing"))
        if case.name == "demand-shmem":
            clock = [f for f in dest.get("restore_fault_pages", [])
                     if f["during"] == "KVM_SET_MSRS" and f["thread"] == "restore"]
            c.that({f["what"] for f in clock} == {"kvmclock system time", "kvmclock wall clock"},
                   "KVM_SET_MSRS must fault both kvmclock pages of the memfd: %s" % clock)
        if case.name == "cut-first-fault":
            c.that(dest.get("pager", {}).get("reconnects", 0) >= 1,
                   "the cut must be recovered by a resumed session: %s reconnects"
                   % dest.get("pager", {}).get("reconnects"))
            c.that(case.rc.get("relay") == "0", "pager-relay exited %s" % case.rc.get("relay"))
        if case.name == "faults":
            c.that(case.rc.get("relay") == "0", "pager-relay exited %s" % case.rc.get("relay"))
            fired = [r for r in case.json.get("relay", {}).get("rules", []) if r.get("fired")]
            c.that(fired, "no fault rule fired: %s" % case.json.get("relay", {}).get("rules"))
    elif case.name == "precopy":
        check_migrated(c, case, dest)
        check_guest_mode(c, dest)
        c.that(dest.get("pages_precopy") == dest.get("pages_total"),
               "stop-and-copy must leave every page on the destination: %s of %s pre-copied"
               % (dest.get("pages_precopy"), dest.get("pages_total")))
        c.that(not dest.get("restore_fault_pages") and dest.get("faults") == 0,
               "with every page present nothing may fault: %s" % dest.get("restore_fault_pages"))
    elif case.name == "wrong-order" or (case.name == "wrong-order-deferred" and patched):
        # KVM blocks inside a restore ioctl with nobody serving: the watchdog names it.
        ioctl = SET_NESTED if patched else "KVM_SET_MSRS"
        failure = dest.get("failure", "")
        c.that(case.rc.get("dest") == "4", "vmm-dest exited %s, expected 4 (watchdog): %s"
               % (case.rc.get("dest"), failure))
        c.that(failure.startswith("watchdog: " + ioctl + " on vCPU 0")
               and "nobody is fetching" in failure,
               "the watchdog must name %s and the page nobody fetches: %r" % (ioctl, failure))
        c.that(dest.get("failed_in") == "restore", "failed in %r" % dest.get("failed_in"))
        what = MSRPM if patched else "kvmclock"
        c.that(what in failure, "the report must say the page is the %s: %r" % (what, failure))
        if patched:
            pages = {p["gpa"]: p["what"] for sp in dest.get("state_pages", [])
                     for p in sp["pages"]}
            msrpm = [g for g, w in pages.items() if w == MSRPM]
            c.that(msrpm and ("guest page " + msrpm[0]) in failure,
                   "the report must name the MSR permission map page %s: %r" % (msrpm, failure))
    elif case.name == "source-killed":
        # The page never comes: the pager gives up after the reconnect bound; whoever waits
        # (the restoring thread in KVM_SET_NESTED_STATE, or the vCPU) ends with a clear error.
        failure = dest.get("failure", "")
        gone = "did not come back" in failure
        if patched:
            c.that(case.rc.get("dest") == "4" and failure.startswith(
                "watchdog: %s on vCPU 0" % SET_NESTED) and "the pager failed" in failure and gone,
                   "vmm-dest must exit 4, the watchdog naming KVM_SET_NESTED_STATE and the "
                   "source that never came back: exit %s, %r" % (case.rc.get("dest"), failure))
        else:
            c.that(case.rc.get("dest") == "2" and gone,
                   "vmm-dest must exit 2 naming the source that never came back: exit %s, %r"
                   % (case.rc.get("dest"), failure))
        c.that(case.rc.get("source") not in ("0", "124", "143"),
               "vmm-source was killed, yet exited %s" % case.rc.get("source"))
        c.that(dest.get("guest_ok") is not True, "a guest check cannot pass without its pages")
    elif case.name == "wrong-order-deferred":
        # Stock: the deferral hides the wrong order, the pages fault once the listener runs.
        check_migrated(c, case, dest)
        check_nested_faults(c, dest, patched)
    else:
        c.that(False, "no expectation for this case")
    return c.failures


def judge_all(cases, caps, names, label):
    failures = []
    nested = (caps or {}).get("caps", {}).get("NESTED_STATE")
    print("L1 KVM: KVM_CAP_NESTED_STATE = %s" % nested)
    if nested != 4224:
        failures.append("the L1 KVM must report KVM_CAP_NESTED_STATE 4224 (SVM), not %s" % nested)
    for name in names:
        case = cases.get(name)
        if not case:
            failures.append("%s: not run" % name)
            continue
        dest = case.json.get("dest", {})
        print_table(case, label, dest)
        print("  outcome: dest %s, source %s, relay %s; %s" % (
            case.rc.get("dest"), case.rc.get("source"), case.rc.get("relay"),
            dest.get("failure") or "guest %s, digest %s" % (
                dest.get("guest_check"), "match" if dest.get("digest_match") else "MISMATCH")))
        f = judge_case(case, label)
        if f:
            for end in ("dest", "source", "relay"):
                if case.logs.get(end):
                    print("  --- %s stderr ---\n  %s" % (end, case.log(end).replace("\n", "\n  ")))
        failures += f
    return failures


# The selftests that must pass on both KVMs: nested state saved and restored in guest mode
# (state_test, through KVM_SET_NESTED_STATE), and SMM entered from L2 and left by RSM
# (smm_test: the path that keeps the request). The others must only do on the patched KVM as
# on the stock one (under TCG some fail on both: QEMU's SVM model has no NRIP save).
MUST_PASS = ("state_test", "smm_test")


def judge_selftests(results, stock):
    failures = []
    print("\nKVM selftests (nested SVM, nested state) in the same L1, exit status:")
    print("  %-30s %-8s %s" % ("selftest", "stock", "patched"))
    for name in sorted(set(results) | set(stock or {})):
        print("  %-30s %-8s %s" % (name, (stock or {}).get(name, "-"), results.get(name, "-")))
    if not results:
        failures.append("kvm-selftests: none ran")
    for name in MUST_PASS:
        for label, r in (("stock", stock or {}), ("patched", results)):
            if r.get(name) != "0":
                failures.append("kvm-selftests: %s on the %s KVM exited %s, must pass"
                                % (name, label, r.get(name)))
    for name, rc in results.items():
        if stock is not None and stock.get(name) != rc:
            failures.append("kvm-selftests: %s exits %s on the patched KVM, %s on the stock one"
                            % (name, rc, stock.get(name)))
    return failures
