/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KVM constants newer than Debian 12's linux-libc-dev (6.1). The running kernel is newer,
 * so each value is the upstream one; whether the kernel has the feature is always probed
 * at run time (KVM_CHECK_EXTENSION), never assumed from a definition here.
 */
#ifndef VMM_KVM_COMPAT_H
#define VMM_KVM_COMPAT_H

#include <linux/kvm.h>

#ifndef KVM_CAP_DIRTY_LOG_RING_ACQ_REL
#define KVM_CAP_DIRTY_LOG_RING_ACQ_REL 223
#endif
#ifndef KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP
#define KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP 225
#endif
#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2 231
#endif
#ifndef KVM_CAP_MEMORY_FAULT_INFO
#define KVM_CAP_MEMORY_FAULT_INFO 232
#endif
#ifndef KVM_CAP_MEMORY_ATTRIBUTES
#define KVM_CAP_MEMORY_ATTRIBUTES 233
#endif
#ifndef KVM_CAP_GUEST_MEMFD
#define KVM_CAP_GUEST_MEMFD 234
#endif
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif
#ifndef KVM_CAP_PRE_FAULT_MEMORY
#define KVM_CAP_PRE_FAULT_MEMORY 236
#endif

/* kvm_run.memory_fault, for KVM_EXIT_MEMORY_FAULT (6.8); it overlays the exit union. */
#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT 39
#endif
struct kvm_memory_fault_info {
	__u64 flags;
	__u64 gpa;
	__u64 size;
};
static inline struct kvm_memory_fault_info kvm_run_memory_fault(const struct kvm_run *run)
{
	struct kvm_memory_fault_info info;

	__builtin_memcpy(&info, &run->internal, sizeof(info));
	return info;
}

#endif
