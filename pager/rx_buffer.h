/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Receive buffer of one connection: bytes land at the tail (io_uring recv), whole frames are
 * taken from the head. A page frame's payload is used in place (UFFDIO_COPY reads it from
 * here), so it is never copied twice in user space.
 */
#ifndef PAGER_RX_BUFFER_H
#define PAGER_RX_BUFFER_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct rx_buffer {
	uint8_t *data;
	size_t cap, head, tail;
	/*
	 * Set by rx_buffer_next() when it stops in a page's payload: the bytes that frame still
	 * lacks (0 otherwise). A receiver may ask for exactly these with MSG_WAITALL, one wake-up
	 * for the rest of a large run instead of one per arriving segment.
	 */
	size_t frame_missing;
	/*
	 * Set by the owner: page payloads are not in this buffer. rx_buffer_next() then returns
	 * a page frame at the end of its header (payload NULL, payload_len its length) for the
	 * caller to receive the payload where it wants it, and frame_missing always says what
	 * the next header or body lacks: a receiver that asks for exactly that never takes a
	 * payload byte into the buffer.
	 */
	bool payload_elsewhere;
};

struct rx_frame {
	unsigned int type;
	ProtobufCMessage *msg;  /* decoded body, in the caller's arena */
	const uint8_t *payload; /* WIRE_PAGE without the zero flag: the page bytes (see
				   payload_elsewhere) */
	uint32_t payload_len;
	size_t frame_len;       /* header + body + payload (in this buffer) */
};

int rx_buffer_init(struct rx_buffer *rb, size_t cap);
void rx_buffer_free(struct rx_buffer *rb);

static inline uint8_t *rx_buffer_space_ptr(struct rx_buffer *rb)
{
	return rb->data + rb->tail;
}

static inline size_t rx_buffer_space(const struct rx_buffer *rb)
{
	return rb->cap - rb->tail;
}

static inline void rx_buffer_commit(struct rx_buffer *rb, size_t n)
{
	rb->tail += n;
}

static inline size_t rx_buffer_pending(const struct rx_buffer *rb)
{
	return rb->tail - rb->head;
}

/*
 * The next whole frame: 1 (frame filled, decoded into arena), 0 (need more bytes), or a
 * negative errno with the reason in err (malformed header or body, oversized frame).
 */
int rx_buffer_next(struct rx_buffer *rb, struct wire_arena *arena, struct rx_frame *frame,
		   char *err, size_t err_len);
void rx_buffer_consume(struct rx_buffer *rb, const struct rx_frame *frame);
/*
 * Empties the buffer for a new connection: nothing of the old stream's frames is kept, nor
 * what its last frame still lacked (a receive waiting for those bytes on the new connection
 * could wait for good).
 */
static inline void rx_buffer_reset(struct rx_buffer *rb)
{
	rb->head = rb->tail = rb->frame_missing = 0;
}
/*
 * Makes room for at least one largest frame at the tail. Only while no receive is in flight:
 * it moves the bytes a receive would be writing after.
 */
void rx_buffer_compact(struct rx_buffer *rb);

/* Below this, the rest of a run is not worth a receive of its own. */
#define RX_WAITALL_MIN (64u * 1024u)

/* Largest frame the protocol allows. */
#define RX_MAX_FRAME (WIRE_FRAME_HDR_SIZE + WIRE_ARENA_SIZE + WIRE_MAX_PAYLOAD)

#endif
