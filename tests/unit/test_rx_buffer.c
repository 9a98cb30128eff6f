// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for pager/rx_buffer.c: frame reassembly, in-place page payloads, compaction. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rx_buffer.h"

#define PS 4096u

static struct wire_arena arena;
static struct rx_buffer rb;
static struct rx_frame frame;
static char err[256];

/* Frames are built here, then fed to rb in whatever pieces a test wants. */
static uint8_t stream[3 * RX_MAX_FRAME];
static size_t stream_len;

static int setup(void **state)
{
	wire_arena_init(&arena);
	stream_len = 0;
	return rx_buffer_init(&rb, 0);
}

static int teardown(void **state)
{
	rx_buffer_free(&rb);
	return 0;
}

static uint8_t pattern(uint64_t offset, size_t i)
{
	return (uint8_t)((offset / PS) * 7 + i * 131 + 1);
}

static size_t add_msg(enum wire_type type, const ProtobufCMessage *msg)
{
	ssize_t n = wire_encode(type, msg, stream + stream_len, sizeof(stream) - stream_len);

	assert_true(n > (ssize_t)WIRE_FRAME_HDR_SIZE);
	stream_len += (size_t)n;
	return (size_t)n;
}

/* A page frame; the payload follows unless the zero flag is set. */
static size_t add_page(uint64_t offset, uint32_t length, uint32_t flags, uint64_t request_id)
{
	Wire__PageHeader h = WIRE__PAGE_HEADER__INIT;
	size_t n, i;

	h.offset = offset;
	h.length = length;
	h.flags = flags;
	h.request_id = request_id;
	n = add_msg(WIRE_PAGE, &h.base);
	if (flags & WIRE_PAGE_FLAG_ZERO)
		return n;
	assert_true(stream_len + length <= sizeof(stream));
	for (i = 0; i < length; i++)
		stream[stream_len + i] = pattern(offset, i);
	stream_len += length;
	return n + length;
}

static size_t add_raw(enum wire_type type, const void *body, uint32_t len)
{
	wire_frame_hdr_encode(stream + stream_len, type, len);
	memcpy(stream + stream_len + WIRE_FRAME_HDR_SIZE, body, len);
	stream_len += WIRE_FRAME_HDR_SIZE + len;
	return WIRE_FRAME_HDR_SIZE + len;
}

static size_t add_hello(void)
{
	Wire__Hello h = WIRE__HELLO__INIT;

	h.magic = WIRE_MAGIC;
	h.version = WIRE_VERSION;
	h.page_size = PS;
	h.channel = WIRE__CHANNEL__CHANNEL_PUSH;
	h.session_id = 77;
	return add_msg(WIRE_HELLO, &h.base);
}

static size_t add_layout(void)
{
	Wire__Region r[3], *p[3];
	Wire__MemoryLayout l = WIRE__MEMORY_LAYOUT__INIT;
	int i;

	for (i = 0; i < 3; i++) {
		wire__region__init(&r[i]);
		r[i].id = (uint32_t)i;
		r[i].guest_phys_addr = (uint64_t)i << 30;
		r[i].size = 1u << 20;
		r[i].backing = WIRE__BACKING__BACKING_ANON;
		p[i] = &r[i];
	}
	l.n_regions = 3;
	l.regions = p;
	return add_msg(WIRE_LAYOUT, &l.base);
}

static size_t add_request(void)
{
	Wire__PageRequest r = WIRE__PAGE_REQUEST__INIT;

	r.region = 2;
	r.offset = 5 * PS;
	r.count = 3;
	r.request_id = 41;
	return add_msg(WIRE_PAGE_REQUEST, &r.base);
}

static size_t add_push_done(void)
{
	Wire__PushDone d = WIRE__PUSH_DONE__INIT;

	d.pages_sent = 1234;
	return add_msg(WIRE_PUSH_DONE, &d.base);
}

static size_t add_complete(void)
{
	Wire__Complete c = WIRE__COMPLETE__INIT;

	c.pages_received = 4321;
	return add_msg(WIRE_COMPLETE, &c.base);
}

static size_t add_error(void)
{
	Wire__Error e = WIRE__ERROR__INIT;

	e.code = WIRE__ERROR_CODE__ERROR_BUSY;
	e.text = "busy";
	return add_msg(WIRE_ERROR, &e.base);
}

static void feed(size_t from, size_t n)
{
	assert_true(rx_buffer_space(&rb) >= n);
	memcpy(rx_buffer_space_ptr(&rb), stream + from, n);
	rx_buffer_commit(&rb, n);
}

static int next(void)
{
	memset(&frame, 0xa5, sizeof(frame));
	memset(err, 0, sizeof(err));
	return rx_buffer_next(&rb, &arena, &frame, err, sizeof(err));
}

static void assert_err(int got, int want, const char *needle)
{
	assert_int_equal(got, want);
	if (!strstr(err, needle))
		fail_msg("error text \"%s\" does not mention \"%s\"", err, needle);
}

static void reset_rb(void)
{
	rb.head = rb.tail = 0;
}

static void assert_payload(uint64_t offset, uint32_t length)
{
	size_t i;

	assert_non_null(frame.payload);
	assert_int_equal(frame.payload_len, length);
	assert_true(frame.payload >= rb.data && frame.payload + length <= rb.data + rb.tail);
	for (i = 0; i < length; i++)
		if (frame.payload[i] != pattern(offset, i))
			fail_msg("payload byte %zu: 0x%02x, expected 0x%02x", i, frame.payload[i],
				 pattern(offset, i));
}

/* Checks the frame just taken against what add_*() put in the stream. */
static void assert_frame(unsigned int type, size_t len)
{
	assert_int_equal(frame.type, type);
	assert_int_equal(frame.frame_len, len);
	assert_non_null(frame.msg);
	assert_true((uint8_t *)frame.msg >= arena.mem &&
		    (uint8_t *)frame.msg < arena.mem + WIRE_ARENA_SIZE);
	if (type != WIRE_PAGE) {
		assert_null(frame.payload);
		assert_int_equal(frame.payload_len, 0);
	}
	switch (type) {
	case WIRE_HELLO:
		assert_int_equal(((Wire__Hello *)frame.msg)->session_id, 77);
		break;
	case WIRE_LAYOUT:
		assert_int_equal(((Wire__MemoryLayout *)frame.msg)->n_regions, 3);
		assert_int_equal(((Wire__MemoryLayout *)frame.msg)->regions[2]->guest_phys_addr,
				 2ull << 30);
		break;
	case WIRE_PAGE_REQUEST:
		assert_int_equal(((Wire__PageRequest *)frame.msg)->request_id, 41);
		break;
	case WIRE_PUSH_DONE:
		assert_int_equal(((Wire__PushDone *)frame.msg)->pages_sent, 1234);
		break;
	case WIRE_COMPLETE:
		assert_int_equal(((Wire__Complete *)frame.msg)->pages_received, 4321);
		break;
	case WIRE_ERROR:
		assert_string_equal(((Wire__Error *)frame.msg)->text, "busy");
		break;
	}
}

static void test_init(void **state)
{
	struct rx_buffer big;

	assert_int_equal(rb.cap, 2 * RX_MAX_FRAME);
	assert_int_equal((uintptr_t)rb.data % 4096, 0);
	assert_int_equal(rx_buffer_pending(&rb), 0);
	assert_int_equal(rx_buffer_space(&rb), rb.cap);
	assert_ptr_equal(rx_buffer_space_ptr(&rb), rb.data);

	assert_int_equal(rx_buffer_init(&big, 3 * RX_MAX_FRAME + 1), 0);
	assert_int_equal(big.cap, 3 * RX_MAX_FRAME + 1);
	rx_buffer_free(&big);
	assert_null(big.data);
}

static void test_empty_and_short_header(void **state)
{
	size_t i;

	assert_int_equal(next(), 0);
	add_hello();
	for (i = 0; i < WIRE_FRAME_HDR_SIZE - 1; i++) {
		feed(i, 1);
		assert_int_equal(next(), 0);
	}
	assert_int_equal(rb.head, 0);
	assert_int_equal(rx_buffer_pending(&rb), WIRE_FRAME_HDR_SIZE - 1);
}

static void test_every_type(void **state)
{
	static const unsigned int types[] = { WIRE_HELLO, WIRE_LAYOUT, WIRE_PAGE_REQUEST,
					      WIRE_PUSH_DONE, WIRE_COMPLETE, WIRE_ERROR };
	size_t (*const add[])(void) = { add_hello, add_layout, add_request,
					add_push_done, add_complete, add_error };
	size_t i, len;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		stream_len = 0;
		len = add[i]();
		feed(0, len);
		assert_int_equal(next(), 1);
		assert_frame(types[i], len);
		rx_buffer_consume(&rb, &frame);
		assert_int_equal(rb.head, len);
		assert_int_equal(rx_buffer_pending(&rb), 0);
		assert_int_equal(next(), 0);
		rx_buffer_compact(&rb);
		assert_int_equal(rb.head, 0);
		assert_int_equal(rb.tail, 0);
	}
}

static void test_page_payload_in_place(void **state)
{
	size_t len = add_page(8 * PS, 3 * PS, WIRE_PAGE_FLAG_DEMAND, 9);
	const Wire__PageHeader *h;

	feed(0, len);
	assert_int_equal(next(), 1);
	assert_frame(WIRE_PAGE, len);
	h = (const Wire__PageHeader *)frame.msg;
	assert_int_equal(h->offset, 8 * PS);
	assert_int_equal(h->request_id, 9);
	/* Right after the body, in rb itself: no copy. */
	assert_ptr_equal(frame.payload, rb.data + len - 3 * PS);
	assert_payload(8 * PS, 3 * PS);
	rx_buffer_consume(&rb, &frame);
	assert_int_equal(rx_buffer_pending(&rb), 0);
}

static void test_zero_page_has_no_payload(void **state)
{
	size_t a = add_page(0, 64 * PS, WIRE_PAGE_FLAG_ZERO, 0);
	size_t b = add_push_done();

	feed(0, a + b);
	assert_int_equal(next(), 1);
	assert_frame(WIRE_PAGE, a);
	assert_null(frame.payload);
	assert_int_equal(frame.payload_len, 0);
	rx_buffer_consume(&rb, &frame);
	assert_int_equal(rb.head, a);
	assert_int_equal(next(), 1);
	assert_frame(WIRE_PUSH_DONE, b);
}

/* Every frame kind fed one byte at a time: 0 until the very last byte, nothing consumed. */
static void test_byte_by_byte(void **state)
{
	static const uint32_t flags[] = { 0, WIRE_PAGE_FLAG_ZERO };
	size_t (*const add[])(void) = { add_hello, add_layout, add_request,
					add_push_done, add_complete, add_error };
	size_t k, i, len;

	for (k = 0; k < sizeof(add) / sizeof(add[0]) + 2; k++) {
		stream_len = 0;
		reset_rb();
		if (k < sizeof(add) / sizeof(add[0]))
			len = add[k]();
		else
			len = add_page(PS, 2 * PS, flags[k - sizeof(add) / sizeof(add[0])], 0);
		for (i = 0; i + 1 < len; i++) {
			feed(i, 1);
			if (next() != 0)
				fail_msg("frame %zu: complete after %zu of %zu bytes", k, i + 1, len);
			assert_int_equal(rb.head, 0);
			assert_int_equal(rx_buffer_pending(&rb), i + 1);
		}
		feed(len - 1, 1);
		assert_int_equal(next(), 1);
		assert_int_equal(frame.frame_len, len);
		if (frame.type == WIRE_PAGE && frame.payload)
			assert_payload(PS, 2 * PS);
		rx_buffer_consume(&rb, &frame);
		assert_int_equal(rx_buffer_pending(&rb), 0);
	}
}

/* A page frame split in two at every point, so each piece boundary is crossed once. */
static void test_two_pieces_every_split(void **state)
{
	size_t len = add_page(3 * PS, 2 * PS, WIRE_PAGE_FLAG_DEMAND, 5), k;

	for (k = 0; k < len; k++) {
		reset_rb();
		feed(0, k);
		assert_int_equal(next(), 0);
		feed(k, len - k);
		assert_int_equal(next(), 1);
		assert_int_equal(frame.frame_len, len);
		assert_ptr_equal(frame.payload, rb.data + len - 2 * PS);
	}
	assert_payload(3 * PS, 2 * PS);
}

static void test_back_to_back(void **state)
{
	static const unsigned int want[] = { WIRE_HELLO, WIRE_LAYOUT, WIRE_PAGE,
					     WIRE_PAGE, WIRE_PAGE_REQUEST, WIRE_PAGE,
					     WIRE_PUSH_DONE, WIRE_COMPLETE, WIRE_ERROR };
	size_t lens[9], i, at = 0;

	lens[0] = add_hello();
	lens[1] = add_layout();
	lens[2] = add_page(0, PS, 0, 0);
	lens[3] = add_page(PS, 16 * PS, WIRE_PAGE_FLAG_ZERO, 0);
	lens[4] = add_request();
	lens[5] = add_page(17 * PS, 5 * PS, WIRE_PAGE_FLAG_DEMAND, 41);
	lens[6] = add_push_done();
	lens[7] = add_complete();
	lens[8] = add_error();
	feed(0, stream_len);

	for (i = 0; i < 9; i++) {
		assert_int_equal(next(), 1);
		assert_frame(want[i], lens[i]);
		assert_int_equal(rb.head, at);
		if (i == 2)
			assert_payload(0, PS);
		if (i == 5)
			assert_payload(17 * PS, 5 * PS);
		rx_buffer_consume(&rb, &frame);
		at += lens[i];
	}
	assert_int_equal(at, stream_len);
	assert_int_equal(next(), 0);
	assert_int_equal(rb.head, stream_len);
	assert_int_equal(rb.tail, stream_len);
}

static void test_back_to_back_trailing_partial(void **state)
{
	size_t a = add_complete(), b = add_page(0, 4 * PS, 0, 0), c = add_error();
	size_t cut = a + b + c / 2;

	feed(0, cut);
	assert_int_equal(next(), 1);
	assert_frame(WIRE_COMPLETE, a);
	rx_buffer_consume(&rb, &frame);
	assert_int_equal(next(), 1);
	assert_frame(WIRE_PAGE, b);
	assert_payload(0, 4 * PS);
	rx_buffer_consume(&rb, &frame);
	assert_int_equal(next(), 0);
	assert_int_equal(rx_buffer_pending(&rb), c / 2);
	assert_int_equal(rb.head, a + b);

	feed(cut, stream_len - cut);
	assert_int_equal(next(), 1);
	assert_frame(WIRE_ERROR, c);
}

/* A frame header over the type's cap fails at once, before the body arrives. */
static void test_oversized_body(void **state)
{
	unsigned int t;

	for (t = WIRE_HELLO; t < WIRE_TYPE_END; t++) {
		reset_rb();
		stream_len = 0;
		wire_frame_hdr_encode(stream, t, (uint32_t)wire_max_body(t) + 1);
		feed(0, WIRE_FRAME_HDR_SIZE);
		assert_err(next(), -EMSGSIZE, "oversized frame header");
		assert_int_equal(rb.head, 0);
		assert_int_equal(rx_buffer_pending(&rb), WIRE_FRAME_HDR_SIZE);

		reset_rb();
		wire_frame_hdr_encode(stream, t, UINT32_MAX);
		feed(0, WIRE_FRAME_HDR_SIZE);
		assert_err(next(), -EMSGSIZE, "length 4294967295");
	}
}

static void test_unknown_type_and_reserved(void **state)
{
	static const uint16_t types[] = { 0, WIRE_TYPE_END, 0x1234, 0xffff };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		reset_rb();
		wire_frame_hdr_encode(stream, WIRE_HELLO, 0);
		stream[4] = (uint8_t)types[i];
		stream[5] = (uint8_t)(types[i] >> 8);
		feed(0, WIRE_FRAME_HDR_SIZE);
		assert_err(next(), -EPROTO, "malformed frame header");
	}
	for (i = 0; i < 16; i++) {
		reset_rb();
		wire_frame_hdr_encode(stream, WIRE_COMPLETE, 0);
		stream[6 + i / 8] = (uint8_t)(1u << (i % 8));
		feed(0, WIRE_FRAME_HDR_SIZE);
		assert_err(next(), -EPROTO, "malformed frame header");
		assert_int_equal(rb.head, 0);
	}
}

static void test_undecodable_body(void **state)
{
	static const uint8_t truncated_varint[] = { 0x10, 0x80 };
	static const uint8_t bad_wire_type[] = { 0x0f, 0x00, 0x00 };
	size_t a;

	a = add_raw(WIRE_HELLO, truncated_varint, sizeof(truncated_varint));
	feed(0, a);
	assert_err(next(), -EPROTO, "undecodable hello message (2 bytes)");

	reset_rb();
	stream_len = 0;
	a = add_raw(WIRE_PAGE, bad_wire_type, sizeof(bad_wire_type));
	feed(0, a);
	assert_err(next(), -EPROTO, "undecodable page message (3 bytes)");
	assert_int_equal(rb.head, 0);
}

static void test_body_exhausts_arena(void **state)
{
	static uint8_t body[64 * 48];
	size_t len = wire_max_body(WIRE_LAYOUT), i, a;

	assert_true(len <= sizeof(body));
	/* Each empty Region costs 2 bytes on the wire and a whole struct decoded. */
	for (i = 0; i + 1 < len; i += 2) {
		body[i] = 0x0a;
		body[i + 1] = 0x00;
	}
	a = add_raw(WIRE_LAYOUT, body, (uint32_t)len);
	feed(0, a);
	assert_err(next(), -ENOMEM, "undecodable memory-layout message");
	assert_true(arena.pb.exhausted);
}

static size_t page_header_only(uint32_t length, uint32_t flags)
{
	Wire__PageHeader h = WIRE__PAGE_HEADER__INIT;

	h.length = length;
	h.flags = flags;
	return add_msg(WIRE_PAGE, &h.base);
}

/* A payload over WIRE_MAX_PAYLOAD fails as soon as the header is in, not after the bytes. */
static void test_page_payload_too_long(void **state)
{
	static const uint32_t lengths[] = { WIRE_MAX_PAYLOAD + 1, WIRE_MAX_PAYLOAD + PS,
					    UINT32_MAX };
	char want[64];
	size_t i, a;

	for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
		reset_rb();
		stream_len = 0;
		a = page_header_only(lengths[i], i ? WIRE_PAGE_FLAG_DEMAND : 0);
		feed(0, a);
		snprintf(want, sizeof(want), "page payload of %u bytes, at most %u", lengths[i],
			 WIRE_MAX_PAYLOAD);
		assert_err(next(), -EMSGSIZE, want);
		assert_int_equal(rb.head, 0);
		assert_int_equal(rx_buffer_pending(&rb), a);
	}
}

static void test_page_payload_at_limit(void **state)
{
	size_t len = add_page(0, WIRE_MAX_PAYLOAD, 0, 0);
	size_t hdr = len - WIRE_MAX_PAYLOAD;

	feed(0, hdr);
	assert_int_equal(next(), 0);
	feed(hdr, WIRE_MAX_PAYLOAD - 1);
	assert_int_equal(next(), 0);
	feed(len - 1, 1);
	assert_int_equal(next(), 1);
	assert_int_equal(frame.frame_len, len);
	assert_payload(0, WIRE_MAX_PAYLOAD);
}

/* With the zero flag nothing follows, whatever the length says; wire_check_page_header judges it. */
static void test_zero_page_length_not_waited_for(void **state)
{
	size_t a = page_header_only(UINT32_MAX, WIRE_PAGE_FLAG_ZERO);

	feed(0, a);
	assert_int_equal(next(), 1);
	assert_int_equal(frame.frame_len, a);
	assert_null(frame.payload);
}

static void test_consume(void **state)
{
	size_t a = add_push_done(), b = add_complete();

	feed(0, a + b);
	assert_int_equal(next(), 1);
	rx_buffer_consume(&rb, &frame);
	assert_int_equal(rb.head, a);
	assert_int_equal(rb.tail, a + b);
	assert_int_equal(next(), 1);
	rx_buffer_consume(&rb, &frame);
	/* Never rewound here: a receive may be in flight into the tail. */
	assert_int_equal(rb.head, a + b);
	assert_int_equal(rb.tail, a + b);
	assert_int_equal(next(), 0);
}

static void test_compact_drained_rewinds(void **state)
{
	size_t a = add_push_done();

	feed(0, a);
	assert_int_equal(next(), 1);
	rx_buffer_consume(&rb, &frame);
	/* Plenty of space left, but drained: back to the start, the whole buffer for a recv. */
	assert_true(rx_buffer_space(&rb) >= RX_MAX_FRAME);
	rx_buffer_compact(&rb);
	assert_int_equal(rb.head, 0);
	assert_int_equal(rb.tail, 0);
	assert_int_equal(rx_buffer_space(&rb), rb.cap);
}

static void test_compact_noop(void **state)
{
	size_t a = add_complete(), b = add_complete();

	/* head == 0: nothing to move, even when space is short. */
	rb.tail = rb.cap - 10;
	rx_buffer_compact(&rb);
	assert_int_equal(rb.head, 0);
	assert_int_equal(rb.tail, rb.cap - 10);

	/* Enough space at the tail already: no copy. */
	reset_rb();
	feed(0, a + b);
	assert_int_equal(next(), 1);
	rx_buffer_consume(&rb, &frame);
	rx_buffer_compact(&rb);
	assert_int_equal(rb.head, a);
	assert_int_equal(rb.tail, a + b);
}

/*
 * Two full page frames taken, a third cut after `cut` bytes: compaction must move the partial
 * third frame to the start unchanged, and it must then complete normally.
 */
static void compact_with_partial(size_t cut)
{
	size_t a = add_page(0, WIRE_MAX_PAYLOAD, 0, 0);
	size_t b = add_page(512 * PS, WIRE_MAX_PAYLOAD, WIRE_PAGE_FLAG_DEMAND, 3);
	size_t c = add_page(1024 * PS, WIRE_MAX_PAYLOAD, 0, 0);

	assert_true(cut < c);
	feed(0, a + b + cut);
	assert_int_equal(next(), 1);
	rx_buffer_consume(&rb, &frame);
	assert_int_equal(next(), 1);
	assert_payload(512 * PS, WIRE_MAX_PAYLOAD);
	rx_buffer_consume(&rb, &frame);
	assert_int_equal(next(), 0);
	assert_true(rx_buffer_space(&rb) < RX_MAX_FRAME);

	rx_buffer_compact(&rb);
	assert_int_equal(rb.head, 0);
	assert_int_equal(rb.tail, cut);
	assert_memory_equal(rb.data, stream + a + b, cut);
	assert_true(rx_buffer_space(&rb) >= RX_MAX_FRAME);
	assert_int_equal(next(), 0);

	feed(a + b + cut, c - cut);
	assert_int_equal(next(), 1);
	assert_int_equal(frame.frame_len, c);
	assert_ptr_equal(frame.payload, rb.data + c - WIRE_MAX_PAYLOAD);
	assert_payload(1024 * PS, WIRE_MAX_PAYLOAD);
	rx_buffer_consume(&rb, &frame);
	assert_int_equal(rx_buffer_pending(&rb), 0);
}

static void test_compact_mid_payload(void **state)
{
	compact_with_partial(100 * 1024);
}

static void test_compact_mid_header(void **state)
{
	compact_with_partial(3);
}

static void test_compact_mid_body(void **state)
{
	compact_with_partial(WIRE_FRAME_HDR_SIZE + 2);
}

/*
 * payload_elsewhere (install_move's receiver): frame_missing names exactly the rest of the next
 * header, then of its body; a page frame ends at its body, its payload left to the caller;
 * a zero run and other frames are as ever.
 */
static void test_payload_elsewhere(void **state)
{
	size_t page = add_page(8 * PS, 3 * PS, 0, 0);
	size_t body = page - 3 * PS, zero = add_page(16 * PS, 2 * PS, WIRE_PAGE_FLAG_ZERO, 0);
	size_t done = add_push_done(), i;

	rb.payload_elsewhere = true;
	assert_int_equal(next(), 0);
	assert_int_equal(rb.frame_missing, WIRE_FRAME_HDR_SIZE);
	for (i = 0; i < body; i++) {
		size_t part_end = i < WIRE_FRAME_HDR_SIZE ? WIRE_FRAME_HDR_SIZE : body;

		assert_int_equal(rb.frame_missing, part_end - i);
		feed(i, 1);
		if (i + 1 < body)
			assert_int_equal(next(), 0);
	}
	assert_int_equal(next(), 1);
	assert_int_equal(frame.frame_len, body);
	assert_null(frame.payload);
	assert_int_equal(frame.payload_len, 3 * PS);
	assert_int_equal(((const Wire__PageHeader *)frame.msg)->length, 3 * PS);
	rx_buffer_consume(&rb, &frame);
	/* The caller took the payload from the socket; the stream goes on after it. */
	feed(page, zero + done);
	assert_int_equal(next(), 1);
	assert_frame(WIRE_PAGE, zero);
	assert_null(frame.payload);
	assert_int_equal(frame.payload_len, 0);
	rx_buffer_consume(&rb, &frame);
	assert_int_equal(next(), 1);
	assert_frame(WIRE_PUSH_DONE, done);
	rx_buffer_consume(&rb, &frame);
	assert_int_equal(next(), 0);
	assert_int_equal(rb.frame_missing, WIRE_FRAME_HDR_SIZE);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init),
		T(test_empty_and_short_header),
		T(test_every_type),
		T(test_page_payload_in_place),
		T(test_payload_elsewhere),
		T(test_zero_page_has_no_payload),
		T(test_byte_by_byte),
		T(test_two_pieces_every_split),
		T(test_back_to_back),
		T(test_back_to_back_trailing_partial),
		T(test_oversized_body),
		T(test_unknown_type_and_reserved),
		T(test_undecodable_body),
		T(test_body_exhausts_arena),
		T(test_page_payload_too_long),
		T(test_page_payload_at_limit),
		T(test_zero_page_length_not_waited_for),
		T(test_consume),
		T(test_compact_noop),
		T(test_compact_drained_rewinds),
		T(test_compact_mid_payload),
		T(test_compact_mid_header),
		T(test_compact_mid_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
