// SPDX-License-Identifier: GPL-2.0-only
#include "rx_buffer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rx_buffer_init(struct rx_buffer *rb, size_t cap)
{
	if (cap < 2 * RX_MAX_FRAME)
		cap = 2 * RX_MAX_FRAME;
	/* Page aligned so that page payloads are usually aligned too (cheaper copies). */
	if (posix_memalign((void **)&rb->data, 4096, cap))
		return -ENOMEM;
	rb->cap = cap;
	rb->payload_elsewhere = false;
	rx_buffer_reset(rb);
	return 0;
}

void rx_buffer_free(struct rx_buffer *rb)
{
	free(rb->data);
	rb->data = NULL;
}

int rx_buffer_next(struct rx_buffer *rb, struct wire_arena *arena, struct rx_frame *frame,
		   char *err, size_t err_len)
{
	const uint8_t *start = rb->data + rb->head;
	size_t avail = rx_buffer_pending(rb), need;
	struct wire_frame_hdr hdr;
	int ret;

	rb->frame_missing = 0;
	if (avail < WIRE_FRAME_HDR_SIZE) {
		if (rb->payload_elsewhere)
			rb->frame_missing = WIRE_FRAME_HDR_SIZE - avail;
		return 0;
	}
	ret = wire_frame_hdr_decode(start, &hdr);
	if (ret) {
		snprintf(err, err_len, "%s frame header (type %u, length %u)",
			 ret == -EMSGSIZE ? "oversized" : "malformed", hdr.type, hdr.len);
		return ret;
	}
	need = WIRE_FRAME_HDR_SIZE + hdr.len;
	if (avail < need) {
		if (rb->payload_elsewhere)
			rb->frame_missing = need - avail;
		return 0;
	}
	ret = wire_decode(arena, hdr.type, start + WIRE_FRAME_HDR_SIZE, hdr.len, &frame->msg);
	if (ret) {
		snprintf(err, err_len, "undecodable %s message (%u bytes)", wire_type_name(hdr.type),
			 hdr.len);
		return ret;
	}
	frame->type = hdr.type;
	frame->payload = NULL;
	frame->payload_len = 0;
	if (hdr.type == WIRE_PAGE) {
		const Wire__PageHeader *ph = (const Wire__PageHeader *)frame->msg;

		if (!(ph->flags & WIRE_PAGE_FLAG_ZERO)) {
			/* Bound the wait for payload before trusting the length. */
			if (ph->length > WIRE_MAX_PAYLOAD) {
				snprintf(err, err_len, "page payload of %u bytes, at most %u",
					 ph->length, WIRE_MAX_PAYLOAD);
				return -EMSGSIZE;
			}
			frame->payload_len = ph->length;
			if (!rb->payload_elsewhere) {
				if (avail < need + ph->length) {
					rb->frame_missing = need + ph->length - avail;
					return 0;
				}
				frame->payload = start + need;
				need += ph->length;
			}
		}
	}
	frame->frame_len = need;
	return 1;
}

void rx_buffer_consume(struct rx_buffer *rb, const struct rx_frame *frame)
{
	/* No rewind here: a receive may be in flight into the tail. rx_buffer_compact() rewinds. */
	rb->head += frame->frame_len;
}

void rx_buffer_compact(struct rx_buffer *rb)
{
	size_t pending = rx_buffer_pending(rb);

	if (!pending) {
		rx_buffer_reset(rb);
		return;
	}
	if (rx_buffer_space(rb) >= RX_MAX_FRAME || !rb->head)
		return;
	memmove(rb->data, rb->data + rb->head, pending);
	rb->head = 0;
	rb->tail = pending;
}
