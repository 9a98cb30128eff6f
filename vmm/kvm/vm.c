// SPDX-License-Identifier: GPL-2.0-only
/* The VM: creation, memory slots, in-kernel devices, I/O traps and guest-memory access. */
#include "kvm.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_ioctl.h"

int vm_create(struct vm **out)
{
	struct vm *vm;
	int r;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	pthread_mutex_init(&vm->msr_lock, NULL);

	vm->kvm_fd = kvm_open();
	if (vm->kvm_fd < 0) {
		r = vm->kvm_fd;
		goto err_free;
	}
	vm->run_size = kvm_ioctl_val(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < 0) {
		r = vm->run_size;
		goto err_close_kvm;
	}
	vm->fd = kvm_ioctl_val(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		r = vm->fd;
		goto err_close_kvm;
	}
	*out = vm;
	return 0;

err_close_kvm:
	close(vm->kvm_fd);
err_free:
	pthread_mutex_destroy(&vm->msr_lock);
	free(vm);
	return r;
}

void vm_destroy(struct vm *vm)
{
	unsigned int i;

	if (!vm)
		return;
	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = vm->vcpus[i];

		munmap(vcpu->run, vm->run_size);
		close(vcpu->fd);
		pthread_mutex_destroy(&vcpu->kick_lock);
		free(vcpu);
	}
	free(vm->readable_msrs);
	close(vm->fd);
	close(vm->kvm_fd);
	pthread_mutex_destroy(&vm->msr_lock);
	free(vm);
}

int vm_check_cap(struct vm *vm, long cap)
{
	return vm_ioctl_val(vm, KVM_CHECK_EXTENSION, cap);
}

struct vm_slot *vm_slot_find(struct vm *vm, uint32_t slot)
{
	unsigned int i;

	for (i = 0; i < vm->nr_slots; i++)
		if (vm->slots[i].slot == slot)
			return &vm->slots[i];
	return NULL;
}

int vm_set_memory(struct vm *vm, uint32_t slot, gpa_t gpa, uint64_t size, void *hva,
		  uint32_t flags)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};
	struct vm_slot *s = vm_slot_find(vm, slot);
	int r;

	if (!s && size && vm->nr_slots == VM_MAX_SLOTS)
		return -ENOSPC;
	r = vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region);
	if (r < 0)
		return r;
	if (!size) {
		if (s)
			*s = vm->slots[--vm->nr_slots];
		return 0;
	}
	if (!s)
		s = &vm->slots[vm->nr_slots++];
	*s = (struct vm_slot){ slot, flags, gpa, size, hva };
	return 0;
}

int vm_create_irqchip(struct vm *vm)
{
	int r;

	if (vm->nr_vcpus) {
		pr_err("KVM_CREATE_IRQCHIP must come before the first vCPU");
		return -EINVAL;
	}
	r = vm_ioctl_val(vm, KVM_CREATE_IRQCHIP, 0);
	if (r < 0)
		return r;
	vm->has_irqchip = true;
	return 0;
}

int vm_create_pit(struct vm *vm)
{
	struct kvm_pit_config config = { .flags = 0 };
	int r;

	if (!vm->has_irqchip) {
		pr_err("KVM_CREATE_PIT2 needs the in-kernel irqchip");
		return -EINVAL;
	}
	r = vm_ioctl(vm, KVM_CREATE_PIT2, &config);
	if (r < 0)
		return r;
	vm->has_pit = true;
	return 0;
}

int vm_io_register(struct vm *vm, bool mmio, uint64_t base, uint64_t len, vm_io_fn fn,
		   void *opaque)
{
	unsigned int i;

	if (!len || !fn || base + len < base)
		return -EINVAL;
	for (i = 0; i < vm->nr_traps; i++) {
		const struct vm_io_trap *t = &vm->traps[i];

		if (t->mmio == mmio && base < t->base + t->len && t->base < base + len) {
			pr_err("%s trap [%#lx, +%#lx) overlaps [%#lx, +%#lx)",
			       mmio ? "MMIO" : "port I/O", (unsigned long)base,
			       (unsigned long)len, (unsigned long)t->base, (unsigned long)t->len);
			return -EEXIST;
		}
	}
	if (vm->nr_traps == VM_MAX_IO_TRAPS)
		return -ENOSPC;
	vm->traps[vm->nr_traps++] = (struct vm_io_trap){ mmio, base, len, fn, opaque };
	return 0;
}

const struct vm_io_trap *vm_io_find(const struct vm *vm, bool mmio, uint64_t addr,
				    uint32_t len)
{
	unsigned int i;

	for (i = 0; i < vm->nr_traps; i++) {
		const struct vm_io_trap *t = &vm->traps[i];

		if (t->mmio == mmio && addr >= t->base && addr + len <= t->base + t->len)
			return t;
	}
	return NULL;
}

void *vm_gpa_to_hva(const struct vm *vm, gpa_t gpa, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < vm->nr_slots; i++) {
		const struct vm_slot *s = &vm->slots[i];

		if (gpa >= s->gpa && len <= s->size && gpa - s->gpa <= s->size - len)
			return (char *)s->hva + (gpa - s->gpa);
	}
	return NULL;
}

int vm_gpa_write(struct vm *vm, gpa_t gpa, const void *src, uint64_t len)
{
	void *hva = vm_gpa_to_hva(vm, gpa, len);

	if (!hva) {
		pr_err("guest write [%#lx, +%#lx) is outside every memory slot",
		       (unsigned long)gpa, (unsigned long)len);
		return -EFAULT;
	}
	memcpy(hva, src, len);
	return 0;
}

int vm_gpa_read(const struct vm *vm, gpa_t gpa, void *dst, uint64_t len)
{
	const void *hva = vm_gpa_to_hva(vm, gpa, len);

	if (!hva) {
		pr_err("guest read [%#lx, +%#lx) is outside every memory slot",
		       (unsigned long)gpa, (unsigned long)len);
		return -EFAULT;
	}
	memcpy(dst, hva, len);
	return 0;
}
