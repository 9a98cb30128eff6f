// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: a byte stream as the listener receives it, cut at arbitrary points (the first
 * input byte seeds the chunk sizes), parsed frame by frame by the pager's receive buffer.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rx_buffer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wire_arena *arena;
	static struct rx_buffer rb;
	struct rx_frame frame;
	unsigned int chunk_seed;
	char err[256];
	size_t off = 1;
	int r = 0;

	if (!arena) {
		arena = malloc(sizeof(*arena));
		assert(arena);
		wire_arena_init(arena);
		assert(rx_buffer_init(&rb, 2 * RX_MAX_FRAME) == 0);
	}
	if (size < 1)
		return 0;
	chunk_seed = data[0];
	rb.head = rb.tail = 0;
	while (off < size && r >= 0) {
		size_t n = 1 + (chunk_seed = chunk_seed * 1103515245u + 12345u) % 4096;

		rx_buffer_compact(&rb);
		if (n > size - off)
			n = size - off;
		if (n > rx_buffer_space(&rb))
			n = rx_buffer_space(&rb);
		assert(n > 0);
		memcpy(rx_buffer_space_ptr(&rb), data + off, n);
		rx_buffer_commit(&rb, n);
		off += n;
		while ((r = rx_buffer_next(&rb, arena, &frame, err, sizeof(err))) == 1) {
			assert(frame.frame_len <= rx_buffer_pending(&rb));
			assert(frame.frame_len <= RX_MAX_FRAME);
			if (frame.payload) {
				assert(frame.payload >= rb.data + rb.head);
				assert(frame.payload + frame.payload_len <= rb.data + rb.tail);
			}
			rx_buffer_consume(&rb, &frame);
		}
	}
	return 0;
}
