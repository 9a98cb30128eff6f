// SPDX-License-Identifier: GPL-2.0-only
/* The per-page checksum of the wire protocol (v2). */
#include "wire.h"

/* Inlined: the protocol's libraries link no xxhash of their own. */
#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t wire_page_checksum(uint32_t region, uint64_t offset, uint32_t length, uint32_t flags,
			    const void *payload, size_t len)
{
	/* Every header field that says where the bytes go, mixed into the seed. */
	uint64_t seed = XXH3_64bits_withSeed(&offset, sizeof(offset),
					     (uint64_t)region << 40 ^ (uint64_t)flags << 32 ^ length);

	return XXH3_64bits_withSeed(payload, len, seed);
}
