// SPDX-License-Identifier: GPL-2.0-only
/* vCPUs: creation, kvm_run, and the register wrappers everything else builds on. */
#include "kvm.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_ioctl.h"

int vm_vcpu_add(struct vm *vm, uint32_t id, struct vcpu **out)
{
	struct vcpu *vcpu;
	int r;

	if (vm->nr_vcpus == VM_MAX_VCPUS)
		return -ENOSPC;
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	pthread_mutex_init(&vcpu->kick_lock, NULL);
	vcpu->fd = vm_ioctl_val(vm, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0) {
		r = vcpu->fd;
		goto err_free;
	}
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		r = -errno;
		pr_err("vcpu %u: mmap of kvm_run: %s", id, strerror(errno));
		goto err_close;
	}
	vm->vcpus[vm->nr_vcpus++] = vcpu;
	*out = vcpu;
	return 0;

err_close:
	close(vcpu->fd);
err_free:
	pthread_mutex_destroy(&vcpu->kick_lock);
	free(vcpu);
	return r;
}

int vcpu_get_regs(struct vcpu *vcpu, struct kvm_regs *regs)
{
	return vcpu_ioctl(vcpu, KVM_GET_REGS, regs);
}

int vcpu_set_regs(struct vcpu *vcpu, const struct kvm_regs *regs)
{
	return vcpu_ioctl(vcpu, KVM_SET_REGS, regs);
}

int vcpu_get_sregs(struct vcpu *vcpu, struct kvm_sregs *sregs)
{
	return vcpu_ioctl(vcpu, KVM_GET_SREGS, sregs);
}

int vcpu_set_sregs(struct vcpu *vcpu, const struct kvm_sregs *sregs)
{
	return vcpu_ioctl(vcpu, KVM_SET_SREGS, sregs);
}

int vcpu_get_mp_state(struct vcpu *vcpu, struct kvm_mp_state *mp)
{
	return vcpu_ioctl(vcpu, KVM_GET_MP_STATE, mp);
}

int vcpu_set_mp_state(struct vcpu *vcpu, const struct kvm_mp_state *mp)
{
	return vcpu_ioctl(vcpu, KVM_SET_MP_STATE, mp);
}

int vcpu_translate(struct vcpu *vcpu, uint64_t gva, gpa_t *gpa)
{
	struct kvm_translation tr = { .linear_address = gva };
	int r;

	r = __vcpu_ioctl(vcpu, KVM_TRANSLATE, &tr);
	if (r < 0)
		return r;
	if (!tr.valid)
		return -EFAULT;
	*gpa = tr.physical_address;
	return 0;
}
