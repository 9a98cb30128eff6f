// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for proto/wire.c and proto/wire_check.c: framing, bounded decoding, checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "wire.h"

#define PS 4096u
#define MIB (1024ull * 1024)
#define GIB (1024 * MIB)

static struct wire_arena arena;
static uint8_t buf[WIRE_FRAME_HDR_SIZE + 8192];
static char err[256];

struct layout_msg {
	Wire__MemoryLayout msg;
	Wire__Region regions[2 * WIRE_MAX_REGIONS];
	Wire__Region *ptrs[2 * WIRE_MAX_REGIONS];
};

static int setup(void **state)
{
	wire_arena_init(&arena);
	memset(err, 0, sizeof(err));
	return 0;
}

static void assert_err(int got, int want, const char *needle)
{
	assert_int_equal(got, want);
	if (!strstr(err, needle))
		fail_msg("error text \"%s\" does not mention \"%s\"", err, needle);
}

static bool in_arena(const void *p)
{
	return (const uint8_t *)p >= arena.mem && (const uint8_t *)p < arena.mem + WIRE_ARENA_SIZE;
}

/* Frame out, header back, body back: the decoded message, from the arena. */
static ProtobufCMessage *round_trip(enum wire_type type, const ProtobufCMessage *msg)
{
	size_t body = protobuf_c_message_get_packed_size(msg);
	ssize_t n = wire_encode(type, msg, buf, sizeof(buf));
	struct wire_frame_hdr hdr;
	ProtobufCMessage *out = NULL;

	assert_int_equal(n, WIRE_FRAME_HDR_SIZE + body);
	assert_true(body <= wire_max_body(type));
	assert_int_equal(wire_frame_hdr_decode(buf, &hdr), 0);
	assert_int_equal(hdr.type, type);
	assert_int_equal(hdr.len, body);
	assert_int_equal(wire_decode(&arena, type, buf + WIRE_FRAME_HDR_SIZE, hdr.len, &out), 0);
	assert_non_null(out);
	assert_ptr_equal(out->descriptor, msg->descriptor);
	assert_true(in_arena(out));
	assert_false(arena.pb.exhausted);
	return out;
}

static int decode_raw(enum wire_type type, const void *body, size_t len)
{
	ProtobufCMessage *out = NULL;

	return wire_decode(&arena, type, body, len, &out);
}

static void lm_init(struct layout_msg *lm)
{
	wire__memory_layout__init(&lm->msg);
	lm->msg.regions = lm->ptrs;
}

static Wire__Region *lm_add(struct layout_msg *lm, uint64_t gpa, uint64_t size)
{
	size_t i = lm->msg.n_regions++;
	Wire__Region *r = &lm->regions[i];

	wire__region__init(r);
	r->id = (uint32_t)i;
	r->guest_phys_addr = gpa;
	r->size = size;
	r->backing = WIRE__BACKING__BACKING_ANON;
	lm->ptrs[i] = r;
	return r;
}

/* Region 0: 1 MiB at 0; region 1: 64 KiB at 4 GiB. */
static void std_layout(struct wire_layout *layout)
{
	memset(layout, 0, sizeof(*layout));
	layout->n_regions = 2;
	layout->regions[0] = (struct wire_region){ 0, 0, MIB, WIRE_BACKING_ANON };
	layout->regions[1] = (struct wire_region){ 1, 4 * GIB, 64 * 1024, WIRE_BACKING_SHMEM };
}

static Wire__Hello good_hello(void)
{
	Wire__Hello h = WIRE__HELLO__INIT;

	h.magic = WIRE_MAGIC;
	h.version = WIRE_VERSION;
	h.page_size = PS;
	h.channel = WIRE__CHANNEL__CHANNEL_DEMAND;
	h.session_id = 0x1122334455667788ull;
	return h;
}

/* ---- frame header ---- */

static void test_type_names_and_caps(void **state)
{
	static const char *const names[WIRE_TYPE_END] = {
		[WIRE_HELLO] = "hello",		  [WIRE_LAYOUT] = "memory-layout",
		[WIRE_PAGE_REQUEST] = "page-request", [WIRE_PAGE] = "page",
		[WIRE_PUSH_DONE] = "push-done",	  [WIRE_COMPLETE] = "complete",
		[WIRE_ERROR] = "error",		  [WIRE_VM_CONFIG] = "vm-config",
		[WIRE_VM_STATE] = "vm-state",	  [WIRE_VCPU_STATE] = "vcpu-state",
		[WIRE_DISCARD] = "discard",	  [WIRE_SWITCHOVER] = "switchover",
		[WIRE_PRESENT_BITMAP] = "present-bitmap", [WIRE_RESUME_READY] = "resume-ready",
	};
	unsigned int t;

	for (t = WIRE_HELLO; t < WIRE_TYPE_END; t++) {
		assert_string_equal(wire_type_name(t), names[t]);
		assert_true(wire_max_body(t) > 0);
		/* Opaque bodies (the VMM's) are decoded elsewhere, with their own arena. */
		if (!wire_type_is_opaque(t))
			assert_true(wire_max_body(t) <= WIRE_ARENA_SIZE);
	}
	/* The VMM's own messages: config and state. */
	assert_true(wire_type_is_opaque(WIRE_VM_CONFIG) && wire_type_is_opaque(WIRE_VCPU_STATE) &&
		    wire_type_is_opaque(WIRE_VM_STATE));
	assert_false(wire_type_is_opaque(WIRE_HELLO) || wire_type_is_opaque(0));
	assert_true(wire_max_body(WIRE_ERROR) >= WIRE_MAX_ERROR_TEXT);
	assert_string_equal(wire_type_name(0), "unknown");
	assert_string_equal(wire_type_name(WIRE_TYPE_END), "unknown");
	assert_string_equal(wire_type_name(0xffff), "unknown");
	assert_string_equal(wire_type_name(~0u), "unknown");
	assert_int_equal(wire_max_body(0), 0);
	assert_int_equal(wire_max_body(WIRE_TYPE_END), 0);
	assert_int_equal(wire_max_body(~0u), 0);
}

static void test_hdr_encode_layout(void **state)
{
	static const uint8_t want[8] = { 0x2a, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00 };
	static const uint8_t want_big[8] = { 0x44, 0x33, 0x22, 0x11, 0x07, 0x00, 0x00, 0x00 };
	uint8_t b[8];

	memset(b, 0xa5, sizeof(b));
	wire_frame_hdr_encode(b, WIRE_PAGE, 42);
	assert_memory_equal(b, want, 8);
	wire_frame_hdr_encode(b, WIRE_ERROR, 0x11223344);
	assert_memory_equal(b, want_big, 8);
}

static void test_hdr_round_trip_every_type(void **state)
{
	struct wire_frame_hdr hdr;
	unsigned int t;
	uint8_t b[8];

	for (t = WIRE_HELLO; t < WIRE_TYPE_END; t++) {
		uint32_t cap = (uint32_t)wire_max_body(t);

		wire_frame_hdr_encode(b, t, 0);
		assert_int_equal(wire_frame_hdr_decode(b, &hdr), 0);
		assert_int_equal(hdr.type, t);
		assert_int_equal(hdr.len, 0);

		wire_frame_hdr_encode(b, t, cap);
		assert_int_equal(wire_frame_hdr_decode(b, &hdr), 0);
		assert_int_equal(hdr.len, cap);

		wire_frame_hdr_encode(b, t, cap + 1);
		assert_int_equal(wire_frame_hdr_decode(b, &hdr), -EMSGSIZE);
		/* The header is still reported, for the error message. */
		assert_int_equal(hdr.type, t);
		assert_int_equal(hdr.len, cap + 1);

		wire_frame_hdr_encode(b, t, UINT32_MAX);
		assert_int_equal(wire_frame_hdr_decode(b, &hdr), -EMSGSIZE);
	}
}

static void test_hdr_unknown_type(void **state)
{
	static const uint16_t types[] = { 0, WIRE_TYPE_END, WIRE_TYPE_END + 1, 0x0100, 0x0401,
					  0xffff };
	struct wire_frame_hdr hdr;
	size_t i;
	uint8_t b[8];

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		wire_frame_hdr_encode(b, WIRE_HELLO, 0);
		b[4] = (uint8_t)types[i];
		b[5] = (uint8_t)(types[i] >> 8);
		assert_int_equal(wire_frame_hdr_decode(b, &hdr), -EPROTO);
		assert_int_equal(hdr.type, types[i]);
		/* Unknown type wins over an oversized length. */
		memset(b, 0xff, 4);
		assert_int_equal(wire_frame_hdr_decode(b, &hdr), -EPROTO);
	}
}

static void test_hdr_reserved_bits(void **state)
{
	struct wire_frame_hdr hdr;
	unsigned int bit;
	uint8_t b[8];

	for (bit = 0; bit < 16; bit++) {
		wire_frame_hdr_encode(b, WIRE_COMPLETE, 4);
		b[6 + bit / 8] = (uint8_t)(1u << (bit % 8));
		assert_int_equal(wire_frame_hdr_decode(b, &hdr), -EPROTO);
		/* Reserved bits win over an oversized length too. */
		b[0] = 0xff;
		assert_int_equal(wire_frame_hdr_decode(b, &hdr), -EPROTO);
	}
}

/* ---- encode / decode round trips ---- */

static void test_rt_hello(void **state)
{
	Wire__Hello h = good_hello(), *out;

	out = (Wire__Hello *)round_trip(WIRE_HELLO, &h.base);
	assert_int_equal(out->magic, WIRE_MAGIC);
	assert_int_equal(out->version, WIRE_VERSION);
	assert_int_equal(out->page_size, PS);
	assert_int_equal(out->features, 0);
	assert_int_equal(out->channel, WIRE__CHANNEL__CHANNEL_DEMAND);
	assert_int_equal(out->session_id, 0x1122334455667788ull);
	assert_int_equal(wire_check_hello(out, PS, WIRE__CHANNEL__CHANNEL_DEMAND, err, sizeof(err)), 0);

	/* Every field at its widest encoding must still fit the cap. */
	h.magic = UINT32_MAX;
	h.version = UINT32_MAX;
	h.page_size = UINT32_MAX;
	h.features = UINT64_MAX;
	h.channel = (Wire__Channel)-1;
	h.session_id = UINT64_MAX;
	out = (Wire__Hello *)round_trip(WIRE_HELLO, &h.base);
	assert_int_equal(out->magic, UINT32_MAX);
	assert_int_equal(out->version, UINT32_MAX);
	assert_int_equal(out->page_size, UINT32_MAX);
	assert_int_equal(out->features, UINT64_MAX);
	assert_int_equal((int)out->channel, -1);
	assert_int_equal(out->session_id, UINT64_MAX);
}

static void test_rt_layout(void **state)
{
	static struct layout_msg lm;
	struct wire_layout in, back;
	Wire__Region storage[WIRE_MAX_REGIONS], *ptrs[WIRE_MAX_REGIONS];
	Wire__MemoryLayout msg, *out;
	uint32_t i;

	std_layout(&in);
	in.regions[1] = (struct wire_region){ 1, 4 * GIB, 2 * MIB, WIRE_BACKING_HUGETLB };
	wire_layout_to_msg(&in, &msg, storage, ptrs);
	out = (Wire__MemoryLayout *)round_trip(WIRE_LAYOUT, &msg.base);
	assert_int_equal(out->n_regions, 2);
	memset(&back, 0xa5, sizeof(back));
	assert_int_equal(wire_layout_from_msg(out, PS, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n_regions, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(back.regions[i].id, in.regions[i].id);
		assert_int_equal(back.regions[i].gpa, in.regions[i].gpa);
		assert_int_equal(back.regions[i].size, in.regions[i].size);
		assert_int_equal(back.regions[i].backing, in.regions[i].backing);
	}

	/* The largest legal layout: every region, widest addresses. */
	lm_init(&lm);
	for (i = 0; i < WIRE_MAX_REGIONS; i++)
		lm_add(&lm, (0xfffull << 52) + (uint64_t)i * (1ull << 40), (1ull << 40) - 2 * MIB)
			->backing = WIRE__BACKING__BACKING_HUGETLB;
	out = (Wire__MemoryLayout *)round_trip(WIRE_LAYOUT, &lm.msg.base);
	assert_int_equal(out->n_regions, WIRE_MAX_REGIONS);
	assert_int_equal(wire_layout_from_msg(out, PS, &back, err, sizeof(err)), 0);
	assert_int_equal(back.n_regions, WIRE_MAX_REGIONS);
	for (i = 0; i < WIRE_MAX_REGIONS; i++) {
		assert_int_equal(back.regions[i].id, i);
		assert_int_equal(back.regions[i].gpa, lm.regions[i].guest_phys_addr);
		assert_int_equal(back.regions[i].size, (1ull << 40) - 2 * MIB);
		assert_int_equal(back.regions[i].backing, WIRE_BACKING_HUGETLB);
	}
}

static void test_rt_page_request(void **state)
{
	Wire__PageRequest r = WIRE__PAGE_REQUEST__INIT, *out;

	r.region = 1;
	r.offset = 0x3000;
	r.count = 7;
	r.request_id = 99;
	out = (Wire__PageRequest *)round_trip(WIRE_PAGE_REQUEST, &r.base);
	assert_int_equal(out->region, 1);
	assert_int_equal(out->offset, 0x3000);
	assert_int_equal(out->count, 7);
	assert_int_equal(out->request_id, 99);

	r.region = UINT32_MAX;
	r.offset = UINT64_MAX;
	r.count = UINT32_MAX;
	r.request_id = UINT64_MAX;
	out = (Wire__PageRequest *)round_trip(WIRE_PAGE_REQUEST, &r.base);
	assert_int_equal(out->region, UINT32_MAX);
	assert_int_equal(out->offset, UINT64_MAX);
	assert_int_equal(out->count, UINT32_MAX);
	assert_int_equal(out->request_id, UINT64_MAX);
}

static void test_rt_page_header(void **state)
{
	Wire__PageHeader p = WIRE__PAGE_HEADER__INIT, *out;

	p.region = 0;
	p.offset = 0x10000;
	p.flags = WIRE_PAGE_FLAG_DEMAND;
	p.length = 8 * PS;
	p.request_id = 5;
	out = (Wire__PageHeader *)round_trip(WIRE_PAGE, &p.base);
	assert_int_equal(out->region, 0);
	assert_int_equal(out->offset, 0x10000);
	assert_int_equal(out->flags, WIRE_PAGE_FLAG_DEMAND);
	assert_int_equal(out->length, 8 * PS);
	assert_int_equal(out->request_id, 5);

	p.region = UINT32_MAX;
	p.offset = UINT64_MAX;
	p.flags = UINT32_MAX;
	p.length = UINT32_MAX;
	p.request_id = UINT64_MAX;
	out = (Wire__PageHeader *)round_trip(WIRE_PAGE, &p.base);
	assert_int_equal(out->region, UINT32_MAX);
	assert_int_equal(out->offset, UINT64_MAX);
	assert_int_equal(out->flags, UINT32_MAX);
	assert_int_equal(out->length, UINT32_MAX);
	assert_int_equal(out->request_id, UINT64_MAX);
}

static void test_rt_push_done_complete(void **state)
{
	static const uint64_t values[] = { 0, 1, 262144, UINT64_MAX };
	Wire__PushDone pd = WIRE__PUSH_DONE__INIT, *pd_out;
	Wire__Complete c = WIRE__COMPLETE__INIT, *c_out;
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		pd.pages_sent = values[i];
		pd_out = (Wire__PushDone *)round_trip(WIRE_PUSH_DONE, &pd.base);
		assert_int_equal(pd_out->pages_sent, values[i]);
		c.pages_received = values[i];
		c_out = (Wire__Complete *)round_trip(WIRE_COMPLETE, &c.base);
		assert_int_equal(c_out->pages_received, values[i]);
	}
}

static void test_rt_error(void **state)
{
	char text[WIRE_MAX_ERROR_TEXT + 1];
	Wire__Error e = WIRE__ERROR__INIT, *out;

	e.code = WIRE__ERROR_CODE__ERROR_RANGE;
	e.text = "page request outside the layout";
	out = (Wire__Error *)round_trip(WIRE_ERROR, &e.base);
	assert_int_equal(out->code, WIRE__ERROR_CODE__ERROR_RANGE);
	assert_string_equal(out->text, "page request outside the layout");
	assert_true(in_arena(out->text));

	/* Longest text, widest code: still under the cap. */
	memset(text, 'x', WIRE_MAX_ERROR_TEXT);
	text[WIRE_MAX_ERROR_TEXT] = '\0';
	e.code = (Wire__ErrorCode)-1;
	e.text = text;
	out = (Wire__Error *)round_trip(WIRE_ERROR, &e.base);
	assert_int_equal((int)out->code, -1);
	assert_string_equal(out->text, text);
}

static void test_decode_empty_body_every_type(void **state)
{
	ProtobufCMessage *out;
	unsigned int t;

	for (t = WIRE_HELLO; t < WIRE_TYPE_END; t++) {
		out = NULL;
		if (wire_type_is_opaque(t)) {
			assert_int_equal(wire_decode(&arena, t, "", 0, &out), -EPROTO);
			continue;
		}
		assert_int_equal(wire_decode(&arena, t, "", 0, &out), 0);
		assert_non_null(out);
	}
}

static void test_decode_keeps_unknown_fields(void **state)
{
	/* complete { pages_received = 3, field 9 = 7, field 10 = "ab" } */
	static const uint8_t body[] = { 0x08, 0x03, 0x48, 0x07, 0x52, 0x02, 'a', 'b' };
	ProtobufCMessage *out = NULL;

	assert_int_equal(wire_decode(&arena, WIRE_COMPLETE, body, sizeof(body), &out), 0);
	assert_int_equal(((Wire__Complete *)out)->pages_received, 3);
	assert_int_equal(out->n_unknown_fields, 2);
}

/* ---- encode errors ---- */

static void test_encode_errors(void **state)
{
	char text[WIRE_MAX_ERROR_TEXT + 64];
	Wire__Hello h = good_hello();
	Wire__Error e = WIRE__ERROR__INIT;
	size_t body = protobuf_c_message_get_packed_size(&h.base), i;
	uint8_t small[64];

	assert_int_equal(wire_encode(0, &h.base, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(wire_encode(WIRE_TYPE_END, &h.base, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(wire_encode(WIRE_PAGE, &h.base, buf, sizeof(buf)), -EINVAL);

	/* Exactly enough room, then one byte short: nothing written. */
	assert_int_equal(wire_encode(WIRE_HELLO, &h.base, small, WIRE_FRAME_HDR_SIZE + body),
			 WIRE_FRAME_HDR_SIZE + body);
	memset(small, 0xa5, sizeof(small));
	assert_int_equal(wire_encode(WIRE_HELLO, &h.base, small, WIRE_FRAME_HDR_SIZE + body - 1),
			 -EMSGSIZE);
	assert_int_equal(wire_encode(WIRE_HELLO, &h.base, small, 0), -EMSGSIZE);
	for (i = 0; i < sizeof(small); i++)
		assert_int_equal(small[i], 0xa5);

	/* A body over the type's cap, with plenty of buffer. */
	memset(text, 'y', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	e.text = text;
	assert_int_equal(wire_encode(WIRE_ERROR, &e.base, buf, sizeof(buf)), -EMSGSIZE);
}

static void test_encode_layout_over_cap(void **state)
{
	static struct layout_msg lm;
	size_t i;

	lm_init(&lm);
	for (i = 0; i < 2 * WIRE_MAX_REGIONS; i++)
		lm_add(&lm, UINT64_MAX - PS + 1, UINT64_MAX - PS + 1);
	assert_true(protobuf_c_message_get_packed_size(&lm.msg.base) > wire_max_body(WIRE_LAYOUT));
	assert_int_equal(wire_encode(WIRE_LAYOUT, &lm.msg.base, buf, sizeof(buf)), -EMSGSIZE);
}

/* ---- bounded decoding ---- */

static void test_decode_bad_type_or_size(void **state)
{
	uint8_t one = 0;
	unsigned int t;

	assert_int_equal(decode_raw(0, &one, 0), -EPROTO);
	assert_int_equal(decode_raw(WIRE_TYPE_END, &one, 0), -EPROTO);
	assert_int_equal(decode_raw(0xffff, &one, 0), -EPROTO);
	/* Over the cap: refused before unpacking (a read past `one` would trip ASan). */
	for (t = WIRE_HELLO; t < WIRE_TYPE_END; t++)
		assert_int_equal(decode_raw(t, &one, wire_max_body(t) + 1),
				 wire_type_is_opaque(t) ? -EPROTO : -EMSGSIZE);
	assert_int_equal(decode_raw(WIRE_PAGE, &one, SIZE_MAX), -EMSGSIZE);
}

struct bad_body {
	const char *what;
	enum wire_type type;
	uint8_t len;
	uint8_t bytes[16];
};

static const struct bad_body bad_bodies[] = {
	{ "truncated varint", WIRE_HELLO, 2, { 0x10, 0x80 } },
	{ "varint over 10 bytes", WIRE_PAGE_REQUEST, 12,
	  { 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 } },
	{ "truncated fixed32", WIRE_HELLO, 3, { 0x0d, 0x31, 0x4d } },
	{ "fixed32 field sent as varint", WIRE_HELLO, 2, { 0x08, 0x01 } },
	{ "varint field sent as fixed64", WIRE_PAGE, 9, { 0x11, 1, 2, 3, 4, 5, 6, 7, 8 } },
	{ "string overruns the body", WIRE_ERROR, 3, { 0x12, 0x05, 'a' } },
	{ "unknown field overruns the body", WIRE_COMPLETE, 2, { 0x7a, 0x7f } },
	{ "truncated tag", WIRE_PUSH_DONE, 1, { 0x80 } },
	{ "field number 0", WIRE_PUSH_DONE, 2, { 0x00, 0x00 } },
	{ "group wire type", WIRE_COMPLETE, 2, { 0x0b, 0x0c } },
	{ "wire type 6", WIRE_COMPLETE, 2, { 0x0e, 0x00 } },
	{ "wire type 7", WIRE_PAGE, 2, { 0x0f, 0x00 } },
	{ "region overruns the layout", WIRE_LAYOUT, 4, { 0x0a, 0x04, 0x08, 0x01 } },
	{ "region body malformed", WIRE_LAYOUT, 4, { 0x0a, 0x02, 0x10, 0x80 } },
	{ "region as a varint", WIRE_LAYOUT, 2, { 0x08, 0x01 } },
	{ "valid field then garbage", WIRE_PAGE, 4, { 0x08, 0x01, 0x20, 0xff } },
};

static void test_decode_malformed(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		const struct bad_body *b = &bad_bodies[i];
		int ret = decode_raw(b->type, b->bytes, b->len);

		if (ret != -EPROTO)
			fail_msg("%s: got %d, expected -EPROTO", b->what, ret);
		assert_false(arena.pb.exhausted);
	}
}

static void fill_pattern(uint8_t *p, size_t len, const uint8_t *unit, size_t unit_len)
{
	size_t i;

	for (i = 0; i + unit_len <= len; i += unit_len)
		memcpy(p + i, unit, unit_len);
}

static void test_decode_exhausts_arena(void **state)
{
	/* Empty regions cost 2 bytes each on the wire and ~64 bytes each decoded. */
	static const uint8_t empty_region[] = { 0x0a, 0x00 };
	static const uint8_t unknown_varint[] = { 0x78, 0x00 };
	static uint8_t body[64 * 48];
	size_t cap = wire_max_body(WIRE_LAYOUT);
	Wire__Complete c = WIRE__COMPLETE__INIT;
	ProtobufCMessage *out;

	assert_true(cap <= sizeof(body));
	fill_pattern(body, cap, empty_region, 2);
	assert_int_equal(decode_raw(WIRE_LAYOUT, body, cap), -ENOMEM);
	assert_true(arena.pb.exhausted);

	fill_pattern(body, cap, unknown_varint, 2);
	assert_int_equal(decode_raw(WIRE_LAYOUT, body, cap), -ENOMEM);

	/* The arena is reset by the next decode. */
	c.pages_received = 12;
	out = round_trip(WIRE_COMPLETE, &c.base);
	assert_int_equal(((Wire__Complete *)out)->pages_received, 12);
}

static void test_arena_bounds(void **state)
{
	ProtobufCAllocator *a = &arena.pb.allocator;
	uint8_t *p, *q;

	p = a->alloc(a->allocator_data, 1);
	q = a->alloc(a->allocator_data, 3);
	assert_ptr_equal(p, arena.mem);
	assert_ptr_equal(q, arena.mem + 16);
	assert_int_equal((uintptr_t)q % 16, 0);
	a->free(a->allocator_data, p);
	assert_int_equal(arena.pb.used, 19);

	assert_null(a->alloc(a->allocator_data, SIZE_MAX));
	assert_true(arena.pb.exhausted);
	wire_arena_reset(&arena);
	assert_false(arena.pb.exhausted);
	assert_null(a->alloc(a->allocator_data, WIRE_ARENA_SIZE + 1));
	wire_arena_reset(&arena);

	assert_ptr_equal(a->alloc(a->allocator_data, WIRE_ARENA_SIZE), arena.mem);
	assert_false(arena.pb.exhausted);
	assert_null(a->alloc(a->allocator_data, 1));
	assert_true(arena.pb.exhausted);

	wire_arena_reset(&arena);
	assert_ptr_equal(a->alloc(a->allocator_data, WIRE_ARENA_SIZE - 16), arena.mem);
	assert_ptr_equal(a->alloc(a->allocator_data, 16), arena.mem + WIRE_ARENA_SIZE - 16);
	assert_null(a->alloc(a->allocator_data, 1));
}

/* ---- hello ---- */

static void test_hello_accepts(void **state)
{
	Wire__Hello h = good_hello();

	assert_int_equal(wire_check_hello(&h, PS, WIRE__CHANNEL__CHANNEL_DEMAND, err, sizeof(err)), 0);
	assert_int_equal(wire_check_hello(&h, PS, WIRE__CHANNEL__CHANNEL_UNSPECIFIED, err,
					  sizeof(err)), 0);
	h.channel = WIRE__CHANNEL__CHANNEL_PUSH;
	assert_int_equal(wire_check_hello(&h, PS, WIRE__CHANNEL__CHANNEL_PUSH, err, sizeof(err)), 0);
	assert_int_equal(wire_check_hello(&h, PS, WIRE__CHANNEL__CHANNEL_UNSPECIFIED, err,
					  sizeof(err)), 0);
}

static int hello_check(const Wire__Hello *h, Wire__Channel expect)
{
	memset(err, 0, sizeof(err));
	return wire_check_hello(h, PS, expect, err, sizeof(err));
}

static void test_hello_rejects(void **state)
{
	Wire__Hello h;

	h = good_hello();
	h.magic = 0x31474d50; /* byte-swapped */
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_DEMAND), -EPROTO, "magic");
	h.magic = 0;
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_DEMAND), -EPROTO, "magic");

	h = good_hello();
	h.version = WIRE_VERSION - 1;
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_DEMAND), -EPROTONOSUPPORT, "version 4");
	h.version = WIRE_VERSION + 1;
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_DEMAND), -EPROTONOSUPPORT, "version 6");
	h.version = 0;
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_DEMAND), -EPROTONOSUPPORT, "version");

	h = good_hello();
	h.page_size = 2 * 1024 * 1024;
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_DEMAND), -EPROTO, "page size 2097152");
	h.page_size = 0;
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_DEMAND), -EPROTO, "page size");

	h = good_hello();
	h.features = 1;
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_DEMAND), -EPROTO, "feature bits 0x1");
	h.features = 1ull << 63;
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_DEMAND), -EPROTO, "feature");

	h = good_hello();
	h.channel = WIRE__CHANNEL__CHANNEL_PUSH;
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_DEMAND), -EPROTO, "channel");
	h.channel = WIRE__CHANNEL__CHANNEL_UNSPECIFIED;
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_DEMAND), -EPROTO, "channel");
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_UNSPECIFIED), -EPROTO, "unknown channel 0");
	/* v5: one connection for both channels, expected as such or taken where any is. */
	h.channel = WIRE__CHANNEL__CHANNEL_BOTH;
	assert_int_equal(hello_check(&h, WIRE__CHANNEL__CHANNEL_UNSPECIFIED), 0);
	assert_int_equal(hello_check(&h, WIRE__CHANNEL__CHANNEL_BOTH), 0);
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_DEMAND), -EPROTO, "channel 3, expected 1");
	h.channel = (Wire__Channel)4;
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_UNSPECIFIED), -EPROTO, "unknown channel 4");
	h.channel = (Wire__Channel)-1;
	assert_err(hello_check(&h, WIRE__CHANNEL__CHANNEL_UNSPECIFIED), -EPROTO, "channel");
}

static void test_check_short_err_buffer(void **state)
{
	Wire__Hello h = good_hello();
	char small[6];

	h.magic = 1;
	memset(small, 'Z', sizeof(small));
	assert_int_equal(wire_check_hello(&h, PS, WIRE__CHANNEL__CHANNEL_DEMAND, small, sizeof(small)),
			 -EPROTO);
	assert_string_equal(small, "bad m");
	assert_int_equal(wire_check_hello(&h, PS, WIRE__CHANNEL__CHANNEL_DEMAND, NULL, 0), -EPROTO);
}

/* ---- memory layout ---- */

static int layout_check(const struct layout_msg *lm, struct wire_layout *out)
{
	memset(err, 0, sizeof(err));
	return wire_layout_from_msg(&lm->msg, PS, out, err, sizeof(err));
}

static void test_layout_accepts(void **state)
{
	static struct layout_msg lm;
	struct wire_layout out;

	lm_init(&lm);
	lm_add(&lm, 0, 640 * 1024);
	lm_add(&lm, 640 * 1024, 384 * 1024)->backing = WIRE__BACKING__BACKING_SHMEM; /* adjacent */
	lm_add(&lm, 4 * GIB, 2 * MIB)->backing = WIRE__BACKING__BACKING_HUGETLB;
	lm_add(&lm, 16 * MIB, 2 * MIB); /* below an earlier region: order is by id only */
	lm_add(&lm, UINT64_MAX - 2 * PS + 1, PS); /* the top page but one */
	assert_int_equal(layout_check(&lm, &out), 0);
	assert_int_equal(out.n_regions, 5);
	assert_int_equal(out.regions[1].gpa, 640 * 1024);
	assert_int_equal(out.regions[1].backing, WIRE_BACKING_SHMEM);
	assert_int_equal(out.regions[3].gpa, 16 * MIB);
	assert_int_equal(out.regions[4].gpa, UINT64_MAX - 2 * PS + 1);

	lm_init(&lm);
	while (lm.msg.n_regions < WIRE_MAX_REGIONS)
		lm_add(&lm, lm.msg.n_regions * MIB, MIB);
	assert_int_equal(layout_check(&lm, &out), 0);
	assert_int_equal(out.n_regions, WIRE_MAX_REGIONS);
}

static void test_layout_count(void **state)
{
	static struct layout_msg lm;
	struct wire_layout out;

	lm_init(&lm);
	assert_err(layout_check(&lm, &out), -EINVAL, "no region");

	while (lm.msg.n_regions < WIRE_MAX_REGIONS + 1)
		lm_add(&lm, lm.msg.n_regions * MIB, MIB);
	assert_err(layout_check(&lm, &out), -E2BIG, "65 regions");
	lm.msg.n_regions = SIZE_MAX;
	assert_err(layout_check(&lm, &out), -E2BIG, "regions");
}

static void test_layout_ids(void **state)
{
	static struct layout_msg lm;
	struct wire_layout out;

	lm_init(&lm);
	lm_add(&lm, 0, MIB)->id = 1;
	lm_add(&lm, MIB, MIB)->id = 0;
	assert_err(layout_check(&lm, &out), -EINVAL, "region 0 has id 1");

	lm_init(&lm);
	lm_add(&lm, 0, MIB);
	lm_add(&lm, MIB, MIB)->id = 0;
	assert_err(layout_check(&lm, &out), -EINVAL, "region 1 has id 0");

	lm_init(&lm);
	lm_add(&lm, 0, MIB);
	lm_add(&lm, MIB, MIB)->id = 2;
	assert_err(layout_check(&lm, &out), -EINVAL, "id 2");
}

static void test_layout_alignment(void **state)
{
	static struct layout_msg lm;
	struct wire_layout out;

	lm_init(&lm);
	lm_add(&lm, 0, MIB);
	lm_add(&lm, 2 * MIB, 0);
	assert_err(layout_check(&lm, &out), -EINVAL, "not page aligned or empty");

	lm_init(&lm);
	lm_add(&lm, 0x800, MIB);
	assert_err(layout_check(&lm, &out), -EINVAL, "region 0: address 0x800");

	lm_init(&lm);
	lm_add(&lm, 0, MIB + 1);
	assert_err(layout_check(&lm, &out), -EINVAL, "not page aligned");

	lm_init(&lm);
	lm_add(&lm, 0, PS - 1);
	assert_err(layout_check(&lm, &out), -EINVAL, "not page aligned");
}

static void test_layout_overlap(void **state)
{
	static struct layout_msg lm;
	struct wire_layout out;

	lm_init(&lm);
	lm_add(&lm, 0, 2 * MIB);
	lm_add(&lm, MIB, MIB); /* inside */
	assert_err(layout_check(&lm, &out), -EINVAL, "regions 0 and 1 overlap");

	lm_init(&lm);
	lm_add(&lm, MIB, MIB);
	lm_add(&lm, 0, MIB + PS); /* last page over the start of region 0 */
	assert_err(layout_check(&lm, &out), -EINVAL, "regions 0 and 1 overlap");

	lm_init(&lm);
	lm_add(&lm, MIB, MIB);
	lm_add(&lm, 0, 4 * MIB); /* covers region 0 */
	assert_err(layout_check(&lm, &out), -EINVAL, "overlap");

	lm_init(&lm);
	lm_add(&lm, 0, MIB);
	lm_add(&lm, 8 * MIB, MIB);
	lm_add(&lm, 8 * MIB, MIB); /* identical to region 1 only */
	assert_err(layout_check(&lm, &out), -EINVAL, "regions 1 and 2 overlap");

	lm_init(&lm);
	lm_add(&lm, 0, MIB);
	lm_add(&lm, 8 * MIB, MIB);
	lm_add(&lm, 4 * MIB, MIB);
	lm_add(&lm, MIB - PS, 2 * PS); /* straddles region 0's end */
	assert_err(layout_check(&lm, &out), -EINVAL, "regions 0 and 3 overlap");
}

static void test_layout_backing(void **state)
{
	static const int bad[] = { WIRE__BACKING__BACKING_UNSPECIFIED, 4, 100, -1 };
	static struct layout_msg lm;
	struct wire_layout out;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		lm_init(&lm);
		lm_add(&lm, 0, MIB);
		lm_add(&lm, MIB, MIB)->backing = (Wire__Backing)bad[i];
		assert_err(layout_check(&lm, &out), -EINVAL, "region 1: unknown backing");
	}
}

static void test_layout_wrap(void **state)
{
	static struct layout_msg lm;
	struct wire_layout out;

	lm_init(&lm);
	lm_add(&lm, UINT64_MAX - PS + 1, 2 * PS);
	assert_err(layout_check(&lm, &out), -EINVAL, "region 0 wraps");

	lm_init(&lm);
	lm_add(&lm, 0, MIB);
	lm_add(&lm, 1ull << 63, 1ull << 63 | MIB);
	assert_err(layout_check(&lm, &out), -EINVAL, "region 1 wraps");

	/* A wrapped region would look disjoint from region 0 to the overlap check. */
	lm_init(&lm);
	lm_add(&lm, MIB, MIB);
	lm_add(&lm, UINT64_MAX - PS + 1, 2 * MIB);
	assert_err(layout_check(&lm, &out), -EINVAL, "wraps");
}

/* ---- page request ---- */

static int req_check(uint32_t region, uint64_t offset, uint32_t count)
{
	Wire__PageRequest r = WIRE__PAGE_REQUEST__INIT;
	struct wire_layout layout;

	std_layout(&layout);
	r.region = region;
	r.offset = offset;
	r.count = count;
	r.request_id = 1;
	memset(err, 0, sizeof(err));
	return wire_check_page_request(&r, &layout, PS, err, sizeof(err));
}

static void test_page_request_accepts(void **state)
{
	assert_int_equal(req_check(0, 0, 1), 0);
	assert_int_equal(req_check(0, 0, WIRE_MAX_REQUEST_PAGES), 0);
	assert_int_equal(req_check(0, MIB - PS, 1), 0);
	assert_int_equal(req_check(0, MIB - 64 * PS, 64), 0);
	assert_int_equal(req_check(1, 0, 16), 0);
	assert_int_equal(req_check(1, 15 * PS, 1), 0);
}

static void test_page_request_rejects(void **state)
{
	struct wire_layout empty = { 0 };
	Wire__PageRequest r = WIRE__PAGE_REQUEST__INIT;

	assert_err(req_check(0, 0, 0), -EINVAL, "request for 0 pages");
	assert_err(req_check(0, 0, WIRE_MAX_REQUEST_PAGES + 1), -EINVAL, "request for 65 pages");
	assert_err(req_check(0, 0, UINT32_MAX), -EINVAL, "pages");

	assert_err(req_check(2, 0, 1), -ERANGE, "region 2 does not exist");
	assert_err(req_check(UINT32_MAX, 0, 1), -ERANGE, "does not exist");
	r.count = 1;
	assert_err(wire_check_page_request(&r, &empty, PS, err, sizeof(err)), -ERANGE,
		   "region 0 does not exist");

	assert_err(req_check(0, 0x800, 1), -EINVAL, "offset 0x800 is not page aligned");
	assert_err(req_check(0, 1, 1), -EINVAL, "not page aligned");

	assert_err(req_check(0, MIB, 1), -ERANGE, "outside region 0");
	assert_err(req_check(0, MIB - PS, 2), -ERANGE, "outside region 0");
	assert_err(req_check(1, 0, 17), -ERANGE, "outside region 1");
	assert_err(req_check(1, 8 * PS, 9), -ERANGE, "outside region 1");
	/* Offsets near 2^64 must not wrap back into the region. */
	assert_err(req_check(0, UINT64_MAX - PS + 1, 1), -ERANGE, "outside");
	assert_err(req_check(0, UINT64_MAX - 63 * PS + 1, 64), -ERANGE, "outside");
}

/* ---- page header ---- */

static int hdr_check(uint32_t region, uint64_t offset, uint32_t length, uint32_t flags,
		     uint64_t request_id)
{
	Wire__PageHeader h = WIRE__PAGE_HEADER__INIT;
	struct wire_layout layout;

	std_layout(&layout);
	h.region = region;
	h.offset = offset;
	h.length = length;
	h.flags = flags;
	h.request_id = request_id;
	memset(err, 0, sizeof(err));
	return wire_check_page_header(&h, &layout, PS, err, sizeof(err));
}

static void test_page_header_accepts(void **state)
{
	assert_int_equal(hdr_check(0, 0, PS, 0, 0), 0);
	assert_int_equal(hdr_check(0, 0, WIRE_MAX_PAGE_RUN, 0, 0), 0);
	assert_int_equal(hdr_check(0, MIB - PS, PS, WIRE_PAGE_FLAG_DEMAND, 7), 0);
	assert_int_equal(hdr_check(0, 0, 2 * PS, WIRE_PAGE_FLAG_ZERO, 0), 0);
	assert_int_equal(hdr_check(1, 0, 16 * PS, WIRE_PAGE_FLAG_ZERO | WIRE_PAGE_FLAG_DEMAND,
				   UINT64_MAX), 0);
}

static void test_page_header_rejects(void **state)
{
	assert_err(hdr_check(2, 0, PS, 0, 0), -ERANGE, "region 2 does not exist");
	assert_err(hdr_check(UINT32_MAX, 0, PS, 0, 0), -ERANGE, "does not exist");

	assert_err(hdr_check(0, MIB, PS, 0, 0), -ERANGE, "outside region 0");
	assert_err(hdr_check(0, 2 * MIB, PS, 0, 0), -ERANGE, "outside region 0");
	assert_err(hdr_check(0, MIB - PS, 2 * PS, 0, 0), -ERANGE, "outside region 0");
	assert_err(hdr_check(1, 0, 17 * PS, 0, 0), -ERANGE, "outside region 1");
	assert_err(hdr_check(0, UINT64_MAX - PS + 1, PS, 0, 0), -ERANGE, "outside");

	assert_err(hdr_check(0, PS / 2, PS, 0, 0), -EINVAL, "offset 0x800 is not page aligned");
	assert_err(hdr_check(0, 1, PS, 0, 0), -EINVAL, "not page aligned");

	assert_err(hdr_check(0, 0, 0, 0, 0), -EINVAL, "page length 0");
	assert_err(hdr_check(0, 0, 0, WIRE_PAGE_FLAG_ZERO, 0), -EINVAL, "page length 0");
	assert_err(hdr_check(0, 0, PS - 1, 0, 0), -EINVAL, "page length 4095");
	assert_err(hdr_check(0, 0, PS + 512, 0, 0), -EINVAL, "multiple of 4096");
	assert_err(hdr_check(0, 0, WIRE_MAX_PAGE_RUN + PS, 0, 0), -EINVAL, "up to 262144");
	assert_err(hdr_check(0, 0, WIRE_MAX_PAGE_RUN + PS, WIRE_PAGE_FLAG_ZERO, 0), -EINVAL,
		   "page length");
	assert_err(hdr_check(0, 0, UINT32_MAX - PS + 1, 0, 0), -EINVAL, "page length");

	assert_err(hdr_check(0, 0, PS, 0x4, 0), -EINVAL, "unknown page flags 0x4");
	assert_err(hdr_check(0, 0, PS, 0x80000000u | WIRE_PAGE_FLAG_DEMAND, 1), -EINVAL,
		   "unknown page flags 0x80000002");

	assert_err(hdr_check(0, 0, PS, WIRE_PAGE_FLAG_DEMAND, 0), -EINVAL,
		   "demand flag and request id 0");
	assert_err(hdr_check(0, 0, PS, WIRE_PAGE_FLAG_DEMAND | WIRE_PAGE_FLAG_ZERO, 0), -EINVAL,
		   "demand flag");
	assert_err(hdr_check(0, 0, PS, 0, 9), -EINVAL, "demand flag and request id 9");
}

/* v4: a HUGETLB region moves in whole 2 MiB pages only, and its layout is 2 MiB aligned. */
static void huge_layout(struct wire_layout *layout)
{
	std_layout(layout);
	layout->regions[1] = (struct wire_region){ 1, 4 * GIB, 8 * MIB, WIRE_BACKING_HUGETLB };
}

static void test_hugetlb_layout(void **state)
{
	static struct layout_msg lm;
	struct wire_layout out;

	lm_init(&lm);
	lm_add(&lm, 4 * GIB, 2 * MIB + PS)->backing = WIRE__BACKING__BACKING_HUGETLB;
	assert_err(layout_check(&lm, &out), -EINVAL, "not 2 MiB aligned");
	lm_init(&lm);
	lm_add(&lm, 4 * GIB + PS, 2 * MIB)->backing = WIRE__BACKING__BACKING_HUGETLB;
	assert_err(layout_check(&lm, &out), -EINVAL, "hugetlb address 0x100001000");
}

static void test_hugetlb_ranges(void **state)
{
	Wire__PageRequest r = WIRE__PAGE_REQUEST__INIT;
	Wire__PageHeader h = WIRE__PAGE_HEADER__INIT;
	Wire__Discard d = WIRE__DISCARD__INIT;
	uint64_t offsets[1];
	uint32_t counts[1];
	struct wire_layout layout;

	huge_layout(&layout);
	r.region = 1;
	r.request_id = 1;
	r.offset = 2 * MIB;
	r.count = 512;
	assert_int_equal(wire_check_page_request(&r, &layout, PS, err, sizeof(err)), 0);
	r.count = 1;
	assert_err(wire_check_page_request(&r, &layout, PS, err, sizeof(err)), -EINVAL,
		   "request for 1 pages of hugetlb region 1 (one 2 MiB page: 512)");
	r.count = 1024;
	assert_err(wire_check_page_request(&r, &layout, PS, err, sizeof(err)), -EINVAL, "512");
	r.count = 512;
	r.offset = MIB;
	assert_err(wire_check_page_request(&r, &layout, PS, err, sizeof(err)), -EINVAL,
		   "request 0x100000+0x200000 of hugetlb region 1 is not whole 2 MiB pages");
	r.offset = 8 * MIB;
	assert_err(wire_check_page_request(&r, &layout, PS, err, sizeof(err)), -ERANGE,
		   "outside region 1");
	/* The anonymous region beside it keeps its rules. */
	r.region = 0;
	r.offset = 0;
	assert_err(wire_check_page_request(&r, &layout, PS, err, sizeof(err)), -EINVAL,
		   "request for 512 pages (1..64)");

	h.region = 1;
	h.offset = 6 * MIB;
	h.length = WIRE_HUGE_PAGE_SIZE;
	assert_int_equal(wire_check_page_header(&h, &layout, PS, err, sizeof(err)), 0);
	h.flags = WIRE_PAGE_FLAG_ZERO;
	assert_int_equal(wire_check_page_header(&h, &layout, PS, err, sizeof(err)), 0);
	h.length = WIRE_MAX_PAGE_RUN;
	assert_err(wire_check_page_header(&h, &layout, PS, err, sizeof(err)), -EINVAL,
		   "page length 262144 in hugetlb region 1 (one 2 MiB page: 2097152)");
	h.length = WIRE_HUGE_PAGE_SIZE;
	h.offset = 4 * MIB + PS;
	assert_err(wire_check_page_header(&h, &layout, PS, err, sizeof(err)), -EINVAL,
		   "not whole 2 MiB pages");
	h.offset = 8 * MIB;
	assert_err(wire_check_page_header(&h, &layout, PS, err, sizeof(err)), -ERANGE, "outside");
	/* 2 MiB is for hugetlb regions only. */
	h.region = 0;
	h.offset = 0;
	assert_err(wire_check_page_header(&h, &layout, PS, err, sizeof(err)), -EINVAL,
		   "up to 262144");

	d.region = 1;
	d.offsets = offsets;
	d.counts = counts;
	d.n_offsets = d.n_counts = 1;
	offsets[0] = 2 * MIB;
	counts[0] = 1024;
	assert_int_equal(wire_check_discard(&d, &layout, PS, err, sizeof(err)), 0);
	counts[0] = 1;
	assert_err(wire_check_discard(&d, &layout, PS, err, sizeof(err)), -EINVAL,
		   "discard 0x200000+0x1000 of hugetlb region 1 is not whole 2 MiB pages");
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_type_names_and_caps),
		T(test_hdr_encode_layout),
		T(test_hdr_round_trip_every_type),
		T(test_hdr_unknown_type),
		T(test_hdr_reserved_bits),
		T(test_rt_hello),
		T(test_rt_layout),
		T(test_rt_page_request),
		T(test_rt_page_header),
		T(test_rt_push_done_complete),
		T(test_rt_error),
		T(test_decode_empty_body_every_type),
		T(test_decode_keeps_unknown_fields),
		T(test_encode_errors),
		T(test_encode_layout_over_cap),
		T(test_decode_bad_type_or_size),
		T(test_decode_malformed),
		T(test_decode_exhausts_arena),
		T(test_arena_bounds),
		T(test_hello_accepts),
		T(test_hello_rejects),
		T(test_check_short_err_buffer),
		T(test_layout_accepts),
		T(test_layout_count),
		T(test_layout_ids),
		T(test_layout_alignment),
		T(test_layout_overlap),
		T(test_layout_backing),
		T(test_layout_wrap),
		T(test_page_request_accepts),
		T(test_page_request_rejects),
		T(test_page_header_accepts),
		T(test_page_header_rejects),
		T(test_hugetlb_layout),
		T(test_hugetlb_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
