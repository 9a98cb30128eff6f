// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: the VM state frame's body (clock, irqchips, PIT). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "state_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm_state st;
	static uint8_t again[VM_STATE_MAX_ENCODED];
	char err[256];

	if (vm_state_decode(data, size, &st, err, sizeof(err)) != 0)
		return 0;
	assert(vm_state_encode(&st, again, sizeof(again)) >= 0);
	return 0;
}
