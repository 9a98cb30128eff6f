// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for relay/frame_tracker.c and relay/phase.c: a synthesised migration stream,
 * fed whole, byte by byte and split at seeded random points, always comes out as the same
 * frames with the same bytes; a stream that stops being framed passes on unchanged; the
 * phases begin where docs/fault-injection.md says.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "frame_tracker.h"
#include "phase.h"

#define PS 4096u
#define MAX_FRAMES 64

static uint8_t stream[1 << 20];
static size_t stream_len;

struct seen {
	struct relay_frame frames[MAX_FRAMES];
	unsigned int n;
	uint8_t bytes[sizeof(stream)];
	size_t len;
};

static struct seen *seen;

static void collect(void *ctx, struct relay_frame *f)
{
	struct seen *s = ctx;

	assert_true(s->len + f->len <= sizeof(s->bytes));
	memcpy(s->bytes + s->len, f->data, f->len);
	s->len += f->len;
	if (s->n < MAX_FRAMES) {
		s->frames[s->n] = *f;
		s->frames[s->n].data = NULL;
		s->n++;
	}
	free(f->data);
}

static void add_msg(enum wire_type type, const ProtobufCMessage *msg)
{
	ssize_t n = wire_encode(type, msg, stream + stream_len, sizeof(stream) - stream_len);

	assert_true(n >= (ssize_t)WIRE_FRAME_HDR_SIZE);
	stream_len += (size_t)n;
}

static void add_raw(unsigned int type, const void *body, uint32_t len)
{
	wire_frame_hdr_encode(stream + stream_len, (enum wire_type)type, len);
	memcpy(stream + stream_len + WIRE_FRAME_HDR_SIZE, body, len);
	stream_len += WIRE_FRAME_HDR_SIZE + len;
}

static void add_hello(Wire__Channel channel)
{
	Wire__Hello h = WIRE__HELLO__INIT;

	h.magic = WIRE_MAGIC;
	h.version = 1;
	h.page_size = PS;
	h.channel = channel;
	h.session_id = 0xfeedull;
	add_msg(WIRE_HELLO, &h.base);
}

/* A PageHeader with a field this version does not know (15), then the payload. */
static void add_page(uint64_t offset, uint32_t length, uint32_t flags, uint64_t request_id)
{
	Wire__PageHeader h = WIRE__PAGE_HEADER__INIT;
	uint8_t body[64];
	size_t n, i;

	h.region = 1;
	h.offset = offset;
	h.length = length;
	h.flags = flags;
	h.request_id = request_id;
	n = protobuf_c_message_pack(&h.base, body);
	body[n++] = 15 << 3;
	body[n++] = 0x2a;
	add_raw(WIRE_PAGE, body, (uint32_t)n);
	if (flags & WIRE_PAGE_FLAG_ZERO)
		return;
	for (i = 0; i < length; i++)
		stream[stream_len + i] = (uint8_t)(offset / PS * 13 + i * 7);
	stream_len += length;
}

static void add_request(uint64_t offset)
{
	Wire__PageRequest r = WIRE__PAGE_REQUEST__INIT;

	r.offset = offset;
	r.count = 1;
	r.request_id = offset / PS + 1;
	add_msg(WIRE_PAGE_REQUEST, &r.base);
}

/* A live migration's demand channel as the relay sees both its directions, interleaved. */
static void build_migration(void)
{
	/* VmConfig: guest "pattern" (field 4) before nr_vcpus = 2 (field 1), as a reader skips. */
	static const uint8_t config[] = { 0x22, 7, 'p', 'a', 't', 't', 'e', 'r', 'n', 0x08, 2 };
	static const uint8_t state[40] = { 1 };
	static const uint8_t unknown[5] = { 9, 9, 9, 9, 9 };
	Wire__Complete c = WIRE__COMPLETE__INIT;

	stream_len = 0;
	add_hello(WIRE__CHANNEL__CHANNEL_DEMAND);
	add_raw(WIRE_VM_CONFIG, config, sizeof(config));
	add_raw(WIRE_VM_STATE, state, sizeof(state));
	add_raw(WIRE_VCPU_STATE, state, sizeof(state));
	add_raw(WIRE_VCPU_STATE, state, sizeof(state));
	add_request(0x5000);
	add_page(0x5000, PS, WIRE_PAGE_FLAG_DEMAND, 6);
	add_page(0x8000, 4 * PS, 0, 0);
	add_page(0x10000, 2 * PS, WIRE_PAGE_FLAG_ZERO, 0);
	add_raw(99, unknown, sizeof(unknown)); /* a newer peer's frame type */
	c.pages_received = 7;
	add_msg(WIRE_COMPLETE, &c.base);
}

static const unsigned int migration_types[] = {
	WIRE_HELLO, WIRE_VM_CONFIG, WIRE_VM_STATE, WIRE_VCPU_STATE, WIRE_VCPU_STATE,
	WIRE_PAGE_REQUEST, WIRE_PAGE, WIRE_PAGE, WIRE_PAGE, 99, WIRE_COMPLETE,
};
#define N_MIGRATION_FRAMES (sizeof(migration_types) / sizeof(migration_types[0]))

static int setup(void **state)
{
	seen = calloc(1, sizeof(*seen));
	return seen ? 0 : -1;
}

static int teardown(void **state)
{
	free(seen);
	return 0;
}

/* Feeds the stream in pieces of the sizes `next_piece` gives; the tracker's view of it. */
static void feed(size_t (*next_piece)(uint64_t *), uint64_t rng)
{
	struct frame_tracker ft;
	size_t at = 0, n;

	memset(seen, 0, sizeof(*seen));
	assert_int_equal(frame_tracker_init(&ft), 0);
	while (at < stream_len) {
		n = next_piece(&rng);
		n = n < stream_len - at ? n : stream_len - at;
		assert_int_equal(frame_tracker_feed(&ft, stream + at, n, collect, seen), 0);
		at += n;
	}
	assert_int_equal(frame_tracker_finish(&ft, collect, seen), 0);
	assert_false(frame_tracker_is_raw(&ft));
	assert_int_equal(ft.frames, N_MIGRATION_FRAMES);
	frame_tracker_free(&ft);
}

static size_t whole(uint64_t *rng)
{
	return sizeof(stream);
}

static size_t one_byte(uint64_t *rng)
{
	return 1;
}

static size_t random_piece(uint64_t *rng)
{
	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	/* Mostly small, so that headers, bodies and payloads all get split. */
	return *rng % 4 ? 1 + *rng % 23 : 1 + *rng % 9000;
}

static void check_migration_frames(void)
{
	const struct relay_frame *f = seen->frames;
	unsigned int i;

	assert_int_equal(seen->n, N_MIGRATION_FRAMES);
	for (i = 0; i < N_MIGRATION_FRAMES; i++)
		assert_int_equal(f[i].type, migration_types[i]);
	/* What passes is exactly what came in. */
	assert_int_equal(seen->len, stream_len);
	assert_memory_equal(seen->bytes, stream, stream_len);
	assert_int_equal(f[0].channel, WIRE__CHANNEL__CHANNEL_DEMAND);
	assert_int_equal(f[0].session_id, 0xfeed);
	assert_int_equal(f[0].page_size, PS);
	assert_int_equal(f[1].nr_vcpus, 2);
	/* The unknown field 15 is skipped, the known ones read. */
	assert_int_equal(f[6].region, 1);
	assert_int_equal(f[6].offset, 0x5000);
	assert_int_equal(f[6].flags, WIRE_PAGE_FLAG_DEMAND);
	assert_int_equal(f[6].request_id, 6);
	assert_int_equal(f[6].payload_len, PS);
	assert_int_equal(f[6].len, f[6].payload_off + PS);
	assert_int_equal(f[7].payload_len, 4 * PS);
	assert_int_equal(f[8].payload_len, 0); /* zero page: no payload */
	assert_int_equal(f[8].length, 2 * PS);
	assert_int_equal(f[9].len, WIRE_FRAME_HDR_SIZE + 5);
}

static void test_whole_stream(void **state)
{
	build_migration();
	feed(whole, 1);
	check_migration_frames();
}

static void test_byte_by_byte(void **state)
{
	build_migration();
	feed(one_byte, 1);
	check_migration_frames();
}

static void test_random_splits(void **state)
{
	uint64_t seed;

	build_migration();
	for (seed = 1; seed <= 200; seed++) {
		feed(random_piece, seed * 0x9e3779b97f4a7c15ull);
		check_migration_frames();
	}
}

/* Reserved bits are no frame boundary: from there on the bytes pass raw, unchanged. */
static void test_unframed_stream_passes_raw(void **state)
{
	struct frame_tracker ft;
	size_t at;

	stream_len = 0;
	add_hello(WIRE__CHANNEL__CHANNEL_PUSH);
	add_page(0, PS, 0, 0);
	at = stream_len;
	add_request(0);
	stream[at + 6] = 1; /* reserved */
	add_page(PS, PS, 0, 0);
	memset(seen, 0, sizeof(*seen));
	assert_int_equal(frame_tracker_init(&ft), 0);
	for (at = 0; at < stream_len; at += 3)
		frame_tracker_feed(&ft, stream + at, stream_len - at < 3 ? stream_len - at : 3,
				   collect, seen);
	assert_true(frame_tracker_is_raw(&ft));
	assert_non_null(strstr(ft.why_raw, "reserved bits"));
	assert_int_equal(seen->frames[0].type, WIRE_HELLO);
	assert_int_equal(seen->frames[1].type, WIRE_PAGE);
	assert_int_equal(seen->frames[2].type, RELAY_FRAME_RAW);
	assert_int_equal(seen->len, stream_len);
	assert_memory_equal(seen->bytes, stream, stream_len);
	frame_tracker_free(&ft);
}

/* A stream cut inside a frame: its bytes still go out, raw. */
static void test_finish_inside_a_frame(void **state)
{
	struct frame_tracker ft;

	stream_len = 0;
	add_page(0, PS, 0, 0);
	memset(seen, 0, sizeof(*seen));
	assert_int_equal(frame_tracker_init(&ft), 0);
	frame_tracker_feed(&ft, stream, stream_len - 100, collect, seen);
	assert_int_equal(seen->n, 0);
	frame_tracker_finish(&ft, collect, seen);
	assert_int_equal(seen->n, 1);
	assert_int_equal(seen->frames[0].type, RELAY_FRAME_RAW);
	assert_int_equal(seen->len, stream_len - 100);
	frame_tracker_free(&ft);
}

static void test_phases_of_a_migration(void **state)
{
	struct relay_phases ph;
	struct phase_step s[N_MIGRATION_FRAMES], push;
	struct relay_frame page = { .type = WIRE_PAGE, .length = 16 * PS };
	unsigned int i;

	build_migration();
	feed(whole, 1);
	relay_phases_init(&ph);
	for (i = 0; i < N_MIGRATION_FRAMES; i++)
		relay_phases_frame(&ph, RELAY_CH_DEMAND, &seen->frames[i], i + 1, &s[i]);
	assert_int_equal(s[0].before, PHASE_HANDSHAKE);
	assert_int_equal(s[1].before, PHASE_CONFIG);
	assert_int_equal(s[2].before, PHASE_STATE);
	assert_int_equal(s[3].after, PHASE_NONE);
	assert_int_equal(s[4].after, PHASE_RESTORE); /* after the second of two vCPU states */
	assert_int_equal(s[5].before, PHASE_FIRST_FAULT);
	assert_int_equal(s[10].before, PHASE_COMPLETION);
	for (i = 6; i < 10; i++)
		assert_true(s[i].before == PHASE_NONE && s[i].after == PHASE_NONE);
	assert_true(ph.seen[PHASE_RESTORE]);
	assert_int_equal(ph.at_ns[PHASE_RESTORE], 5);
	assert_false(ph.seen[PHASE_SWITCHOVER]);
	/* Demand pages do not count as pushed; push pages do, by the page. */
	assert_int_equal(ph.push_pages, 0);
	relay_phases_frame(&ph, RELAY_CH_PUSH, &page, 20, &push);
	assert_int_equal(push.push_pages_before, 0);
	assert_int_equal(push.push_pages_after, 16);
	/* Each phase once: a second hello begins nothing. */
	relay_phases_frame(&ph, RELAY_CH_PUSH, &seen->frames[0], 21, &push);
	assert_int_equal(push.before, PHASE_NONE);
	assert_int_equal(relay_sender_role(&seen->frames[5]), -1);
	assert_int_equal(relay_sender_role(&seen->frames[6]), 1);
	assert_int_equal(relay_sender_role(&seen->frames[10]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_by_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_splits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unframed_stream_passes_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_inside_a_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_phases_of_a_migration, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
