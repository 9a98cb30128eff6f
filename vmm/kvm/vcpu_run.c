// SPDX-License-Identifier: GPL-2.0-only
/*
 * The run loop: KVM_RUN, then one switch on exit_reason.
 *
 * Stopping: vcpu_stop() sets stop_requested, then kvm_run.immediate_exit, then signals the
 * thread in the loop. Whichever of the three the loop sees first, it re-enters KVM_RUN with
 * immediate_exit set, which completes a pending port I/O or MMIO without running guest
 * code and returns -EINTR: the vCPU's state is then consistent and can be saved (the KVM
 * API documentation requires this before migration). stop_requested is the only truth;
 * immediate_exit and the signal only wake the loop.
 */
#include "kvm.h"

#include <stdio.h>
#include <unistd.h>

#include "kvm_ioctl.h"

static void vcpu_kick_handler(int sig)
{
	/* Nothing: its only job is to make KVM_RUN return -EINTR. */
}

static pthread_once_t kick_once = PTHREAD_ONCE_INIT;

static void vcpu_kick_install(void)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };

	/* No SA_RESTART: KVM_RUN must come back with EINTR. */
	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

static void vcpu_set_immediate_exit(struct vcpu *vcpu, bool on)
{
	__atomic_store_n(&vcpu->run->immediate_exit, on, __ATOMIC_SEQ_CST);
}

int __vcpu_run(struct vcpu *vcpu)
{
	int r = __vcpu_ioctl_val(vcpu, KVM_RUN, 0);

	/* Once: a store on every exit would bounce the line to whoever reads it. */
	if (!atomic_load_explicit(&vcpu->first_run_done, memory_order_relaxed))
		atomic_store_explicit(&vcpu->first_run_done, true, memory_order_release);
	return r;
}

int vcpu_complete_io(struct vcpu *vcpu)
{
	int r;

	vcpu_set_immediate_exit(vcpu, true);
	r = __vcpu_run(vcpu);
	vcpu_set_immediate_exit(vcpu, false);
	if (r == -EINTR)
		return 0;
	if (r == 0) {
		/* A multi-part access produced another exit: only the run loop can serve it. */
		pr_err("vcpu %u: exit %s while completing I/O", vcpu->id,
		       kvm_exit_reason_name(vcpu->run->exit_reason));
		return -EAGAIN;
	}
	pr_err("vcpu %u: KVM_RUN (immediate_exit) failed: %s", vcpu->id, strerror(-r));
	return r;
}

void vcpu_stop(struct vcpu *vcpu)
{
	atomic_store(&vcpu->stop_requested, true);
	vcpu_set_immediate_exit(vcpu, true);
	pthread_mutex_lock(&vcpu->kick_lock);
	if (vcpu->in_loop)
		pthread_kill(vcpu->loop_thread, VCPU_KICK_SIGNAL);
	pthread_mutex_unlock(&vcpu->kick_lock);
}

static int vcpu_handle_pio(struct vcpu *vcpu, enum vcpu_stop_reason *stop)
{
	struct kvm_run *run = vcpu->run;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	const struct vm_io_trap *trap;
	uint8_t *data;
	uint32_t i;
	int r;

	if (run->io.data_offset + (uint64_t)run->io.size * run->io.count >
	    (uint64_t)vcpu->vm->run_size) {
		pr_err("vcpu %u: port I/O data outside kvm_run", vcpu->id);
		return -EIO;
	}
	trap = vm_io_find(vcpu->vm, false, run->io.port, run->io.size);
	if (!trap) {
		pr_err("vcpu %u: unhandled port I/O: %s port %#x, size %u, count %u", vcpu->id,
		       out ? "OUT" : "IN", run->io.port, run->io.size, run->io.count);
		vcpu_dump(vcpu);
		return -EIO;
	}
	data = (uint8_t *)run + run->io.data_offset;
	for (i = 0; i < run->io.count; i++, data += run->io.size) {
		r = trap->fn(vcpu, run->io.port, data, run->io.size, out, trap->opaque);
		if (r < 0)
			return r;
		if (r == VM_IO_STOP)
			*stop = VCPU_STOP_HANDLER;
	}
	return 0;
}

static int vcpu_handle_mmio(struct vcpu *vcpu, enum vcpu_stop_reason *stop)
{
	struct kvm_run *run = vcpu->run;
	const struct vm_io_trap *trap;
	int r;

	trap = vm_io_find(vcpu->vm, true, run->mmio.phys_addr, run->mmio.len);
	if (!trap || run->mmio.len > sizeof(run->mmio.data)) {
		pr_err("vcpu %u: unhandled MMIO: %s %#llx, %u bytes", vcpu->id,
		       run->mmio.is_write ? "write" : "read", run->mmio.phys_addr, run->mmio.len);
		vcpu_dump(vcpu);
		return -EIO;
	}
	r = trap->fn(vcpu, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
		     run->mmio.is_write, trap->opaque);
	if (r == VM_IO_STOP)
		*stop = VCPU_STOP_HANDLER;
	return r < 0 ? r : 0;
}

static void vcpu_report_internal_error(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t i, n = run->internal.ndata;

	pr_err("vcpu %u: KVM_EXIT_INTERNAL_ERROR, suberror %u%s", vcpu->id,
	       run->internal.suberror,
	       run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
		       " (instruction emulation failed: on kvm_pvm, guest code at CPL0 is "
		       "emulated and some instructions, e.g. SSE, are not)" :
		       "");
	if (n > sizeof(run->internal.data) / sizeof(run->internal.data[0]))
		n = sizeof(run->internal.data) / sizeof(run->internal.data[0]);
	for (i = 0; i < n; i++)
		pr_err("vcpu %u:   data[%u] = %#llx", vcpu->id, i, run->internal.data[i]);
	if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		char hex[16 * 3 + 1] = "";
		uint8_t len = run->emulation_failure.insn_size;

		if (len > sizeof(run->emulation_failure.insn_bytes))
			len = sizeof(run->emulation_failure.insn_bytes);
		for (i = 0; i < len; i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ",
				 run->emulation_failure.insn_bytes[i]);
		pr_err("vcpu %u:   instruction bytes from KVM: %s", vcpu->id, hex);
	}
}

/* The one switch. Returns 0 to go on (maybe with *stop set) or -errno to fail the loop. */
static int vcpu_handle_exit(struct vcpu *vcpu, enum vcpu_stop_reason *stop)
{
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return vcpu_handle_pio(vcpu, stop);
	case KVM_EXIT_MMIO:
		return vcpu_handle_mmio(vcpu, stop);
	case KVM_EXIT_HLT:
		*stop = VCPU_STOP_HLT;
		return 0;
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return 0;
	case KVM_EXIT_SHUTDOWN:
		pr_err("vcpu %u: KVM_EXIT_SHUTDOWN: the guest triple-faulted (an exception it "
		       "could not deliver)", vcpu->id);
		vcpu_dump(vcpu);
		vcpu_dump_code(vcpu);
		return -EIO;
	case KVM_EXIT_FAIL_ENTRY:
		pr_err("vcpu %u: KVM_EXIT_FAIL_ENTRY: hardware entry failure reason %#llx on "
		       "host cpu %u", vcpu->id,
		       run->fail_entry.hardware_entry_failure_reason, run->fail_entry.cpu);
		vcpu_dump(vcpu);
		return -EIO;
	case KVM_EXIT_INTERNAL_ERROR:
		vcpu_report_internal_error(vcpu);
		vcpu_dump(vcpu);
		vcpu_dump_code(vcpu);
		return -EIO;
	case KVM_EXIT_SYSTEM_EVENT:
		pr_err("vcpu %u: KVM_EXIT_SYSTEM_EVENT type %u (1 shutdown, 2 reset, 3 crash)",
		       vcpu->id, run->system_event.type);
		vcpu_dump(vcpu);
		return -EIO;
	case KVM_EXIT_UNKNOWN:
		pr_err("vcpu %u: KVM_EXIT_UNKNOWN: hardware exit reason %#llx", vcpu->id,
		       run->hw.hardware_exit_reason);
		vcpu_dump(vcpu);
		return -EIO;
	default:
		pr_err("vcpu %u: unexpected exit %u (%s)", vcpu->id, run->exit_reason,
		       kvm_exit_reason_name(run->exit_reason));
		vcpu_dump(vcpu);
		return -EIO;
	}
}

static void vcpu_report_run_error(struct vcpu *vcpu, int r)
{
	struct kvm_run *run = vcpu->run;

	pr_err("vcpu %u: KVM_RUN failed: %s", vcpu->id, strerror(-r));
	if (r == -EFAULT && run->exit_reason == KVM_EXIT_MEMORY_FAULT) {
		struct kvm_memory_fault_info f = kvm_run_memory_fault(run);

		pr_err("vcpu %u:   memory fault at gpa %#llx, size %#llx, flags %#llx", vcpu->id,
		       f.gpa, f.size, f.flags);
	}
	vcpu_dump(vcpu);
}

static void vcpu_loop_enter(struct vcpu *vcpu)
{
	pthread_once(&kick_once, vcpu_kick_install);
	atomic_store(&vcpu->run_tid, gettid());
	pthread_mutex_lock(&vcpu->kick_lock);
	vcpu->loop_thread = pthread_self();
	vcpu->in_loop = true;
	pthread_mutex_unlock(&vcpu->kick_lock);
}

static void vcpu_loop_leave(struct vcpu *vcpu, enum vcpu_stop_reason stop)
{
	pthread_mutex_lock(&vcpu->kick_lock);
	vcpu->in_loop = false;
	pthread_mutex_unlock(&vcpu->kick_lock);
	/* Consume the request before clearing its wake-up: a later vcpu_stop() stays pending. */
	if (stop == VCPU_STOP_REQUEST)
		atomic_store(&vcpu->stop_requested, false);
	vcpu_set_immediate_exit(vcpu, false);
}

int vcpu_run_loop(struct vcpu *vcpu, enum vcpu_stop_reason *why)
{
	enum vcpu_stop_reason stop = VCPU_STOP_NONE;
	int r;

	vcpu_loop_enter(vcpu);
	for (;;) {
		if (stop == VCPU_STOP_NONE && atomic_load(&vcpu->stop_requested))
			stop = VCPU_STOP_REQUEST;
		/* Stopping: this KVM_RUN only completes the pending access, then -EINTR. */
		if (stop != VCPU_STOP_NONE)
			vcpu_set_immediate_exit(vcpu, true);

		r = __vcpu_run(vcpu);
		if (r == -EINTR) {
			if (stop != VCPU_STOP_NONE)
				break;
			/*
			 * Another signal, or the wake-up of a request consumed earlier: clear it
			 * and look at stop_requested again before re-entering.
			 */
			vcpu_set_immediate_exit(vcpu, false);
			continue;
		}
		if (r < 0) {
			vcpu_report_run_error(vcpu, r);
			goto out;
		}
		r = vcpu_handle_exit(vcpu, &stop);
		if (r < 0)
			goto out;
	}
	r = 0;
	if (why)
		*why = stop;
out:
	vcpu_loop_leave(vcpu, r < 0 ? VCPU_STOP_NONE : stop);
	return r;
}
