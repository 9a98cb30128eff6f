// SPDX-License-Identifier: GPL-2.0-only
#include "frame_tracker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int frame_tracker_init(struct frame_tracker *ft)
{
	*ft = (struct frame_tracker){ .stage = STAGE_HEADER };
	ft->arena = malloc(sizeof(*ft->arena));
	if (!ft->arena)
		return -ENOMEM;
	wire_arena_init(ft->arena);
	return 0;
}

void frame_tracker_free(struct frame_tracker *ft)
{
	free(ft->cur.data);
	free(ft->arena);
	ft->cur.data = NULL;
	ft->arena = NULL;
}

/* Hands len bytes to emit as one raw frame (a copy). */
static int emit_raw(const uint8_t *data, size_t len, relay_frame_fn emit, void *ctx)
{
	struct relay_frame f = { .type = RELAY_FRAME_RAW, .len = len };

	if (!len)
		return 0;
	f.data = malloc(len);
	if (!f.data)
		return -ENOMEM;
	memcpy(f.data, data, len);
	emit(ctx, &f);
	return 0;
}

/* From here on the stream passes unframed; what was collected of a frame goes first. */
static int go_raw(struct frame_tracker *ft, const char *why, relay_frame_fn emit, void *ctx)
{
	int ret;

	snprintf(ft->why_raw, sizeof(ft->why_raw), "%s", why);
	if (ft->stage == STAGE_HEADER)
		ret = emit_raw(ft->hdr, ft->have, emit, ctx);
	else
		ret = emit_raw(ft->cur.data, ft->have, emit, ctx);
	free(ft->cur.data);
	ft->cur.data = NULL;
	ft->have = 0;
	ft->stage = STAGE_RAW;
	return ret;
}

static void emit_frame(struct frame_tracker *ft, relay_frame_fn emit, void *ctx)
{
	ft->cur.len = ft->have;
	ft->frames++;
	emit(ctx, &ft->cur);
	ft->cur = (struct relay_frame){ 0 };
	ft->have = 0;
	ft->need = WIRE_FRAME_HDR_SIZE;
	ft->stage = STAGE_HEADER;
}

/* One varint of a protobuf body; false past its end or on a malformed one. */
static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned int shift;

	*v = 0;
	for (shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/*
 * VmConfig.nr_vcpus (field 1, a varint) read straight from the protobuf encoding: the relay
 * needs the count to know when the last vCPU state passed (the restore phase), and decoding
 * the VMM's own message would link the VMM into a network tool.
 */
static uint32_t scan_nr_vcpus(const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	uint64_t tag, v;

	while (p < end && read_varint(&p, end, &tag)) {
		switch (tag & 7) {
		case 0:
			if (!read_varint(&p, end, &v))
				return 0;
			if (tag >> 3 == 1)
				return v <= UINT32_MAX ? (uint32_t)v : 0;
			break;
		case 1: p += 8; break;
		case 2:
			if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
				return 0;
			p += v;
			break;
		case 5: p += 4; break;
		default: return 0;
		}
	}
	return 0;
}

static void decode_hello(struct frame_tracker *ft, const uint8_t *body, size_t len)
{
	ProtobufCMessage *msg;

	/* A Hello that does not decode is the ends' business; the channel stays unknown. */
	if (wire_decode(ft->arena, WIRE_HELLO, body, len, &msg))
		return;
	ft->cur.channel = ((const Wire__Hello *)msg)->channel;
	ft->cur.session_id = ((const Wire__Hello *)msg)->session_id;
	ft->cur.page_size = ((const Wire__Hello *)msg)->page_size;
	wire_arena_reset(ft->arena);
}

/* The body is in: decode what matters. False when the stream cannot be framed further. */
static bool body_done(struct frame_tracker *ft, const char **why)
{
	const uint8_t *body = ft->cur.data + WIRE_FRAME_HDR_SIZE;
	size_t len = ft->have - WIRE_FRAME_HDR_SIZE;
	const Wire__PageHeader *ph;
	ProtobufCMessage *msg;
	uint8_t *grown;

	if (ft->cur.type == WIRE_HELLO)
		decode_hello(ft, body, len);
	if (ft->cur.type == WIRE_VM_CONFIG)
		ft->cur.nr_vcpus = scan_nr_vcpus(body, len);
	if (ft->cur.type != WIRE_PAGE)
		return true;
	if (wire_decode(ft->arena, WIRE_PAGE, body, len, &msg)) {
		*why = "a page header that does not decode";
		return false;
	}
	ph = (const Wire__PageHeader *)msg;
	ft->cur.region = ph->region;
	ft->cur.offset = ph->offset;
	ft->cur.flags = ph->flags;
	ft->cur.length = ph->length;
	ft->cur.request_id = ph->request_id;
	wire_arena_reset(ft->arena);
	if ((ft->cur.flags & WIRE_PAGE_FLAG_ZERO) || !ft->cur.length)
		return true;
	if (ft->cur.length > WIRE_MAX_PAYLOAD) {
		*why = "a page payload larger than the protocol allows";
		return false;
	}
	grown = realloc(ft->cur.data, ft->have + ft->cur.length);
	if (!grown) {
		*why = "out of memory";
		return false;
	}
	ft->cur.data = grown;
	ft->cur.payload_off = ft->have;
	ft->cur.payload_len = ft->cur.length;
	ft->need = ft->have + ft->cur.length;
	ft->stage = STAGE_PAYLOAD;
	return true;
}

/* The header is in: size the frame. False when the stream cannot be framed. */
static bool header_done(struct frame_tracker *ft, const char **why)
{
	struct wire_frame_hdr h;

	/*
	 * An unknown type is still a frame (a newer peer's): its length is in the same place.
	 * Reserved bits or a length no type allows say this is not a frame boundary at all.
	 */
	if (wire_frame_hdr_decode(ft->hdr, &h) == -EPROTO && (ft->hdr[6] || ft->hdr[7])) {
		*why = "a frame header with reserved bits set";
		return false;
	}
	if (h.len > WIRE_MAX_OPAQUE_BODY) {
		*why = "a frame body larger than any type allows";
		return false;
	}
	ft->cur.data = malloc(WIRE_FRAME_HDR_SIZE + h.len);
	if (!ft->cur.data) {
		*why = "out of memory";
		return false;
	}
	memcpy(ft->cur.data, ft->hdr, WIRE_FRAME_HDR_SIZE);
	ft->cur.type = h.type;
	ft->need = WIRE_FRAME_HDR_SIZE + h.len;
	ft->stage = STAGE_BODY;
	return true;
}

int frame_tracker_feed(struct frame_tracker *ft, const uint8_t *data, size_t len,
		       relay_frame_fn emit, void *ctx)
{
	const char *why = NULL;
	size_t n;

	while (len && ft->stage != STAGE_RAW) {
		if (ft->stage == STAGE_HEADER) {
			n = WIRE_FRAME_HDR_SIZE - ft->have;
			n = n < len ? n : len;
			memcpy(ft->hdr + ft->have, data, n);
		} else {
			n = ft->need - ft->have;
			n = n < len ? n : len;
			memcpy(ft->cur.data + ft->have, data, n);
		}
		ft->have += n;
		data += n;
		len -= n;
		if (ft->stage == STAGE_HEADER) {
			if (ft->have < WIRE_FRAME_HDR_SIZE)
				continue;
			if (!header_done(ft, &why))
				break;
		}
		if (ft->have < ft->need)
			continue;
		if (ft->stage == STAGE_BODY && !body_done(ft, &why))
			break;
		if (ft->have == ft->need)
			emit_frame(ft, emit, ctx);
	}
	if (why && go_raw(ft, why, emit, ctx))
		return -ENOMEM;
	return ft->stage == STAGE_RAW ? emit_raw(data, len, emit, ctx) : 0;
}

int frame_tracker_finish(struct frame_tracker *ft, relay_frame_fn emit, void *ctx)
{
	if (ft->stage == STAGE_RAW || !ft->have)
		return 0;
	return go_raw(ft, "the stream ended inside a frame", emit, ctx);
}
