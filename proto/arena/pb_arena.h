/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The bounded allocator every protobuf-c decoder of the project unpacks with. protobuf-c has no
 * limits of its own: unpacking from this arena, a hostile body can cost at most the arena's
 * size, and exhaustion is told apart from a malformed body. Everything is freed at once by
 * pb_arena_reset(); the storage belongs to the caller.
 */
#ifndef PROTO_PB_ARENA_H
#define PROTO_PB_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct pb_arena {
	ProtobufCAllocator allocator;
	unsigned char *mem;
	size_t size, used;
	bool exhausted;
};

/* mem: size bytes, 16-byte aligned, kept by the caller while the arena is used. */
void pb_arena_init(struct pb_arena *arena, void *mem, size_t size);
void pb_arena_reset(struct pb_arena *arena);

/*
 * Resets the arena and unpacks one message of desc from it: 0, -ENOMEM (the message needs more
 * than the arena) or -EPROTO (malformed). The message lives until the next reset.
 */
int pb_arena_unpack(struct pb_arena *arena, const ProtobufCMessageDescriptor *desc,
		    const void *body, size_t len, ProtobufCMessage **out);

#endif
