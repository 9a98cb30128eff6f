// SPDX-License-Identifier: GPL-2.0-only
/*
 * Guest CPUID: what KVM supports, made per-vCPU. KVM_SET_CPUID2 comes before any other state
 * is restored: KVM decides from CPUID which MSRs and XSAVE components a vCPU has, and the
 * KVM paravirt leaves (0x40000000, 0x40000001) say which kvmclock/steal-time MSRs it takes.
 */
#include "kvm.h"

#include <asm/kvm_para.h>
#include <stdlib.h>

#include "kvm_ioctl.h"

int vcpu_set_cpuid(struct vcpu *vcpu, const struct kvm_cpuid_entry2 *entries, uint32_t n)
{
	struct kvm_cpuid2 *cpuid;
	int r;

	cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(*entries));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = n;
	memcpy(cpuid->entries, entries, n * sizeof(*entries));
	r = vcpu_ioctl(vcpu, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	return r;
}

int vcpu_get_cpuid(struct vcpu *vcpu, struct kvm_cpuid_entry2 *entries, uint32_t max,
		   uint32_t *n)
{
	struct kvm_cpuid2 *cpuid;
	int r;

	cpuid = calloc(1, sizeof(*cpuid) + max * sizeof(*entries));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = max;
	r = vcpu_ioctl(vcpu, KVM_GET_CPUID2, cpuid);
	if (r == 0) {
		memcpy(entries, cpuid->entries, cpuid->nent * sizeof(*entries));
		*n = cpuid->nent;
	}
	free(cpuid);
	return r;
}

/* The APIC id lives in CPUID too; a vCPU must see its own. */
static void cpuid_set_apic_id(struct kvm_cpuid2 *cpuid, uint32_t apic_id)
{
	uint32_t i;

	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffffu) | (apic_id << 24);
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = apic_id;
	}
}

static const struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *cpuid, uint32_t fn)
{
	uint32_t i;

	for (i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == fn)
			return &cpuid->entries[i];
	return NULL;
}

int vcpu_init_cpuid(struct vcpu *vcpu)
{
	struct kvm_cpuid2 *cpuid;
	int r;

	r = kvm_get_supported_cpuid(vcpu->vm->kvm_fd, &cpuid);
	if (r < 0)
		return r;
	if (!cpuid_find(cpuid, KVM_CPUID_SIGNATURE) || !cpuid_find(cpuid, KVM_CPUID_FEATURES)) {
		/* The paravirt MSRs (kvmclock, steal time) are only meant with these leaves. */
		pr_err("KVM_GET_SUPPORTED_CPUID lacks the KVM paravirt leaves %#x/%#x",
		       KVM_CPUID_SIGNATURE, KVM_CPUID_FEATURES);
		r = -ENOTSUP;
		goto out;
	}
	cpuid_set_apic_id(cpuid, vcpu->id);
	r = vcpu_set_cpuid(vcpu, cpuid->entries, cpuid->nent);
out:
	free(cpuid);
	return r;
}
