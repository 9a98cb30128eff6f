/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by vcpu_state.c (save) and vcpu_restore.c; internal to vmm/state/. */
#ifndef VMM_VCPU_STATE_INT_H
#define VMM_VCPU_STATE_INT_H

#include "kvm_ioctl.h"
#include "vcpu_state.h"

/* A capability of this VM, or 0 when the query itself fails. */
static inline int vm_cap(struct vm *vm, long cap)
{
	int r = __vm_ioctl_val(vm, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

/* KVM_GET_MSRS and KVM_SET_MSRS take a header followed by the entries. */
struct msr_buf {
	struct kvm_msrs hdr;
	struct kvm_msr_entry entries[VCPU_STATE_MAX_MSRS];
};

#endif
