// SPDX-License-Identifier: GPL-2.0-only
/* One thread per vCPU, each running vcpu_run_loop(). */
#include "kvm.h"

#include <errno.h>
#include <string.h>

#include "log.h"

static void *vcpu_thread_main(void *arg)
{
	struct vcpu *vcpu = arg;

	vcpu->thread_why = VCPU_STOP_NONE;
	vcpu->thread_ret = vcpu_run_loop(vcpu, &vcpu->thread_why);
	return NULL;
}

int vcpu_thread_start(struct vcpu *vcpu)
{
	int r;

	if (vcpu->thread_started)
		return -EBUSY;
	r = pthread_create(&vcpu->thread, NULL, vcpu_thread_main, vcpu);
	if (r) {
		pr_err("vcpu %u: pthread_create: %s", vcpu->id, strerror(r));
		return -r;
	}
	vcpu->thread_started = true;
	return 0;
}

int vcpu_thread_join(struct vcpu *vcpu, enum vcpu_stop_reason *why)
{
	int r;

	if (!vcpu->thread_started)
		return -ESRCH;
	r = pthread_join(vcpu->thread, NULL);
	if (r) {
		pr_err("vcpu %u: pthread_join: %s", vcpu->id, strerror(r));
		return -r;
	}
	vcpu->thread_started = false;
	if (why)
		*why = vcpu->thread_why;
	return vcpu->thread_ret;
}

int vm_vcpus_start(struct vm *vm)
{
	unsigned int i;
	int r;

	for (i = 0; i < vm->nr_vcpus; i++) {
		r = vcpu_thread_start(vm->vcpus[i]);
		if (r < 0)
			goto err_stop;
	}
	return 0;

err_stop:
	while (i--) {
		vcpu_stop(vm->vcpus[i]);
		vcpu_thread_join(vm->vcpus[i], NULL);
	}
	return r;
}

void vm_vcpus_stop(struct vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_stop(vm->vcpus[i]);
}

int vm_vcpus_join(struct vm *vm)
{
	unsigned int i;
	int r, first = 0;

	for (i = 0; i < vm->nr_vcpus; i++) {
		if (!vm->vcpus[i]->thread_started)
			continue;
		r = vcpu_thread_join(vm->vcpus[i], NULL);
		if (r < 0 && !first)
			first = r;
	}
	return first;
}
