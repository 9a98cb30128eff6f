// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: one protobuf body of any wire type (the first input byte picks the type), decoded
 * with the bounded arena, then the meaning checks the pager and source apply to it (hello,
 * layout, page request and header, discard, and the present bitmap of a resume).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PS 4096u

static const struct wire_layout layout = {
	.n_regions = 2,
	.regions = {
		{ .id = 0, .gpa = 0, .size = 1u << 20, .backing = WIRE_BACKING_ANON },
		{ .id = 1, .gpa = 1ull << 32, .size = 64u << 10, .backing = WIRE_BACKING_ANON },
	},
};

/*
 * An accepted bitmap starts inside its region, on a byte of bits, and runs past the region's
 * end by the spare bits of its last byte at most (the source ignores those).
 */
static void check_bitmap(const Wire__PresentBitmap *m)
{
	uint64_t pages = layout.regions[m->region].size / PS;

	assert(m->region < layout.n_regions && m->first_page % 8 == 0 && m->first_page < pages);
	assert(m->bits.len >= 1 && m->bits.len <= WIRE_MAX_BITMAP_BYTES);
	/* Fewer than 8 of its pages lie past the region: only the last byte's spare bits. */
	assert(m->first_page + (uint64_t)m->bits.len * 8 < pages + 8);
}

static void check_meaning(unsigned int type, const ProtobufCMessage *msg)
{
	struct wire_layout out;
	char err[256];

	switch (type) {
	case WIRE_HELLO:
		wire_check_hello((const Wire__Hello *)msg, PS, WIRE__CHANNEL__CHANNEL_UNSPECIFIED,
				 err, sizeof(err));
		break;
	case WIRE_LAYOUT:
		if (wire_layout_from_msg((const Wire__MemoryLayout *)msg, PS, &out, err,
					 sizeof(err)) == 0)
			assert(out.n_regions >= 1 && out.n_regions <= WIRE_MAX_REGIONS);
		break;
	case WIRE_PAGE_REQUEST:
		wire_check_page_request((const Wire__PageRequest *)msg, &layout, PS, err,
					sizeof(err));
		break;
	case WIRE_PAGE:
		if (wire_check_page_header((const Wire__PageHeader *)msg, &layout, PS, err,
					   sizeof(err)) == 0) {
			const Wire__PageHeader *h = (const Wire__PageHeader *)msg;

			/* An accepted header names pages inside its region. */
			assert(h->region < layout.n_regions);
			assert(h->offset + h->length <= layout.regions[h->region].size);
		}
		break;
	case WIRE_DISCARD:
		wire_check_discard((const Wire__Discard *)msg, &layout, PS, err, sizeof(err));
		break;
	case WIRE_PRESENT_BITMAP:
		if (wire_check_present_bitmap((const Wire__PresentBitmap *)msg, &layout, PS, err,
					      sizeof(err)) == 0)
			check_bitmap((const Wire__PresentBitmap *)msg);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wire_arena *arena;
	ProtobufCMessage *msg;
	unsigned int type;

	if (!arena) {
		arena = malloc(sizeof(*arena));
		assert(arena);
		wire_arena_init(arena);
	}
	if (size < 1)
		return 0;
	type = data[0] % WIRE_TYPE_END;
	if (wire_decode(arena, (enum wire_type)type, data + 1, size - 1, &msg) != 0)
		return 0;
	check_meaning(type, msg);
	return 0;
}
