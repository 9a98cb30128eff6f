/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ioctl tiers, as in the KVM selftests' kvm_util:
 *   __kvm_ioctl(fd, CMD, &arg)   raw: the ioctl's result, or -errno; nothing logged
 *   kvm_ioctl(fd, CMD, &arg)     the same, and a failure is logged with the ioctl's name
 * and the same pair for the VM (__vm_ioctl, vm_ioctl) and vCPU (__vcpu_ioctl, vcpu_ioctl)
 * handles. The vCPU tier also publishes the name of the ioctl it is inside, so a watchdog
 * can say which one is blocked (vcpu_current_ioctl()).
 *
 * A pointer argument must have the size the command encodes: passing the wrong struct is a
 * compile error. Commands that take a value (_IO, size 0) go through the *_val variants.
 * Internal to the VMM (the kvm and state layers): callers use the typed wrappers in kvm.h.
 */
#ifndef VMM_KVM_IOCTL_H
#define VMM_KVM_IOCTL_H

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm.h"
#include "log.h"

#define kvm_ioctl_check_arg(cmd, arg)                                                     \
	_Static_assert(_IOC_SIZE(cmd) == 0 || sizeof(*(arg)) == _IOC_SIZE(cmd),           \
		       "the argument of " #cmd " does not have the size the command encodes")
#define kvm_ioctl_check_val(cmd)                                                          \
	_Static_assert(_IOC_SIZE(cmd) == 0, #cmd " takes a pointer, not a value")

static inline int kvm_ioctl_raw(int fd, unsigned long cmd, unsigned long arg)
{
	int r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

static inline int vcpu_ioctl_raw(struct vcpu *vcpu, const char *name, unsigned long cmd,
				 unsigned long arg)
{
	int r;

	atomic_store(&vcpu->ioctl_name, name);
	r = kvm_ioctl_raw(vcpu->fd, cmd, arg);
	atomic_store(&vcpu->ioctl_name, NULL);
	return r;
}

static inline int kvm_ioctl_logged(int r, const char *who, unsigned int id, const char *name)
{
	if (r < 0) {
		if (who)
			pr_err("%s %u: %s failed: %s", who, id, name, strerror(-r));
		else
			pr_err("%s failed: %s", name, strerror(-r));
	}
	return r;
}

#define __kvm_ioctl(fd, cmd, arg)                                                         \
	({                                                                                \
		kvm_ioctl_check_arg(cmd, arg);                                            \
		kvm_ioctl_raw(fd, cmd, (unsigned long)(arg));                             \
	})
#define __kvm_ioctl_val(fd, cmd, val)                                                     \
	({                                                                                \
		kvm_ioctl_check_val(cmd);                                                 \
		kvm_ioctl_raw(fd, cmd, (unsigned long)(val));                             \
	})
#define kvm_ioctl(fd, cmd, arg) kvm_ioctl_logged(__kvm_ioctl(fd, cmd, arg), NULL, 0, #cmd)
#define kvm_ioctl_val(fd, cmd, val)                                                       \
	kvm_ioctl_logged(__kvm_ioctl_val(fd, cmd, val), NULL, 0, #cmd)

#define __vm_ioctl(vm, cmd, arg) __kvm_ioctl((vm)->fd, cmd, arg)
#define __vm_ioctl_val(vm, cmd, val) __kvm_ioctl_val((vm)->fd, cmd, val)
#define vm_ioctl(vm, cmd, arg) kvm_ioctl_logged(__vm_ioctl(vm, cmd, arg), "vm", 0, #cmd)
#define vm_ioctl_val(vm, cmd, val)                                                        \
	kvm_ioctl_logged(__vm_ioctl_val(vm, cmd, val), "vm", 0, #cmd)

#define __vcpu_ioctl(vcpu, cmd, arg)                                                      \
	({                                                                                \
		kvm_ioctl_check_arg(cmd, arg);                                            \
		vcpu_ioctl_raw(vcpu, #cmd, cmd, (unsigned long)(arg));                    \
	})
#define __vcpu_ioctl_val(vcpu, cmd, val)                                                  \
	({                                                                                \
		kvm_ioctl_check_val(cmd);                                                 \
		vcpu_ioctl_raw(vcpu, #cmd, cmd, (unsigned long)(val));                    \
	})
#define vcpu_ioctl(vcpu, cmd, arg)                                                        \
	kvm_ioctl_logged(__vcpu_ioctl(vcpu, cmd, arg), "vcpu", (vcpu)->id, #cmd)
#define vcpu_ioctl_val(vcpu, cmd, val)                                                    \
	kvm_ioctl_logged(__vcpu_ioctl_val(vcpu, cmd, val), "vcpu", (vcpu)->id, #cmd)

#endif
