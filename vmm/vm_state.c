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

int vm_state_restore_clock(struct vm *vm, const struct vm_state *st,
			   const struct restore_hooks *hooks)
{
	struct kvm_clock_data clock = { .clock = st->clock.clock };
	int adjust = __vm_ioctl_val(vm, KVM_CHECK_EXTENSION, KVM_CAP_ADJUST_CLOCK);
	uint64_t start;
	int r;

	if (!(st->parts & VM_PART_CLOCK))
		return 0;
	/*
	 * With KVM_CLOCK_REALTIME KVM adds the real time that passed since the save, so the
	 * guest's clock does not stand still across the migration downtime.
	 */
	if ((st->clock.flags & KVM_CLOCK_REALTIME) && adjust > 0 &&
	    (adjust & KVM_CLOCK_REALTIME)) {
		clock.flags = KVM_CLOCK_REALTIME;
		clock.realtime = st->clock.realtime;
	}
	hook_begin(hooks, "KVM_SET_CLOCK");
	start = clock_now_ns();
	r = vm_ioctl(vm, KVM_SET_CLOCK, &clock);
	hook_end(hooks, "KVM_SET_CLOCK", r, start);
	return r;
}
