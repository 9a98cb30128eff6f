// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSRs: single reads and writes, and the list of saveable MSRs. KVM_GET_MSR_INDEX_LIST names
 * what KVM knows, not what this vCPU model has: KVM_GET_MSRS stops at the first index it
 * cannot read. So each index is probed once, alone, and the readable ones are kept.
 */
#include "kvm.h"

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

static int msrs_probe(struct vm *vm, struct vcpu *probe, struct kvm_msr_list **out)
{
	struct kvm_msr_list *all, *readable;
	uint32_t i;
	int r;

	r = kvm_get_msr_index_list(vm->kvm_fd, &all);
	if (r < 0)
		return r;
	readable = calloc(1, sizeof(*readable) + all->nmsrs * sizeof(all->indices[0]));
	if (!readable) {
		free(all);
		return -ENOMEM;
	}
	for (i = 0; i < all->nmsrs; i++) {
		struct msr_one m = { .hdr.nmsrs = 1, .entry.index = all->indices[i] };

		r = __vcpu_ioctl(probe, KVM_GET_MSRS, &m.hdr);
		if (r == 1)
			readable->indices[readable->nmsrs++] = all->indices[i];
		else
			pr_debug("MSR %#x is listed by KVM but not readable here", all->indices[i]);
	}
	pr_debug("%u of %u listed MSRs are readable", readable->nmsrs, all->nmsrs);
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
