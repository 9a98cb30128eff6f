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
		--json "$d/source.json" >"$d/source.out" 2>"$d/source.err"
	src=$?
	wait $dpid
	dst=$?
	rly=none
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
for arg in $(cat /proc/cmdline); do
	case $arg in nested.cases=*) cases=${arg#nested.cases=} ;; esac
done
want() { [ "$cases" = all ] || echo ",$cases," | grep -q ",$1,"; }

echo "NESTED-JSON caps - $(vmm-caps --json)"

# Post-copy with nothing copied ahead: every page comes after the switch-over, through the
# listener, which runs before the restore. No pre-paging, so the nested state's pages (last in
# the guest's memory) are fetched on demand when KVM touches them, not pushed ahead.
want demand && run_case demand "" "--prepage 0"
# The control: the same guest with every page pre-copied (stop-and-copy), so nothing faults.
want precopy && run_case precopy "" "--prepage 0 --precopy-rounds 2 --stop-and-copy"
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
want faults && run_case faults "" "" \
	"delay=100us..1ms;reorder:push@window=8;dup@p=0.05;corrupt:push@p=0.02"
echo "NESTED-DONE"
