// SPDX-License-Identifier: GPL-2.0-only
#include "pb_arena.h"

#include <errno.h>

static void *arena_alloc(void *data, size_t size)
{
	struct pb_arena *arena = data;
	size_t start = (arena->used + 15) & ~(size_t)15;

	if (size > arena->size || start > arena->size - size) {
		arena->exhausted = true;
		return NULL;
	}
	arena->used = start + size;
	return arena->mem + start;
}

static void arena_free(void *data, void *ptr)
{
	/* Freed all at once by pb_arena_reset(). */
}

void pb_arena_init(struct pb_arena *arena, void *mem, size_t size)
{
	*arena = (struct pb_arena){
		.allocator = { .alloc = arena_alloc, .free = arena_free, .allocator_data = arena },
		.mem = mem,
		.size = size,
	};
}

void pb_arena_reset(struct pb_arena *arena)
{
	arena->used = 0;
	arena->exhausted = false;
}

int pb_arena_unpack(struct pb_arena *arena, const ProtobufCMessageDescriptor *desc,
		    const void *body, size_t len, ProtobufCMessage **out)
{
	ProtobufCMessage *msg;

	pb_arena_reset(arena);
	msg = protobuf_c_message_unpack(desc, &arena->allocator, len, body);
	if (!msg)
		return arena->exhausted ? -ENOMEM : -EPROTO;
	*out = msg;
	return 0;
}
