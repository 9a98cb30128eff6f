/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small VMM on raw /dev/kvm ioctls: the system, VM and vCPU handles, memory slots, I/O
 * traps, the run loop and vCPU threads.
 *
 * Every function returns 0 (or a count) on success and -errno on failure, after logging what
 * failed with the ioctl's name; none exits. The VMM never touches guest memory on its own:
 * the caller maps it (so it can register it with userfaultfd before anything runs) and only
 * the explicit vm_gpa_*() calls read or write it.
 */
#ifndef VMM_KVM_H
#define VMM_KVM_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kvm_compat.h"

typedef uint64_t gpa_t; /* guest-physical address */

#define KVM_API_VERSION_REQUIRED 12
#define VM_MAX_SLOTS 16
#define VM_MAX_VCPUS 64
#define VM_MAX_IO_TRAPS 16

struct vm;
struct vcpu;

/* ---- /dev/kvm (kvm.c) ---- */

/* Opens /dev/kvm and checks KVM_GET_API_VERSION. Returns the fd, or -errno (-ENOENT: no KVM). */
int kvm_open(void);
/* KVM_CHECK_EXTENSION on /dev/kvm: the capability's value (0: absent), or -errno. */
int kvm_check_cap(int kvm_fd, long cap);
/* KVM_GET_MSR_INDEX_LIST / KVM_GET_MSR_FEATURE_INDEX_LIST into a malloc'd list. */
int kvm_get_msr_index_list(int kvm_fd, struct kvm_msr_list **list);
int kvm_get_msr_feature_index_list(int kvm_fd, struct kvm_msr_list **list);
/* KVM_GET_SUPPORTED_CPUID into a malloc'd table, grown until it fits. */
int kvm_get_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **cpuid);

/* ---- VM (vm.c) ---- */

struct vm_slot {
	uint32_t slot;
	uint32_t flags; /* KVM_MEM_* */
	gpa_t gpa;
	uint64_t size;
	void *hva;
};

/*
 * An I/O trap handler: one call per element of a port I/O or MMIO access. For a write
 * (OUT, MMIO store) data holds len bytes from the guest; for a read the handler fills it.
 * Returns VM_IO_CONTINUE, VM_IO_STOP (the run loop returns after completing the access)
 * or -errno (the run loop fails with it).
 */
enum { VM_IO_CONTINUE = 0, VM_IO_STOP = 1 };
typedef int (*vm_io_fn)(struct vcpu *vcpu, uint64_t addr, void *data, uint32_t len,
			bool is_write, void *opaque);

struct vm_io_trap {
	bool mmio;
	uint64_t base;
	uint64_t len;
	vm_io_fn fn;
	void *opaque;
};

struct vm {
	int kvm_fd;
	int fd;
	int run_size; /* KVM_GET_VCPU_MMAP_SIZE */
	bool has_irqchip;
	bool has_pit;
	unsigned int nr_slots;
	struct vm_slot slots[VM_MAX_SLOTS];
	unsigned int nr_traps;
	struct vm_io_trap traps[VM_MAX_IO_TRAPS];
	unsigned int nr_vcpus;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	/* MSRs of KVM_GET_MSR_INDEX_LIST that KVM_GET_MSRS reads here (msrs.c), probed once. */
	pthread_mutex_t msr_lock;
	struct kvm_msr_list *readable_msrs;
};

int vm_create(struct vm **out);
/* Joins nothing: stop and join the vCPU threads first. Frees the vCPUs and the VM. */
void vm_destroy(struct vm *vm);
/* KVM_CHECK_EXTENSION on the VM (the per-VM answer, e.g. for NESTED_STATE or XSAVE2). */
int vm_check_cap(struct vm *vm, long cap);
/* The slot with this number, NULL if none. */
struct vm_slot *vm_slot_find(struct vm *vm, uint32_t slot);
/* KVM_SET_USER_MEMORY_REGION over caller-mapped memory; size 0 deletes the slot. */
int vm_set_memory(struct vm *vm, uint32_t slot, gpa_t gpa, uint64_t size, void *hva,
		  uint32_t flags);
/* KVM_CREATE_IRQCHIP (PIC, IOAPIC, a LAPIC per vCPU): before the first vCPU. */
int vm_create_irqchip(struct vm *vm);
/* KVM_CREATE_PIT2, after the irqchip. */
int vm_create_pit(struct vm *vm);
/* Registers a port I/O (mmio false) or MMIO range. Before the vCPUs run. */
int vm_io_register(struct vm *vm, bool mmio, uint64_t base, uint64_t len, vm_io_fn fn,
		   void *opaque);
const struct vm_io_trap *vm_io_find(const struct vm *vm, bool mmio, uint64_t addr,
				    uint32_t len);

/*
 * Dirty logging (dirty_log.c). vm_dirty_log_get() fills one bit per 4 KiB page of the slot
 * (bitmap of (size / 4096 + 63) / 64 words) with the pages written since the last call, and
 * clears the log.
 */
int vm_dirty_log_enable(struct vm *vm, uint32_t slot);
int vm_dirty_log_disable(struct vm *vm, uint32_t slot);
int vm_dirty_log_get(struct vm *vm, uint32_t slot, uint64_t *bitmap);

/* The explicit guest-memory API: the only calls of the VMM that touch guest memory. */
void *vm_gpa_to_hva(const struct vm *vm, gpa_t gpa, uint64_t len);
int vm_gpa_write(struct vm *vm, gpa_t gpa, const void *src, uint64_t len);
int vm_gpa_read(const struct vm *vm, gpa_t gpa, void *dst, uint64_t len);

/* ---- vCPU (vcpu.c) ---- */

enum vcpu_stop_reason {
	VCPU_STOP_NONE,
	VCPU_STOP_HANDLER, /* an I/O trap handler returned VM_IO_STOP */
	VCPU_STOP_REQUEST, /* vcpu_stop() */
	VCPU_STOP_HLT,	   /* KVM_EXIT_HLT: the guest halted with no in-kernel irqchip */
};

struct vcpu {
	struct vm *vm;
	uint32_t id;
	int fd;
	struct kvm_run *run;
	/* Name of the ioctl this vCPU is inside (NULL: none), for watchdogs and step logs. */
	_Atomic(const char *) ioctl_name;
	atomic_bool stop_requested;
	/* The thread inside vcpu_run_loop(), if any: vcpu_stop() kicks it (under kick_lock). */
	pthread_mutex_t kick_lock;
	bool in_loop;
	pthread_t loop_thread;
	/*
	 * Kernel id of the thread that last entered vcpu_run_loop() (0: none yet): userfaultfd
	 * names a faulting thread by it, so a watchdog maps a stuck fault to this vCPU.
	 */
	_Atomic pid_t run_tid;
	/*
	 * Set (release) once the first KVM_RUN has returned. Until then a fault on run_tid is one
	 * of the first run's, among them the pages KVM deferred from the restore (nested state).
	 */
	atomic_bool first_run_done;
	/* vcpu_thread_start() */
	bool thread_started;
	pthread_t thread;
	int thread_ret;
	enum vcpu_stop_reason thread_why;
};

/* KVM_CREATE_VCPU + mmap of kvm_run. The vCPU belongs to the VM (freed by vm_destroy). */
int vm_vcpu_add(struct vm *vm, uint32_t id, struct vcpu **out);
static inline const char *vcpu_current_ioctl(struct vcpu *vcpu)
{
	return atomic_load(&vcpu->ioctl_name);
}

int vcpu_get_regs(struct vcpu *vcpu, struct kvm_regs *regs);
int vcpu_set_regs(struct vcpu *vcpu, const struct kvm_regs *regs);
int vcpu_get_sregs(struct vcpu *vcpu, struct kvm_sregs *sregs);
int vcpu_set_sregs(struct vcpu *vcpu, const struct kvm_sregs *sregs);
int vcpu_get_mp_state(struct vcpu *vcpu, struct kvm_mp_state *mp);
int vcpu_set_mp_state(struct vcpu *vcpu, const struct kvm_mp_state *mp);
/* KVM_TRANSLATE: guest-virtual to guest-physical through the vCPU's current page tables. */
int vcpu_translate(struct vcpu *vcpu, uint64_t gva, gpa_t *gpa);

/* ---- CPUID (cpuid.c) ---- */

/* KVM_GET_SUPPORTED_CPUID with this vCPU's APIC id, KVM paravirt leaves included -> SET_CPUID2. */
int vcpu_init_cpuid(struct vcpu *vcpu);
int vcpu_set_cpuid(struct vcpu *vcpu, const struct kvm_cpuid_entry2 *entries, uint32_t n);
/* KVM_GET_CPUID2 into entries[max]; *n is the count. -E2BIG if it does not fit. */
int vcpu_get_cpuid(struct vcpu *vcpu, struct kvm_cpuid_entry2 *entries, uint32_t max,
		   uint32_t *n);

/* ---- MSRs (msrs.c) ---- */

int vcpu_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *value);
int vcpu_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value);
/*
 * The MSRs of KVM_GET_MSR_INDEX_LIST that KVM_GET_MSRS can read on this VM, probed one by
 * one on the first call (with this vCPU, after its CPUID is set) and kept in the VM.
 */
int vm_readable_msrs(struct vm *vm, struct vcpu *probe, const struct kvm_msr_list **list);

/* ---- Running (vcpu_run.c, vcpu_thread.c) ---- */

/* One KVM_RUN: 0 or -errno (-EINTR on a signal or immediate_exit). Nothing logged. */
int __vcpu_run(struct vcpu *vcpu);
/*
 * Re-enters KVM_RUN with immediate_exit so KVM completes a pending port I/O or MMIO
 * without running guest code: after it the vCPU's state is consistent and can be saved.
 */
int vcpu_complete_io(struct vcpu *vcpu);
/*
 * Runs the vCPU until a trap handler or vcpu_stop() asks to stop, or the guest halts: then
 * it completes the pending I/O and returns 0 with *why set. An exit the VMM cannot handle
 * (SHUTDOWN, FAIL_ENTRY, INTERNAL_ERROR, an unhandled port or address, an unknown exit)
 * is logged with the vCPU's registers and returns -EIO; vcpu->run->exit_reason tells which.
 */
int vcpu_run_loop(struct vcpu *vcpu, enum vcpu_stop_reason *why);
/*
 * Asks the vCPU's run loop to stop, from any thread: sets immediate_exit and kicks the
 * vCPU thread with VCPU_KICK_SIGNAL. A vCPU blocked in a userfaultfd fault inside KVM_RUN
 * stops only once the fault is served (no signal but SIGKILL ends that wait).
 */
#define VCPU_KICK_SIGNAL SIGUSR1
void vcpu_stop(struct vcpu *vcpu);

/* Runs vcpu_run_loop() on a new thread. */
int vcpu_thread_start(struct vcpu *vcpu);
/* Waits for it; returns the loop's result and sets *why (may be NULL). */
int vcpu_thread_join(struct vcpu *vcpu, enum vcpu_stop_reason *why);
/* All vCPUs of the VM: start each on its own thread, stop them all, join them all. */
int vm_vcpus_start(struct vm *vm);
void vm_vcpus_stop(struct vm *vm);
/* Returns the first error of any vCPU, 0 if none failed. */
int vm_vcpus_join(struct vm *vm);

/* ---- Diagnostics (vcpu_dump.c) ---- */

const char *kvm_exit_reason_name(uint32_t exit_reason);
/* Logs the general and system registers as errors (for fatal exits). */
void vcpu_dump(struct vcpu *vcpu);
/*
 * Logs up to 16 bytes at the guest's RIP, if the page is mapped and resident on the host
 * (never faults in a missing page: that could block on userfaultfd).
 */
void vcpu_dump_code(struct vcpu *vcpu);

#endif
