// SPDX-License-Identifier: GPL-2.0-only
#include "state_digest.h"

void state_digest_frame(struct digest *d, enum wire_type type, const void *body, size_t len)
{
	uint8_t hdr[WIRE_FRAME_HDR_SIZE];

	/* The header too: a frame's type and length are part of what must arrive unchanged. */
	wire_frame_hdr_encode(hdr, type, (uint32_t)len);
	digest_update(d, hdr, sizeof(hdr));
	digest_update(d, body, len);
}
