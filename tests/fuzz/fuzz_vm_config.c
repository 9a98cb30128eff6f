// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: the VmConfig frame's body (vmm/migrate/vm_config.c), what tells the destination
 * which VM to build. An accepted config is one the guest's own rules allow, and encodes back
 * to a body that decodes to the same config.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "vm_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t body[MIG_VM_CONFIG_MAX_ENCODED];
	struct mig_vm_config cfg, again;
	Mig__VmConfig msg;
	char err[256];
	size_t len;

	if (mig_vm_config_decode(data, size, &cfg, err, sizeof(err)) != 0)
		return 0;
	assert(guest_config_valid(&cfg.guest, err, sizeof(err)) == 0);
	mig_vm_config_to_msg(&cfg, &msg);
	len = mig__vm_config__get_packed_size(&msg);
	assert(len <= sizeof(body));
	mig__vm_config__pack(&msg, body);
	assert(mig_vm_config_decode(body, len, &again, err, sizeof(err)) == 0);
	assert(again.guest.program == cfg.guest.program &&
	       again.guest.nr_vcpus == cfg.guest.nr_vcpus &&
	       again.guest.work_size == cfg.guest.work_size && again.guest.seed == cfg.guest.seed &&
	       again.guest.count == cfg.guest.count && again.irqchip == cfg.irqchip);
	return 0;
}
