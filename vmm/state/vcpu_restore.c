// SPDX-License-Identifier: GPL-2.0-only
/*
 * Restoring a vCPU's state, one ioctl per step. The order, and why, is in vcpu_state.h;
 * the table vcpu_restore_steps[] below is that order.
 */
#include "vcpu_state.h"

#include <asm/kvm_para.h>
#include <stdlib.h>

#include "clock.h"
#include "vcpu_state_int.h"

static int restore_cpuid(struct vcpu *vcpu, const struct vcpu_state *st)
{
	return vcpu_set_cpuid(vcpu, st->cpuid, st->ncpuid);
}

static int restore_tsc_khz(struct vcpu *vcpu, const struct vcpu_state *st)
{
	int r, now = vcpu_ioctl_val(vcpu, KVM_GET_TSC_KHZ, 0);

	if (now < 0)
		return now;
	if ((uint32_t)now == st->tsc_khz)
		return 0;
	/*
	 * As QEMU does, a frequency this host cannot set is a warning, not a failed
	 * migration: the guest sees its TSC run at another rate.
	 */
	r = vcpu_ioctl_val(vcpu, KVM_SET_TSC_KHZ, st->tsc_khz);
	if (r < 0)
		pr_warn("vcpu %u: guest TSC was %u kHz, stays %d kHz here", vcpu->id,
			st->tsc_khz, now);
	return 0;
}

static int restore_sregs2(struct vcpu *vcpu, const struct vcpu_state *st)
{
	return vcpu_ioctl(vcpu, KVM_SET_SREGS2, &st->sregs2);
}

static int restore_sregs(struct vcpu *vcpu, const struct vcpu_state *st)
{
	return vcpu_ioctl(vcpu, KVM_SET_SREGS, &st->sregs);
}

#define MSR_IA32_FEAT_CTL 0x3a
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_VMFUNC 0x491

/*
 * Before KVM_SET_NESTED_STATE: the feature-control MSR and the VMX capability MSRs, which
 * KVM refuses to change (-EBUSY) once the vCPU is in VMX operation, as nested state puts it.
 * The full MSR step writes them again later; being equal then, a refusal is harmless.
 */
static int restore_nested_features(struct vcpu *vcpu, const struct vcpu_state *st)
{
	uint64_t now;
	uint32_t i, index;
	int r;

	for (i = 0; i < st->nmsrs; i++) {
		index = st->msrs[i].index;
		if (index != MSR_IA32_FEAT_CTL &&
		    (index < MSR_IA32_VMX_BASIC || index > MSR_IA32_VMX_VMFUNC))
			continue;
		r = vcpu_set_msr(vcpu, index, st->msrs[i].data);
		if (r && (vcpu_get_msr(vcpu, index, &now) || now != st->msrs[i].data))
			return r;
	}
	return 0;
}

static int restore_nested(struct vcpu *vcpu, const struct vcpu_state *st)
{
	return vcpu_ioctl(vcpu, KVM_SET_NESTED_STATE, (struct kvm_nested_state *)st->nested);
}

static int restore_regs(struct vcpu *vcpu, const struct vcpu_state *st)
{
	return vcpu_ioctl(vcpu, KVM_SET_REGS, &st->regs);
}

static int restore_xsave(struct vcpu *vcpu, const struct vcpu_state *st)
{
	int size = vm_cap(vcpu->vm, KVM_CAP_XSAVE2);

	/* KVM reads as many bytes as its own XSAVE2 size says: it must be the saved one. */
	if (size > 0 && (uint32_t)size != st->xsave_size) {
		pr_err("vcpu %u: saved XSAVE area is %u bytes, this host's is %d", vcpu->id,
		       st->xsave_size, size);
		return -EINVAL;
	}
	return vcpu_ioctl(vcpu, KVM_SET_XSAVE, (const struct kvm_xsave *)st->xsave);
}

static int restore_fpu(struct vcpu *vcpu, const struct vcpu_state *st)
{
	return vcpu_ioctl(vcpu, KVM_SET_FPU, &st->fpu);
}

static int restore_xcrs(struct vcpu *vcpu, const struct vcpu_state *st)
{
	return vcpu_ioctl(vcpu, KVM_SET_XCRS, &st->xcrs);
}

static int restore_lapic(struct vcpu *vcpu, const struct vcpu_state *st)
{
	if (!vcpu->vm->has_irqchip) {
		pr_err("vcpu %u: the state has a LAPIC, this VM has no in-kernel irqchip",
		       vcpu->id);
		return -EINVAL;
	}
	return vcpu_ioctl(vcpu, KVM_SET_LAPIC, &st->lapic);
}

/*
 * A wall-clock MSR is an action, not a register: writing it makes KVM write the wall clock
 * at that guest address. 0 is what a guest that never wrote it reads back, and writing it
 * back would put the wall clock into guest page 0.
 */
static bool msr_skip_on_restore(const struct kvm_msr_entry *e)
{
	return (e->index == MSR_KVM_WALL_CLOCK || e->index == MSR_KVM_WALL_CLOCK_NEW) &&
	       e->data == 0;
}

/*
 * KVM_SET_MSRS stops at the first MSR it refuses and returns how many it took. Some MSRs
 * read fine but refuse even their own value back (MSR_KVM_POLL_CONTROL without an
 * in-kernel irqchip, on this kvm_pvm): a refused MSR that already holds the saved value is
 * skipped; any other refusal fails the restore, naming the MSR.
 */
static int restore_msrs(struct vcpu *vcpu, const struct vcpu_state *st)
{
	const struct kvm_msr_entry *refused;
	struct msr_buf *buf;
	uint32_t i, n = 0, done = 0, skipped = 0;
	uint64_t now;
	int r = 0;

	buf = calloc(1, sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	while (done < st->nmsrs) {
		n = 0;
		for (i = done; i < st->nmsrs; i++)
			if (!msr_skip_on_restore(&st->msrs[i]))
				buf->entries[n++] = st->msrs[i];
		buf->hdr.nmsrs = n;
		r = vcpu_ioctl(vcpu, KVM_SET_MSRS, &buf->hdr);
		if (r < 0 || (uint32_t)r == n)
			break;
		refused = &buf->entries[r];
		if (vcpu_get_msr(vcpu, refused->index, &now) < 0 || now != refused->data) {
			pr_err("vcpu %u: KVM_SET_MSRS refused MSR %#x = %#llx", vcpu->id,
			       refused->index, refused->data);
			r = -EINVAL;
			break;
		}
		pr_debug("vcpu %u: KVM_SET_MSRS refused MSR %#x, which already holds %#llx",
			 vcpu->id, refused->index, refused->data);
		skipped++;
		/* Go on after the refused one: find it in st (entries skip the wall clocks). */
		for (i = done; i < st->nmsrs; i++)
			if (st->msrs[i].index == refused->index)
				break;
		done = i + 1;
	}
	if (r >= 0 && skipped)
		pr_debug("vcpu %u: %u MSR(s) kept their equal value", vcpu->id, skipped);
	free(buf);
	return r < 0 ? r : 0;
}

static int restore_mp_state(struct vcpu *vcpu, const struct vcpu_state *st)
{
	return vcpu_ioctl(vcpu, KVM_SET_MP_STATE, &st->mp_state);
}

static int restore_events(struct vcpu *vcpu, const struct vcpu_state *st)
{
	struct kvm_vcpu_events events = st->events;

	/* KVM_GET_VCPU_EVENTS does not set these, but the saved values are the real ones. */
	events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	return vcpu_ioctl(vcpu, KVM_SET_VCPU_EVENTS, &events);
}

static int restore_debugregs(struct vcpu *vcpu, const struct vcpu_state *st)
{
	return vcpu_ioctl(vcpu, KVM_SET_DEBUGREGS, &st->debugregs);
}

const struct vcpu_restore_step vcpu_restore_steps[] = {
	{ "KVM_SET_CPUID2", VCPU_PART_CPUID, restore_cpuid },
	{ "KVM_SET_TSC_KHZ", VCPU_PART_TSC_KHZ, restore_tsc_khz },
	{ "KVM_SET_SREGS2", VCPU_PART_SREGS2, restore_sregs2 },
	{ "KVM_SET_SREGS", VCPU_PART_SREGS, restore_sregs },
	{ "KVM_SET_MSRS (nested features)", VCPU_PART_NESTED, restore_nested_features },
	{ "KVM_SET_NESTED_STATE", VCPU_PART_NESTED, restore_nested },
	{ "KVM_SET_REGS", VCPU_PART_REGS, restore_regs },
	{ "KVM_SET_XSAVE", VCPU_PART_XSAVE, restore_xsave },
	{ "KVM_SET_FPU", VCPU_PART_FPU, restore_fpu },
	{ "KVM_SET_XCRS", VCPU_PART_XCRS, restore_xcrs },
	{ "KVM_SET_LAPIC", VCPU_PART_LAPIC, restore_lapic },
	{ "KVM_SET_MSRS", VCPU_PART_MSRS, restore_msrs },
	{ "KVM_SET_MP_STATE", VCPU_PART_MP_STATE, restore_mp_state },
	{ "KVM_SET_VCPU_EVENTS", VCPU_PART_EVENTS, restore_events },
	{ "KVM_SET_DEBUGREGS", VCPU_PART_DEBUGREGS, restore_debugregs },
};
const unsigned int vcpu_restore_nr_steps =
	sizeof(vcpu_restore_steps) / sizeof(vcpu_restore_steps[0]);

int vcpu_restore_step(struct vcpu *vcpu, const struct vcpu_state *st, unsigned int i,
		      const struct restore_hooks *hooks)
{
	const struct vcpu_restore_step *step;
	uint64_t start;
	int r;

	if (i >= vcpu_restore_nr_steps)
		return -EINVAL;
	step = &vcpu_restore_steps[i];
	if (!(st->parts & step->parts))
		return 1;
	if (hooks && hooks->begin)
		hooks->begin(hooks->opaque, vcpu->id, step->ioctl);
	start = clock_now_ns();
	r = step->apply(vcpu, st);
	if (hooks && hooks->end)
		hooks->end(hooks->opaque, vcpu->id, step->ioctl, r, clock_now_ns() - start);
	return r;
}

int vcpu_state_restore(struct vcpu *vcpu, const struct vcpu_state *st,
		       const struct restore_hooks *hooks)
{
	unsigned int i;
	int r;

	for (i = 0; i < vcpu_restore_nr_steps; i++) {
		r = vcpu_restore_step(vcpu, st, i, hooks);
		if (r < 0) {
			pr_err("vcpu %u: restore stopped at %s", vcpu->id,
			       vcpu_restore_steps[i].ioctl);
			return r;
		}
	}
	return 0;
}
