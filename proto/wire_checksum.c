// SPDX-License-Identifier: GPL-2.0-only
/* The per-page checksum of the wire protocol (v2). */
#include "wire.h"

#include "wire_checksum_impl.h"

#include <stdbool.h>

/* Inlined: the protocol's libraries link no xxhash of their own. */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* Whether the AVX2 build of the hash may run here: asked once (a relaxed race is harmless). */
static bool use_avx2(void)
{
#if defined(__x86_64__) && defined(WIRE_CHECKSUM_AVX2)
	static int have = -1;
	int v = __atomic_load_n(&have, __ATOMIC_RELAXED);

	if (v < 0) {
		__builtin_cpu_init();
		v = __builtin_cpu_supports("avx2") ? 1 : 0;
		__atomic_store_n(&have, v, __ATOMIC_RELAXED);
	}
	return v;
#else
	return false;
#endif
}

uint64_t wire_page_checksum(uint32_t region, uint64_t offset, uint32_t length, uint32_t flags,
			    const void *payload, size_t len)
{
	/* Every header field that says where the bytes go, mixed into the seed. */
	uint64_t seed = XXH3_64bits_withSeed(&offset, sizeof(offset),
					     (uint64_t)region << 40 ^ (uint64_t)flags << 32 ^ length);

#if defined(__x86_64__) && defined(WIRE_CHECKSUM_AVX2)
	if (len && use_avx2())
		return wire_checksum_hash_avx2(payload, len, seed);
#endif
	return XXH3_64bits_withSeed(payload, len, seed);
}
