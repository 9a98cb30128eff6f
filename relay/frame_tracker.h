/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Frames out of one direction of a relayed connection: bytes go in as they arrive, split
 * anywhere, and each whole frame comes out with what the fault layer needs to know about it
 * (type; for a PAGE its header and where its payload lies; for a Hello the channel and
 * session; for a VM_CONFIG the vCPU count). The tracker never judges the protocol, the two
 * ends do: a stream it cannot frame (reserved bits set, a frame too large for any type, a
 * page header that does not decode) is passed on as raw bytes from there on.
 */
#ifndef RELAY_FRAME_TRACKER_H
#define RELAY_FRAME_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define RELAY_FRAME_RAW 0u /* type of bytes that are not a frame */

struct relay_frame {
	uint8_t *data;     /* the frame as it travels (header, body, payload), malloc'd */
	size_t len;
	unsigned int type; /* wire type, or RELAY_FRAME_RAW */
	/* WIRE_PAGE: the header, decoded with the wire library (unknown fields are skipped) */
	uint32_t region, flags, length;
	uint64_t offset, request_id;
	size_t payload_off; /* where the page bytes start in data */
	uint32_t payload_len;
	/* WIRE_HELLO */
	uint32_t channel, page_size;
	uint64_t session_id;
	/* WIRE_VM_CONFIG: 0 when the body does not say */
	uint32_t nr_vcpus;
};

/* Called for each frame; it owns frame->data from then on (free() it). */
typedef void (*relay_frame_fn)(void *ctx, struct relay_frame *frame);

enum frame_stage { STAGE_HEADER, STAGE_BODY, STAGE_PAYLOAD, STAGE_RAW };

struct frame_tracker {
	struct wire_arena *arena;
	enum frame_stage stage;
	struct relay_frame cur;
	size_t have, need; /* bytes of cur collected, and the size it has when this stage ends */
	uint8_t hdr[WIRE_FRAME_HDR_SIZE];
	uint64_t frames;
	char why_raw[96]; /* why the stream stopped being framed */
};

int frame_tracker_init(struct frame_tracker *ft);
void frame_tracker_free(struct frame_tracker *ft);
/* Consumes all of data, calling emit for every frame it completes. 0 or -ENOMEM. */
int frame_tracker_feed(struct frame_tracker *ft, const uint8_t *data, size_t len,
		       relay_frame_fn emit, void *ctx);
/* End of the stream: an unfinished frame's bytes come out raw (the peer sees them cut). */
int frame_tracker_finish(struct frame_tracker *ft, relay_frame_fn emit, void *ctx);

static inline bool frame_tracker_is_raw(const struct frame_tracker *ft)
{
	return ft->stage == STAGE_RAW;
}

#endif
