// SPDX-License-Identifier: GPL-2.0-only
#include "vm_config.h"
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "pb_arena.h"
#include "state_codec.h"

/* The VMM's frames fit the wire layer's cap for opaque bodies; each decoder holds its own. */
_Static_assert(MIG_VM_CONFIG_MAX_ENCODED <= WIRE_MAX_OPAQUE_BODY &&
		       VM_STATE_MAX_ENCODED <= WIRE_MAX_OPAQUE_BODY &&
		       VCPU_STATE_MAX_ENCODED <= WIRE_MAX_OPAQUE_BODY,
	       "a VMM frame larger than the wire allows");

void mig_vm_config_to_msg(const struct mig_vm_config *cfg, Mig__VmConfig *msg)
{
	mig__vm_config__init(msg);
	msg->nr_vcpus = cfg->guest.nr_vcpus;
	msg->irqchip = cfg->irqchip;
	msg->pit = cfg->irqchip;
	msg->guest = (char *)guest_image(cfg->guest.program)->name;
	msg->work_size = cfg->guest.work_size;
	msg->seed = cfg->guest.seed;
	msg->count = cfg->guest.count;
}

int mig_vm_config_send(int fd, const Mig__VmConfig *msg, int timeout_ms)
{
	uint8_t body[MIG_VM_CONFIG_MAX_ENCODED];
	size_t len = mig__vm_config__get_packed_size(msg);

	if (len > sizeof(body))
		return -EMSGSIZE;
	mig__vm_config__pack(msg, body);
	return wire_send_raw(fd, WIRE_VM_CONFIG, body, len, timeout_ms);
}

int mig_vm_config_decode(const void *body, size_t len, struct mig_vm_config *cfg, char *err,
			 size_t err_len)
{
	/* The unpacked struct and a string shorter than the body: bounded, on the stack. */
	_Alignas(16) unsigned char mem[sizeof(Mig__VmConfig) + 2 * MIG_VM_CONFIG_MAX_ENCODED];
	const struct guest_image *image;
	struct guest_config guest;
	struct pb_arena arena;
	char why[200];
	Mig__VmConfig *msg;

	if (len > MIG_VM_CONFIG_MAX_ENCODED) {
		snprintf(err, err_len, "a VM config of %zu bytes, more than %u", len,
			 MIG_VM_CONFIG_MAX_ENCODED);
		return -EPROTO;
	}
	pb_arena_init(&arena, mem, sizeof(mem));
	if (pb_arena_unpack(&arena, &mig__vm_config__descriptor, body, len,
			    (ProtobufCMessage **)&msg)) {
		snprintf(err, err_len, "the VM config is not a valid protobuf message");
		return -EPROTO;
	}
	image = guest_image_by_name(msg->guest ? msg->guest : "");
	if (!image || !msg->nr_vcpus || msg->nr_vcpus > GUEST_MAX_VCPUS) {
		snprintf(err, err_len, "guest '%s', %u vCPUs (1..%u)", msg->guest ? msg->guest : "",
			 msg->nr_vcpus, GUEST_MAX_VCPUS);
		return -EPROTO;
	}
	guest = (struct guest_config){
		.program = (enum guest_program)(image - guest_image(0)),
		.nr_vcpus = msg->nr_vcpus,
		.work_size = msg->work_size,
		.seed = msg->seed,
		.count = msg->count,
	};
	if (guest_config_valid(&guest, why, sizeof(why))) {
		snprintf(err, err_len, "%" PRIu64 " bytes of work memory for %u vCPUs: %s",
			 msg->work_size, msg->nr_vcpus, why);
		return -EINVAL;
	}
	*cfg = (struct mig_vm_config){ .guest = guest, .irqchip = msg->irqchip };
	return 0;
}
