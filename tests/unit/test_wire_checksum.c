// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for proto/wire_checksum.c: the page checksum is one function of its inputs
 * whichever build of the hash the CPU runs (the AVX2 one where it can), so both ends of a
 * migration agree. The reference here is XXH3 built for plain scalar code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "wire.h"

#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_SCALAR
#include <xxhash.h>

static uint64_t reference(uint32_t region, uint64_t offset, uint32_t length, uint32_t flags,
			  const void *payload, size_t len)
{
	uint64_t seed = XXH3_64bits_withSeed(&offset, sizeof(offset),
					     (uint64_t)region << 40 ^ (uint64_t)flags << 32 ^ length);

	return XXH3_64bits_withSeed(payload, len, seed);
}

static void test_every_length_matches_scalar(void **state)
{
	static const size_t lens[] = { 0, 1, 16, 17, 128, 129, 240, 241, 1024, 4095, 4096,
				       8192, 65536, 256 * 1024 };
	uint8_t *buf = malloc(256 * 1024 + 1);
	size_t i, k;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < 256 * 1024 + 1; i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		uint32_t length = (uint32_t)lens[k];

		/* Aligned and not: the payload sits wherever the frame put it. */
		assert_int_equal(wire_page_checksum(3, 0x7000, length, 0, buf, lens[k]),
				 reference(3, 0x7000, length, 0, buf, lens[k]));
		assert_int_equal(wire_page_checksum(0, 0, length, 2, buf + 1, lens[k]),
				 reference(0, 0, length, 2, buf + 1, lens[k]));
	}
	/* A zero run: no payload at all. */
	assert_int_equal(wire_page_checksum(1, 4096, 8192, 1, NULL, 0),
			 reference(1, 4096, 8192, 1, NULL, 0));
	free(buf);
}

static void test_binds_the_address(void **state)
{
	uint8_t page[4096] = { 1 };

	(void)state;
	assert_int_not_equal(wire_page_checksum(0, 0, 4096, 0, page, 4096),
			     wire_page_checksum(0, 4096, 4096, 0, page, 4096));
	assert_int_not_equal(wire_page_checksum(0, 0, 4096, 0, page, 4096),
			     wire_page_checksum(1, 0, 4096, 0, page, 4096));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_length_matches_scalar),
		cmocka_unit_test(test_binds_the_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
