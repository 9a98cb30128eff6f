// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: a byte stream as pager-relay receives it, cut at arbitrary points (the first
 * input byte seeds the chunk sizes), through the relay's frame tracker and phases. Whatever
 * the bytes, each comes out exactly once and in order (the relay never loses or invents a
 * byte of what it passes on), and every frame's page payload lies inside the frame.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame_tracker.h"
#include "phase.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct check {
	const uint8_t *expect;
	size_t at;
	struct relay_phases phases;
};

static void on_frame(void *ctx, struct relay_frame *f)
{
	struct check *c = ctx;
	struct phase_step step;

	assert(f->len > 0);
	assert(memcmp(f->data, c->expect + c->at, f->len) == 0);
	c->at += f->len;
	if (f->payload_len) {
		assert(f->type == WIRE_PAGE);
		assert(f->payload_off + f->payload_len == f->len);
	}
	relay_phases_frame(&c->phases, RELAY_CH_PUSH, f, c->at, &step);
	assert(step.push_pages_after >= step.push_pages_before);
	free(f->data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_tracker ft;
	struct check c = { .expect = data + 1 };
	unsigned int chunk_seed;
	size_t off = 1, n;

	if (size < 1)
		return 0;
	chunk_seed = data[0];
	relay_phases_init(&c.phases);
	assert(frame_tracker_init(&ft) == 0);
	while (off < size) {
		n = 1 + (chunk_seed = chunk_seed * 1103515245u + 12345u) % 4096;
		if (n > size - off)
			n = size - off;
		assert(frame_tracker_feed(&ft, data + off, n, on_frame, &c) == 0);
		off += n;
	}
	assert(frame_tracker_finish(&ft, on_frame, &c) == 0);
	assert(c.at == size - 1);
	frame_tracker_free(&ft);
	return 0;
}
