#!/bin/sh
# The nested suite's scenario, run by the initramfs's init inside the QEMU TCG guest ("L1"),
# whose KVM (kvm_amd nested=1) has nested state. Each case migrates the nested guest (an SVM
# hypervisor at CPL0 VMRUNning its own guest) from vmm-source to vmm-dest over loopback, both in
# this L1, and prints what happened for tests/nested/nested.py to judge:
#
#   NESTED-CASE <name> BEGIN
#   NESTED-LOG <name> <end>: <a line of its stderr>
#   NESTED-JSON <name> <end> <its JSON report, one line>
#   NESTED-CASE <name> END dest=<exit> source=<exit> relay=<exit>
#
# The cases to run come from the kernel command line (nested.cases=a,b,...; default: all).
# Every program runs under timeout: a hang is a case that ends with exit 124 or 143.
set -u
PATH=/bin
BOUND=${NESTED_CASE_BOUND:-60}
KILL_SOURCE=
# The nested guest: 1 vCPU over 4 MiB, 4096 steps (each an intercepted RDMSR and OUT),
# switched over at step 512, with the guest in guest mode at its progress report.
GUEST="--guest nested --mem 4M --count 4096 --switch-at 2"

log_lines() { # name end file
	while IFS= read -r line; do echo "NESTED-LOG $1 $2: $line"; done <"$3"
}

# wait_port FILE: the port an end wrote, within 10 s.
wait_port() {
	i=0
	while [ ! -s "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	cat "$1" 2>/dev/null
}

# run_case NAME "DEST ARGS" "SOURCE ARGS" ["RELAY SPEC"]
run_case() {
	name=$1 dargs=$2 sargs=$3 spec=${4:-}
	d=/tmp/$name
	mkdir -p "$d"
	echo "NESTED-CASE $name BEGIN"
	(umask 077; echo "nested-$name-token" >"$d/token")
	timeout "$BOUND" vmm-dest -l 127.0.0.1:0 --port-file "$d/dport" --json "$d/dest.json" \
		--token-file "$d/token" --timeout 40000 $dargs >"$d/dest.out" 2>"$d/dest.err" &
	dpid=$!
	port=$(wait_port "$d/dport")
	rpid=
	if [ -n "$spec" ]; then
		timeout "$BOUND" pager-relay --listen 127.0.0.1:0 --to "127.0.0.1:$port" \
			--faults "$spec" --seed 7 --connections 64 --idle-exit 3000 --port-file "$d/rport" \
			--json "$d/relay.json" --log-schedule >"$d/relay.out" 2>"$d/relay.err" &
		rpid=$!
		port=$(wait_port "$d/rport")
	fi
	timeout "$BOUND" vmm-source -c "127.0.0.1:$port" --token-file "$d/token" $GUEST $sargs \
		--json "$d/source.json" >"$d/source.out" 2>"$d/source.err" &
	spid=$!
	if [ -n "$KILL_SOURCE" ]; then
		# Killed once the destination restores: its restore or first run waits on a page
		# the relay holds back, which now never comes.
		i=0
		while ! grep -q "listener running" "$d/dest.err" && [ $i -lt 200 ]; do
			sleep 0.05; i=$((i + 1))
		done
		sleep 0.5
		# busybox timeout runs the command in its own process (the watcher is the child),
		# so this pid is vmm-source itself.
		kill -9 $spid
		echo "killed vmm-source" >>"$d/source.err"
	fi
	wait $spid
	src=$?
	wait $dpid
	dst=$?
	rly=none
	# The relay would hold its stalled frame past the destination's end: stop it (SIGTERM
	# writes its report and exits 0).
	[ -n "$KILL_SOURCE" ] && [ -n "$rpid" ] && kill $rpid
	if [ -n "$rpid" ]; then
		wait $rpid
		rly=$?
		log_lines "$name" relay "$d/relay.err"
		[ -s "$d/relay.json" ] && echo "NESTED-JSON $name relay $(tr -d '\n' <"$d/relay.json")"
	fi
	log_lines "$name" dest "$d/dest.err"
	log_lines "$name" source "$d/source.err"
	[ -s "$d/dest.json" ] && echo "NESTED-JSON $name dest $(tr -d '\n' <"$d/dest.json")"
	[ -s "$d/source.json" ] && echo "NESTED-JSON $name source $(tr -d '\n' <"$d/source.json")"
	echo "NESTED-CASE $name END dest=$dst source=$src relay=$rly"
}

cases=all
demo_args=
for arg in $(cat /proc/cmdline); do
	case $arg in
	nested.cases=*) cases=${arg#nested.cases=} ;;
	nested.demo=*) demo_args=$(echo "${arg#nested.demo=}" | tr ',' ' ') ;;
	esac
done
want() { [ "$cases" = all ] || echo ",$cases," | grep -q ",$1,"; }

# scripts/demo on a host without /dev/kvm: the main job (vmm-source's own arguments from
# nested.demo=a,b,...) migrated here instead, nothing else.
if echo ",$cases," | grep -q ",demo,"; then
	GUEST= BOUND=300 run_case demo "" "$demo_args"
	echo "NESTED-DONE"
	exit 0
fi

echo "NESTED-JSON caps - $(vmm-caps --json)"

# Post-copy with nothing copied ahead: every page comes after the switch-over, through the
# listener, which runs before the restore. No pre-paging, so the nested state's pages (last in
# the guest's memory) are fetched on demand when KVM touches them, not pushed ahead.
want demand && run_case demand "" "--prepage 0"
want demand-2vcpu && run_case demand-2vcpu "" "--prepage 0 --vcpus 2 --mem 8M"
# The same with guest memory in a memfd on both ends (MISSING + MINOR, UFFDIO_CONTINUE), and
# kvmclock on: KVM also writes two missing memfd pages inside KVM_SET_MSRS.
want demand-shmem && run_case demand-shmem "" "--prepage 0 --backing shmem --kvmclock"
# And in private 2 MiB hugetlb pages (both ends: 2 x (2 MiB boot + 4 MiB) = 6 huge pages): each
# huge page faulted, moved and installed whole; KVM_SET_MSRS faults the kvmclock's, the state's
# are faulted by KVM as on anonymous memory.
if want demand-hugetlb; then
	echo 8 >/proc/sys/vm/nr_hugepages
	run_case demand-hugetlb "" "--prepage 0 --backing hugetlb --kvmclock"
	echo 0 >/proc/sys/vm/nr_hugepages
fi
# Demand and push on one connection (protocol v5): the push runs during the restore (it cannot
# be held on the one stream); KVM_SET_MSRS faults what of the kvmclock pages it did not bring.
want one-connection && run_case one-connection "" "--connections 1 --kvmclock"
# The control: the same guest, stopped at the same point (in guest mode), with every page sent
# before the switch-over (stop-and-copy), so nothing faults.
want precopy && run_case precopy "" "--prepage 0 --stop-and-copy"
# The rule broken on purpose: the state restored before the listener runs. With kvmclock on,
# KVM_SET_MSRS writes a missing page and blocks: the watchdog must name it (exit 4).
want wrong-order && run_case wrong-order "--x-restore-before-listener --watchdog 1000" \
	"--prepage 0 --kvmclock --reconnect-timeout 0"
# The same without kvmclock: nothing in the restore touches guest memory, so the stock KVM's
# deferral (KVM_REQ_GET_NESTED_STATE_PAGES) hides the wrong order.
want wrong-order-deferred && run_case wrong-order-deferred "--x-restore-before-listener" \
	"--prepage 0"
# Through the seeded fault layer: both connections cut at the first fault (KVM mapping the
# nested state's pages at the first KVM_RUN), resumed; then delay, reordering, duplicates and
# damaged pushed pages.
want cut-first-fault && run_case cut-first-fault "" "--prepage 0" "cut@phase=first-fault"
# A page that never comes: the relay holds back the MSR permission map's page, and the source
# is killed while the destination waits for it (in KVM_SET_NESTED_STATE with the patched KVM, in
# the first KVM_RUN with the stock one). A clear error within the bounds, no hang.
KILL_SOURCE=1
want source-killed && run_case source-killed "--reconnect-timeout 2000 --watchdog 1000" \
	"--prepage 0" "stall:page=1:0x3fb000@ms=60000"
KILL_SOURCE=
want faults && run_case faults "" "" \
	"delay=100us..1ms;reorder:push@window=8;dup@p=0.05;corrupt:push@p=0.02"
# KVM's own selftests of nested SVM and nested state, where the initramfs has them (the
# patched run brings them, built from the same source): NESTED-SELFTEST <name> <exit status>.
if want kvm-selftests && [ -d /selftests ]; then
	for t in /selftests/*; do
		n=${t##*/}
		timeout 120 "$t" >/tmp/$n.log 2>&1
		rc=$?
		log_lines kvm-selftests "$n" /tmp/$n.log
		echo "NESTED-SELFTEST $n $rc"
	done
fi
echo "NESTED-DONE"
