// SPDX-License-Identifier: GPL-2.0-only
/* Saving everything KVM keeps for a vCPU (restoring it: vcpu_restore.c). */
#include "vcpu_state.h"

#include <stdlib.h>

#include "vcpu_state_int.h"

struct vcpu_state *vcpu_state_alloc(void)
{
	return calloc(1, sizeof(struct vcpu_state));
}

void vcpu_state_free(struct vcpu_state *st)
{
	free(st);
}

static int save_msrs(struct vcpu *vcpu, struct vcpu_state *st)
{
	const struct kvm_msr_list *list;
	struct msr_buf *buf;
	uint32_t i;
	int r;

	r = vm_readable_msrs(vcpu->vm, vcpu, &list);
	if (r < 0)
		return r;
	if (list->nmsrs > VCPU_STATE_MAX_MSRS)
		return -E2BIG;
	buf = calloc(1, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	buf->hdr.nmsrs = list->nmsrs;
	for (i = 0; i < list->nmsrs; i++)
		buf->entries[i].index = list->indices[i];
	r = vcpu_ioctl(vcpu, KVM_GET_MSRS, &buf->hdr);
	if (r >= 0 && (uint32_t)r != list->nmsrs) {
		pr_err("vcpu %u: KVM_GET_MSRS read %d of %u MSRs, stopping at %#x", vcpu->id, r,
		       list->nmsrs, list->indices[r]);
		r = -EIO;
	}
	if (r >= 0) {
		memcpy(st->msrs, buf->entries, list->nmsrs * sizeof(buf->entries[0]));
		st->nmsrs = list->nmsrs;
		r = 0;
	}
	free(buf);
	return r;
}

static int save_xsave(struct vcpu *vcpu, struct vcpu_state *st)
{
	int size = vm_cap(vcpu->vm, KVM_CAP_XSAVE2);

	if (size > 0) {
		if (size > VCPU_STATE_MAX_XSAVE) {
			pr_err("vcpu %u: XSAVE area of %d bytes, more than %d", vcpu->id, size,
			       VCPU_STATE_MAX_XSAVE);
			return -E2BIG;
		}
		st->xsave_size = size;
		st->parts |= VCPU_PART_XSAVE;
		return vcpu_ioctl(vcpu, KVM_GET_XSAVE2, (struct kvm_xsave *)st->xsave);
	}
	if (vm_cap(vcpu->vm, KVM_CAP_XSAVE)) {
		st->xsave_size = sizeof(struct kvm_xsave);
		st->parts |= VCPU_PART_XSAVE;
		return vcpu_ioctl(vcpu, KVM_GET_XSAVE, (struct kvm_xsave *)st->xsave);
	}
	st->parts |= VCPU_PART_FPU;
	return vcpu_ioctl(vcpu, KVM_GET_FPU, &st->fpu);
}

static int save_nested(struct vcpu *vcpu, struct vcpu_state *st)
{
	struct kvm_nested_state *nested = (struct kvm_nested_state *)st->nested;
	int size = vm_cap(vcpu->vm, KVM_CAP_NESTED_STATE);
	int r;

	if (size <= 0)
		return 0; /* this KVM has no nested state to save */
	if (size > VCPU_STATE_MAX_NESTED || size < (int)sizeof(*nested)) {
		pr_err("vcpu %u: nested state of %d bytes is outside [%zu, %d]", vcpu->id, size,
		       sizeof(*nested), VCPU_STATE_MAX_NESTED);
		return -E2BIG;
	}
	memset(nested, 0, sizeof(*nested));
	nested->size = size;
	r = vcpu_ioctl(vcpu, KVM_GET_NESTED_STATE, nested);
	if (r < 0)
		return r;
	if (nested->size < sizeof(*nested) || nested->size > (uint32_t)size) {
		pr_err("vcpu %u: KVM_GET_NESTED_STATE says %u bytes", vcpu->id, nested->size);
		return -EIO;
	}
	st->nested_size = nested->size;
	st->parts |= VCPU_PART_NESTED;
	return 0;
}

/* CPUID and the TSC rate: what the rest of the vCPU's state is read against. */
static int save_cpuid_tsc(struct vcpu *vcpu, struct vcpu_state *st)
{
	int r;

	r = vcpu_get_cpuid(vcpu, st->cpuid, VCPU_STATE_MAX_CPUID, &st->ncpuid);
	if (r < 0)
		return r;
	st->parts |= VCPU_PART_CPUID;
	if (vm_cap(vcpu->vm, KVM_CAP_GET_TSC_KHZ)) {
		r = vcpu_ioctl_val(vcpu, KVM_GET_TSC_KHZ, 0);
		if (r < 0)
			return r;
		/* 0: the host does not know its TSC rate; nothing to carry over then. */
		st->tsc_khz = r;
		if (r)
			st->parts |= VCPU_PART_TSC_KHZ;
	}
	return 0;
}

/* Special registers (sregs2 where the host has it), nested state, general registers, FPU. */
static int save_registers(struct vcpu *vcpu, struct vcpu_state *st)
{
	int r;

	if (vm_cap(vcpu->vm, KVM_CAP_SREGS2)) {
		r = vcpu_ioctl(vcpu, KVM_GET_SREGS2, &st->sregs2);
		st->parts |= VCPU_PART_SREGS2;
	} else {
		r = vcpu_ioctl(vcpu, KVM_GET_SREGS, &st->sregs);
		st->parts |= VCPU_PART_SREGS;
	}
	if (r < 0)
		return r;
	r = save_nested(vcpu, st);
	if (r < 0)
		return r;
	r = vcpu_ioctl(vcpu, KVM_GET_REGS, &st->regs);
	if (r < 0)
		return r;
	st->parts |= VCPU_PART_REGS;
	r = save_xsave(vcpu, st);
	if (r < 0)
		return r;
	if (vm_cap(vcpu->vm, KVM_CAP_XCRS)) {
		r = vcpu_ioctl(vcpu, KVM_GET_XCRS, &st->xcrs);
		if (r < 0)
			return r;
		st->parts |= VCPU_PART_XCRS;
	}
	return 0;
}

/* The LAPIC, the MSRs, and the run state: MP state, pending events, debug registers. */
static int save_apic_msrs_events(struct vcpu *vcpu, struct vcpu_state *st)
{
	struct vm *vm = vcpu->vm;
	int r;

	if (vm->has_irqchip) {
		r = vcpu_ioctl(vcpu, KVM_GET_LAPIC, &st->lapic);
		if (r < 0)
			return r;
		st->parts |= VCPU_PART_LAPIC;
	}
	r = save_msrs(vcpu, st);
	if (r < 0)
		return r;
	st->parts |= VCPU_PART_MSRS;
	r = vcpu_ioctl(vcpu, KVM_GET_MP_STATE, &st->mp_state);
	if (r < 0)
		return r;
	st->parts |= VCPU_PART_MP_STATE;
	if (vm_cap(vm, KVM_CAP_VCPU_EVENTS)) {
		r = vcpu_ioctl(vcpu, KVM_GET_VCPU_EVENTS, &st->events);
		if (r < 0)
			return r;
		st->parts |= VCPU_PART_EVENTS;
	}
	if (vm_cap(vm, KVM_CAP_DEBUGREGS)) {
		r = vcpu_ioctl(vcpu, KVM_GET_DEBUGREGS, &st->debugregs);
		if (r < 0)
			return r;
		st->parts |= VCPU_PART_DEBUGREGS;
	}
	return 0;
}

int vcpu_state_save(struct vcpu *vcpu, struct vcpu_state *st)
{
	int r;

	st->parts = 0;
	st->vcpu_id = vcpu->id;
	r = save_cpuid_tsc(vcpu, st);
	if (!r)
		r = save_registers(vcpu, st);
	if (!r)
		r = save_apic_msrs_events(vcpu, st);
	return r;
}
