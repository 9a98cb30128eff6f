// SPDX-License-Identifier: GPL-2.0-only
/*
 * Incrementer: adds one to the first byte of every page of its slice, in order, pass after
 * pass, and reports each finished pass. Stopped at any point, a slice holds v+1 in the pages
 * before the stop and v after it: one edge (guest_incrementer_check()).
 * count != 0: stop after that many passes, result = passes.
 */
#include "guest_rt.h"

void guest_main(uint64_t index, uint64_t base, uint64_t size, uint64_t seed, uint64_t count)
{
	volatile uint8_t *mem = (volatile uint8_t *)base;
	uint64_t pass, off;

	for (pass = 1;; pass++) {
		for (off = 0; off < size; off += GUEST_PAGE_SIZE)
			mem[off]++;
		guest_progress(pass);
		if (count && pass == count)
			break;
	}
	guest_result(pass);
	guest_done(0);
}
