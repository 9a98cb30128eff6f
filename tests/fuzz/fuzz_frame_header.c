// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: the 8-byte frame header, the first thing read from a peer. */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t buf[WIRE_FRAME_HDR_SIZE] = { 0 }, again[WIRE_FRAME_HDR_SIZE];
	struct wire_frame_hdr hdr;

	memcpy(buf, data, size < sizeof(buf) ? size : sizeof(buf));
	if (wire_frame_hdr_decode(buf, &hdr) != 0)
		return 0;
	/* Accepted headers are within their type's cap and encode back to the same bytes. */
	assert(hdr.len <= wire_max_body(hdr.type));
	wire_frame_hdr_encode(again, (enum wire_type)hdr.type, hdr.len);
	assert(memcmp(buf, again, sizeof(buf)) == 0);
	return 0;
}
