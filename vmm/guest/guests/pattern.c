// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pattern writer and checksummer: writes guest_pattern_word(seed, gpa) to every word of its
 * slice, reads it all back, counts the words that differ and folds every word read into the
 * result (guest_math.h), which the host recomputes. Progress: one per MiB written, then one
 * per MiB read (1 .. 2 * size / MiB).
 */
#include <emmintrin.h>

#include "guest_math.h"
#include "guest_rt.h"

void guest_main(uint64_t index, uint64_t base, uint64_t size, uint64_t seed, uint64_t count)
{
	uint64_t off, progress = 0, errors = 0, fnv = GUEST_FNV_OFFSET;
	/* The plain sum lives in an SSE register: a migration must carry the XSAVE state. */
	__m128i add = _mm_setzero_si128();
	uint64_t lanes[2];

	for (off = 0; off < size; off += 8) {
		*(volatile uint64_t *)(base + off) = guest_pattern_word(seed, base + off);
		if ((off + 8) % GUEST_PATTERN_PROGRESS_BYTES == 0)
			guest_progress(++progress);
	}
	for (off = 0; off < size; off += 16) {
		const volatile uint64_t *p = (const volatile uint64_t *)(base + off);
		uint64_t w0 = p[0], w1 = p[1];

		add = _mm_add_epi64(add, _mm_set_epi64x((long long)w1, (long long)w0));
		errors += w0 != guest_pattern_word(seed, base + off);
		errors += w1 != guest_pattern_word(seed, base + off + 8);
		fnv = guest_fnv_fold(guest_fnv_fold(fnv, w0), w1);
		if ((off + 16) % GUEST_PATTERN_PROGRESS_BYTES == 0)
			guest_progress(++progress);
	}
	_mm_storeu_si128((__m128i *)lanes, add);
	guest_result(guest_pattern_result(fnv, lanes[0], lanes[1]));
	guest_done(errors > 0xffffffffu ? 0xffffffffu : (uint32_t)errors);
}
