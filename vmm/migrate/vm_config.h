/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VmConfig message (migration.proto): sent by the source right after the memory layout,
 * it tells the destination which VM to build before any page or state arrives. The wire
 * layer carries it as an opaque WIRE_VM_CONFIG frame; the decoder caps it at
 * MIG_VM_CONFIG_MAX_ENCODED.
 */
#ifndef VMM_MIGRATE_VM_CONFIG_H
#define VMM_MIGRATE_VM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "guest.h"
#include "migration.pb-c.h"

#define MIG_VM_CONFIG_MAX_ENCODED 128

struct mig_vm_config {
	struct guest_config guest;
	bool irqchip; /* the in-kernel irqchip and PIT */
};

/* The message for cfg; its strings are static (the guest image's name). */
void mig_vm_config_to_msg(const struct mig_vm_config *cfg, Mig__VmConfig *msg);
/* Encodes msg into one WIRE_VM_CONFIG frame: 0, -EMSGSIZE (over the cap) or -errno. */
int mig_vm_config_send(int fd, const Mig__VmConfig *msg, int timeout_ms);
/*
 * Decodes and checks a received body. 0; -EPROTO for a malformed message, an unknown guest or
 * a vCPU count outside 1..GUEST_MAX_VCPUS; -EINVAL when the guest's memory does not fit the
 * layout rules (guest_config_valid()). Nothing is logged. The reason is in err; cfg is set only on success.
 */
int mig_vm_config_decode(const void *body, size_t len, struct mig_vm_config *cfg, char *err,
			 size_t err_len);

#endif
