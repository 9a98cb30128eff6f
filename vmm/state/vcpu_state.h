/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Full vCPU and VM state: save in one call, restore in a fixed order of steps, each step one
 * ioctl, so that a migration destination can run its pager first and log or time each step
 * (and its watchdog can name the ioctl that blocks: vcpu_current_ioctl()).
 *
 * Restore order on the destination (following QEMU's kvm_arch_put_registers and its device
 * load order):
 *
 *   VM, before the vCPUs (vm_state_restore_devices):
 *     KVM_SET_IRQCHIP x3   PIC master, PIC slave, IOAPIC (in-kernel irqchip only)
 *     KVM_SET_PIT2         (in-kernel PIT only)
 *   each vCPU (vcpu_state_restore, table vcpu_restore_steps[]):
 *      1 KVM_SET_CPUID2       first: CPUID decides which MSRs, XSAVE components and
 *                             paravirt features the vCPU has
 *      2 KVM_SET_TSC_KHZ      before anything that reads the TSC (only if it differs)
 *      3 KVM_SET_SREGS2 / KVM_SET_SREGS
 *                             before nested state: EFER.SVME / CR4.VMXE must be set for it,
 *                             and apic_base decides how KVM reads the LAPIC state (x2APIC)
 *      4 KVM_SET_MSRS (nested features): IA32_FEAT_CTL and the VMX capability MSRs, which
 *                             KVM refuses to change once nested state put the vCPU in VMX
 *                             operation (QEMU sets them before nested state too)
 *        KVM_SET_NESTED_STATE only where KVM_CAP_NESTED_STATE is non-zero and a nested
 *                             state was saved; after sregs, before regs (QEMU's order)
 *      5 KVM_SET_REGS
 *      6 KVM_SET_XSAVE / KVM_SET_FPU
 *      7 KVM_SET_XCRS
 *      8 KVM_SET_LAPIC        after sregs (apic_base), before the MSRs: the TSC deadline
 *                             MSR must land on a LAPIC already in TSC-deadline mode
 *      9 KVM_SET_MSRS         after CPUID; kvmclock's MSR_KVM_SYSTEM_TIME_NEW and
 *                             MSR_KVM_WALL_CLOCK_NEW make KVM write guest memory *inside*
 *                             this ioctl: the pager must be serving faults by now
 *     10 KVM_SET_MP_STATE
 *     11 KVM_SET_VCPU_EVENTS  after the registers and LAPIC it refers to
 *     12 KVM_SET_DEBUGREGS    last, as in QEMU
 *   VM, after every vCPU (vm_state_restore_tsc): the TSC and TSC deadline MSRs of every
 *     vCPU again, back to back, so that KVM keeps the vCPUs' TSCs in sync even when a vCPU's
 *     KVM_SET_MSRS waited on the network
 *   VM, after every vCPU, just before they run (vm_state_restore_clock):
 *     KVM_SET_CLOCK           kvmclock must not run while the guest cannot
 */
#ifndef VMM_VCPU_STATE_H
#define VMM_VCPU_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm.h"

#define VCPU_STATE_MAX_MSRS 512
#define VCPU_STATE_MAX_CPUID 256
#define VCPU_STATE_MAX_XSAVE (64 * 1024)
#define VCPU_STATE_MAX_NESTED (64 * 1024)

/* What a state holds: one bit per component. */
enum vcpu_state_part {
	VCPU_PART_CPUID = 1u << 0,
	VCPU_PART_TSC_KHZ = 1u << 1,
	VCPU_PART_SREGS = 1u << 2,
	VCPU_PART_SREGS2 = 1u << 3,
	VCPU_PART_NESTED = 1u << 4,
	VCPU_PART_REGS = 1u << 5,
	VCPU_PART_XSAVE = 1u << 6,
	VCPU_PART_FPU = 1u << 7,
	VCPU_PART_XCRS = 1u << 8,
	VCPU_PART_LAPIC = 1u << 9,
	VCPU_PART_MSRS = 1u << 10,
	VCPU_PART_MP_STATE = 1u << 11,
	VCPU_PART_EVENTS = 1u << 12,
	VCPU_PART_DEBUGREGS = 1u << 13,
	VCPU_PART_ALL = (1u << 14) - 1,
};

struct vcpu_state {
	uint32_t parts; /* enum vcpu_state_part bits */
	uint32_t vcpu_id;
	uint32_t ncpuid;
	struct kvm_cpuid_entry2 cpuid[VCPU_STATE_MAX_CPUID];
	uint32_t tsc_khz;
	struct kvm_sregs sregs;	  /* without KVM_CAP_SREGS2 */
	struct kvm_sregs2 sregs2;
	struct kvm_regs regs;
	struct kvm_fpu fpu;	  /* without KVM_CAP_XSAVE */
	uint32_t xsave_size;	  /* KVM_CAP_XSAVE2's size, >= 4096 */
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	uint32_t nmsrs;
	struct kvm_msr_entry msrs[VCPU_STATE_MAX_MSRS];
	struct kvm_mp_state mp_state;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	uint32_t nested_size;	  /* bytes of nested, 0: none */
	_Alignas(64) uint8_t xsave[VCPU_STATE_MAX_XSAVE];
	_Alignas(8) uint8_t nested[VCPU_STATE_MAX_NESTED];
};

/* Heap-allocated and zeroed: the struct is too big for a thread's stack. */
struct vcpu_state *vcpu_state_alloc(void);
void vcpu_state_free(struct vcpu_state *st);

/*
 * Saves everything this KVM has for the vCPU. The vCPU must not be running, and a pending
 * port I/O or MMIO must be complete (vcpu_run_loop() returns that way).
 */
int vcpu_state_save(struct vcpu *vcpu, struct vcpu_state *st);

/*
 * A guest-physical area a vCPU's state points KVM at (vcpu_state_pages.c): the paravirtual
 * areas of its MSRs (kvmclock, steal time, async PF, PV EOI), the SVM host save area, and, for
 * a vCPU saved in guest mode, what its nested state refers to (SVM: vmcb12, the MSR and I/O
 * permission maps; VMX: the VMXON region, vmcs12 and the pages vmcs12 names). Restoring the
 * state makes KVM touch some of them, inside the restore ioctl or at the first KVM_RUN: a
 * destination names the pages its restore faulted on with it.
 */
struct vcpu_state_page {
	uint64_t gpa;
	uint32_t len; /* bytes */
	const char *what;
};
/* Fills up to max entries; returns how many there are (may exceed max). */
unsigned int vcpu_state_guest_pages(const struct vcpu_state *st, struct vcpu_state_page *out,
				    unsigned int max);
/* What the 4 KiB page holding gpa is, among pages[0..n): NULL if none. */
const char *vcpu_state_page_of(const struct vcpu_state_page *pages, unsigned int n,
			       uint64_t gpa);
#define VCPU_STATE_MAX_PAGES 16

/* One restore step: ioctl is its name for logs and watchdogs. */
struct vcpu_restore_step {
	const char *ioctl;
	uint32_t parts; /* the step runs if the state has any of these */
	int (*apply)(struct vcpu *vcpu, const struct vcpu_state *st);
};
extern const struct vcpu_restore_step vcpu_restore_steps[];
extern const unsigned int vcpu_restore_nr_steps;

/*
 * Told before (begin) and after (end, with the result and its duration) each step that
 * runs; vcpu_id is RESTORE_VM for the VM-level steps. Any member may be NULL.
 */
#define RESTORE_VM UINT32_MAX
struct restore_hooks {
	void (*begin)(void *opaque, uint32_t vcpu_id, const char *ioctl);
	void (*end)(void *opaque, uint32_t vcpu_id, const char *ioctl, int err,
		    uint64_t elapsed_ns);
	void *opaque;
};

/* Runs one step of the table: 0, -errno, or 1 if the state has nothing for it. */
int vcpu_restore_step(struct vcpu *vcpu, const struct vcpu_state *st, unsigned int step,
		      const struct restore_hooks *hooks);
/* Every step in order; stops at the first failure. hooks may be NULL. */
int vcpu_state_restore(struct vcpu *vcpu, const struct vcpu_state *st,
		       const struct restore_hooks *hooks);

/* ---- VM-level state (vm_state.c) ---- */

enum vm_state_part {
	VM_PART_CLOCK = 1u << 0,
	VM_PART_IRQCHIP = 1u << 1,
	VM_PART_PIT = 1u << 2,
	VM_PART_ALL = (1u << 3) - 1,
};

#define VM_STATE_NR_IRQCHIPS 3 /* KVM_IRQCHIP_PIC_MASTER, _PIC_SLAVE, _IOAPIC */

struct vm_state {
	uint32_t parts;
	struct kvm_clock_data clock;
	struct kvm_irqchip irqchip[VM_STATE_NR_IRQCHIPS];
	struct kvm_pit_state2 pit;
};

/* kvmclock, and the in-kernel irqchip and PIT when the VM has them. */
int vm_state_save(struct vm *vm, struct vm_state *st);
/* KVM_SET_IRQCHIP x3, KVM_SET_PIT2: before any vCPU state. */
int vm_state_restore_devices(struct vm *vm, const struct vm_state *st,
			     const struct restore_hooks *hooks);
/* KVM_SET_CLOCK: after every vCPU's state, just before the vCPUs run. */
/* states[i] is vCPU i's state; every vCPU of the VM must have one. */
int vm_state_restore_tsc(struct vm *vm, struct vcpu_state *const *states,
			 const struct restore_hooks *hooks);
int vm_state_restore_clock(struct vm *vm, const struct vm_state *st,
			   const struct restore_hooks *hooks);

#endif
