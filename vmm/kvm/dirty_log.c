// SPDX-License-Identifier: GPL-2.0-only
/* Dirty page logging of a memory slot, for pre-copy rounds. */
#include "kvm.h"

#include <errno.h>
#include <string.h>

#include "kvm_ioctl.h"

int vm_dirty_log_enable(struct vm *vm, uint32_t slot)
{
	struct vm_slot *s = vm_slot_find(vm, slot);

	if (!s)
		return -ENOENT;
	/* Re-setting the slot with the flag starts logging (KVM write-protects it). */
	return vm_set_memory(vm, slot, s->gpa, s->size, s->hva, s->flags | KVM_MEM_LOG_DIRTY_PAGES);
}

int vm_dirty_log_disable(struct vm *vm, uint32_t slot)
{
	struct vm_slot *s = vm_slot_find(vm, slot);

	if (!s)
		return -ENOENT;
	return vm_set_memory(vm, slot, s->gpa, s->size, s->hva, s->flags & ~KVM_MEM_LOG_DIRTY_PAGES);
}

int vm_dirty_log_get(struct vm *vm, uint32_t slot, uint64_t *bitmap)
{
	struct vm_slot *s = vm_slot_find(vm, slot);
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bitmap };

	if (!s)
		return -ENOENT;
	if (!(s->flags & KVM_MEM_LOG_DIRTY_PAGES))
		return -EINVAL;
	/* Without manual protect, this also clears the log and write-protects the slot again. */
	return vm_ioctl(vm, KVM_GET_DIRTY_LOG, &log);
}
