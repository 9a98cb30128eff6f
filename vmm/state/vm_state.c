// SPDX-License-Identifier: GPL-2.0-only
/* VM-level state: kvmclock, the in-kernel PIC/IOAPIC and PIT. Order: vcpu_state.h. */
#include "vcpu_state.h"

#include "clock.h"
#include "kvm_ioctl.h"

int vm_state_save(struct vm *vm, struct vm_state *st)
{
	unsigned int i;
	int r;

	memset(st, 0, sizeof(*st));
	r = vm_ioctl(vm, KVM_GET_CLOCK, &st->clock);
	if (r < 0)
		return r;
	st->parts |= VM_PART_CLOCK;

	if (vm->has_irqchip) {
		for (i = 0; i < VM_STATE_NR_IRQCHIPS; i++) {
			st->irqchip[i].chip_id = i;
			r = vm_ioctl(vm, KVM_GET_IRQCHIP, &st->irqchip[i]);
			if (r < 0)
				return r;
		}
		st->parts |= VM_PART_IRQCHIP;
	}
	if (vm->has_pit) {
		r = vm_ioctl(vm, KVM_GET_PIT2, &st->pit);
		if (r < 0)
			return r;
		st->parts |= VM_PART_PIT;
	}
	return 0;
}

static void hook_begin(const struct restore_hooks *hooks, const char *ioctl)
{
	if (hooks && hooks->begin)
		hooks->begin(hooks->opaque, RESTORE_VM, ioctl);
}

static void hook_end(const struct restore_hooks *hooks, const char *ioctl, int r,
		     uint64_t start)
{
	if (hooks && hooks->end)
		hooks->end(hooks->opaque, RESTORE_VM, ioctl, r, clock_now_ns() - start);
}

int vm_state_restore_devices(struct vm *vm, const struct vm_state *st,
			     const struct restore_hooks *hooks)
{
	uint64_t start;
	unsigned int i;
	int r = 0;

	if ((st->parts & VM_PART_IRQCHIP) && !vm->has_irqchip) {
		pr_err("the saved VM has an in-kernel irqchip, this one has not");
		return -EINVAL;
	}
	if ((st->parts & VM_PART_PIT) && !vm->has_pit) {
		pr_err("the saved VM has an in-kernel PIT, this one has not");
		return -EINVAL;
	}
	if (st->parts & VM_PART_IRQCHIP) {
		hook_begin(hooks, "KVM_SET_IRQCHIP");
		start = clock_now_ns();
		for (i = 0; i < VM_STATE_NR_IRQCHIPS && r == 0; i++)
			r = vm_ioctl(vm, KVM_SET_IRQCHIP, &st->irqchip[i]);
		hook_end(hooks, "KVM_SET_IRQCHIP", r, start);
		if (r < 0)
			return r;
	}
	if (st->parts & VM_PART_PIT) {
		hook_begin(hooks, "KVM_SET_PIT2");
		start = clock_now_ns();
		r = vm_ioctl(vm, KVM_SET_PIT2, &st->pit);
		hook_end(hooks, "KVM_SET_PIT2", r, start);
	}
	return r;
}

#define MSR_IA32_TSC 0x10
#define MSR_IA32_TSC_DEADLINE 0x6e0

static const struct kvm_msr_entry *find_msr(const struct vcpu_state *st, uint32_t index)
{
	uint32_t i;

	for (i = 0; i < st->nmsrs; i++)
		if (st->msrs[i].index == index)
			return &st->msrs[i];
	return NULL;
}

int vm_state_restore_tsc(struct vm *vm, struct vcpu_state *const *states,
			 const struct restore_hooks *hooks)
{
	const struct kvm_msr_entry *tsc, *deadline;
	uint64_t start;
	unsigned int i;
	int r = 0;

	hook_begin(hooks, "KVM_SET_MSRS (TSC)");
	start = clock_now_ns();
	/*
	 * Back to back, with nothing that can block in between: KVM keeps host writes of the TSC
	 * in sync only when they come within a second of each other, and the per-vCPU restore may
	 * have waited on the network (kvmclock pages) between two vCPUs. The deadline is relative
	 * to the TSC, so it follows it.
	 */
	for (i = 0; !r && i < vm->nr_vcpus; i++) {
		tsc = find_msr(states[i], MSR_IA32_TSC);
		deadline = find_msr(states[i], MSR_IA32_TSC_DEADLINE);
		if (tsc)
			r = vcpu_set_msr(vm->vcpus[i], tsc->index, tsc->data);
		if (!r && deadline)
			r = vcpu_set_msr(vm->vcpus[i], deadline->index, deadline->data);
	}
	hook_end(hooks, "KVM_SET_MSRS (TSC)", r, start);
	return r;
}

int vm_state_restore_clock(struct vm *vm, const struct vm_state *st,
			   const struct restore_hooks *hooks)
{
	struct kvm_clock_data clock = { .clock = st->clock.clock };
	uint64_t start;
	int r;

	if (!(st->parts & VM_PART_CLOCK))
		return 0;
	/*
	 * Both guest clocks stand still across the downtime, as in QEMU: KVM_CLOCK_REALTIME would
	 * move kvmclock on by the downtime while each vCPU's TSC restarts from its saved value,
	 * and a guest whose two clocks disagree by the downtime marks its TSC unstable.
	 */
	hook_begin(hooks, "KVM_SET_CLOCK");
	start = clock_now_ns();
	r = vm_ioctl(vm, KVM_SET_CLOCK, &clock);
	hook_end(hooks, "KVM_SET_CLOCK", r, start);
	return r;
}
