// SPDX-License-Identifier: GPL-2.0-only
/*
 * Seeded random toucher: count steps, each reading one random word of its slice, folding it
 * into the result and adding the random value back to it. The host replays the same steps on
 * its own copy (guest_toucher_simulate()) and compares both the result and the memory.
 * Progress: one per GUEST_TOUCHER_PROGRESS_ITERS steps.
 */
#include "guest_math.h"
#include "guest_rt.h"

void guest_main(uint64_t index, uint64_t base, uint64_t size, uint64_t seed, uint64_t count)
{
	uint64_t x = guest_toucher_start(seed, index), acc = GUEST_FNV_OFFSET;
	uint64_t pages = size / GUEST_PAGE_SIZE, i;

	for (i = 0; i < count; i++) {
		uint64_t r = guest_toucher_next(&x);
		volatile uint64_t *p = (volatile uint64_t *)(base + guest_toucher_offset(r, pages));
		uint64_t v = *p;

		acc = guest_fnv_fold(acc, v);
		*p = v + r;
		if ((i + 1) % GUEST_TOUCHER_PROGRESS_ITERS == 0)
			guest_progress((i + 1) / GUEST_TOUCHER_PROGRESS_ITERS);
	}
	guest_result(acc);
	guest_done(0);
}
