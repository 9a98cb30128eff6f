// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: a vCPU state frame's body, as vmm-dest decodes it before any restore ioctl. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "state_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vcpu_state *st;
	static uint8_t *again;
	char err[256];
	ssize_t len;

	if (!st) {
		st = vcpu_state_alloc();
		again = malloc(VCPU_STATE_MAX_ENCODED);
		assert(st && again);
	}
	if (vcpu_state_decode(data, size, st, err, sizeof(err)) != 0)
		return 0;
	/* What the decoder accepts, the encoder can write again. */
	len = vcpu_state_encode(st, again, VCPU_STATE_MAX_ENCODED);
	assert(len >= 0);
	return 0;
}
