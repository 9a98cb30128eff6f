// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSRs: single reads and writes, and the list of saveable MSRs. KVM_GET_MSR_INDEX_LIST names
 * what KVM knows, not what this vCPU model has: KVM_GET_MSRS stops at the first index it
 * cannot read. So each index is probed once, alone, and the readable ones are kept.
 */
#include "kvm.h"

#include <stdbool.h>
#include <stdlib.h>

#include "kvm_ioctl.h"

struct msr_one {
	struct kvm_msrs hdr;
	struct kvm_msr_entry entry;
};

int vcpu_get_msr(struct vcpu *vcpu, uint32_t index, uint64_t *value)
{
	struct msr_one m = { .hdr.nmsrs = 1, .entry.index = index };
	int r;

	r = __vcpu_ioctl(vcpu, KVM_GET_MSRS, &m.hdr);
	if (r < 0) {
		pr_err("vcpu %u: KVM_GET_MSRS(%#x) failed: %s", vcpu->id, index, strerror(-r));
		return r;
	}
	if (r != 1)
		return -EINVAL; /* KVM returns the count read: 0 means this MSR is not readable */
	*value = m.entry.data;
	return 0;
}

int vcpu_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value)
{
	struct msr_one m = { .hdr.nmsrs = 1, .entry = { .index = index, .data = value } };
	int r;

	r = __vcpu_ioctl(vcpu, KVM_SET_MSRS, &m.hdr);
	if (r < 0) {
		pr_err("vcpu %u: KVM_SET_MSRS(%#x) failed: %s", vcpu->id, index, strerror(-r));
		return r;
	}
	if (r != 1) {
		pr_err("vcpu %u: KVM_SET_MSRS: KVM refused MSR %#x = %#llx", vcpu->id, index,
		       (unsigned long long)value);
		return -EINVAL;
	}
	return 0;
}

#define MSR_MTRR_CAP 0xfe
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_MTRR_PHYS_BASE0 0x200
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17a
#define MSR_MCG_CTL 0x17b
#define MSR_MC0_CTL 0x400
#define MCG_CTL_P (1ull << 8)
/* 64K, 16K and 4K fixed-range MTRRs. */
static const uint32_t mtrr_fixed[] = { 0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b,
				       0x26c, 0x26d, 0x26e, 0x26f };

/*
 * KVM_GET_MSR_INDEX_LIST leaves out MSRs whose number depends on the vCPU model: the MTRRs
 * and the machine-check banks (QEMU adds them by hand too). Without them a guest's MTRR
 * setup would be lost in a migration.
 */
static uint32_t model_msrs(struct vcpu *probe, uint32_t *out, uint32_t max)
{
	uint64_t cap = 0;
	uint32_t n = 0, i;

#define ADD(idx)                       	do {                           		if (n < max)           			out[n++] = (idx); 	} while (0)
	if (!vcpu_get_msr(probe, MSR_MTRR_CAP, &cap)) {
		ADD(MSR_MTRR_DEF_TYPE);
		for (i = 0; i < sizeof(mtrr_fixed) / sizeof(mtrr_fixed[0]); i++)
			ADD(mtrr_fixed[i]);
		for (i = 0; i < 2 * (cap & 0xff); i++)
			ADD(MSR_MTRR_PHYS_BASE0 + i);
	}
	if (!vcpu_get_msr(probe, MSR_MCG_CAP, &cap)) {
		ADD(MSR_MCG_STATUS);
		if (cap & MCG_CTL_P)
			ADD(MSR_MCG_CTL);
		for (i = 0; i < 4 * (cap & 0xff); i++)
			ADD(MSR_MC0_CTL + i);
	}
#undef ADD
	return n;
}

static bool listed(const struct kvm_msr_list *list, uint32_t index)
{
	uint32_t i;

	for (i = 0; i < list->nmsrs; i++)
		if (list->indices[i] == index)
			return true;
	return false;
}

#define MAX_MODEL_MSRS 256

static int msrs_probe(struct vm *vm, struct vcpu *probe, struct kvm_msr_list **out)
{
	struct kvm_msr_list *all, *readable;
	uint32_t extra[MAX_MODEL_MSRS], n_extra, i;
	int r;

	r = kvm_get_msr_index_list(vm->kvm_fd, &all);
	if (r < 0)
		return r;
	n_extra = model_msrs(probe, extra, MAX_MODEL_MSRS);
	readable = calloc(1, sizeof(*readable) + (all->nmsrs + n_extra) * sizeof(all->indices[0]));
	if (!readable) {
		free(all);
		return -ENOMEM;
	}
	for (i = 0; i < all->nmsrs + n_extra; i++) {
		uint32_t index = i < all->nmsrs ? all->indices[i] : extra[i - all->nmsrs];
		struct msr_one m = { .hdr.nmsrs = 1, .entry.index = index };

		if (i >= all->nmsrs && (listed(all, index) || listed(readable, index)))
			continue;
		r = __vcpu_ioctl(probe, KVM_GET_MSRS, &m.hdr);
		if (r == 1)
			readable->indices[readable->nmsrs++] = index;
		else
			pr_debug("MSR %#x is not readable here", index);
	}
	pr_debug("%u of %u candidate MSRs are readable", readable->nmsrs, all->nmsrs + n_extra);
	free(all);
	*out = readable;
	return 0;
}

int vm_readable_msrs(struct vm *vm, struct vcpu *probe, const struct kvm_msr_list **list)
{
	int r = 0;

	pthread_mutex_lock(&vm->msr_lock);
	if (!vm->readable_msrs)
		r = msrs_probe(vm, probe, &vm->readable_msrs);
	pthread_mutex_unlock(&vm->msr_lock);
	if (r == 0)
		*list = vm->readable_msrs;
	return r;
}
