/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A deterministic memory image for tests and the demo: every page's bytes are a
 * function of (seed, region, page index), and a seeded share of pages is zero.
 */
#ifndef COMMON_PATTERN_H
#define COMMON_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pattern {
	uint64_t seed;
	/* One page in zero_every is all zeros (0: none). */
	uint32_t zero_every;
};

bool pattern_page_is_zero(const struct pattern *p, uint32_t region, uint64_t page);
void pattern_fill_page(const struct pattern *p, uint32_t region, uint64_t page,
		       void *dst, size_t page_size);
void pattern_fill(const struct pattern *p, uint32_t region, void *dst, uint64_t size,
		  size_t page_size);
uint64_t pattern_count_zero(const struct pattern *p, uint32_t region, uint64_t pages);

#endif
