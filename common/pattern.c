// SPDX-License-Identifier: GPL-2.0-only
#include "pattern.h"

#include <string.h>

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t page_key(const struct pattern *p, uint32_t region, uint64_t page)
{
	uint64_t state = p->seed ^ ((uint64_t)region << 48) ^ page;

	return splitmix64(&state);
}

bool pattern_page_is_zero(const struct pattern *p, uint32_t region, uint64_t page)
{
	return p->zero_every && page_key(p, region, page) % p->zero_every == 0;
}

void pattern_fill_page(const struct pattern *p, uint32_t region, uint64_t page,
		       void *dst, size_t page_size)
{
	uint64_t state, *words = dst;
	size_t i;

	if (pattern_page_is_zero(p, region, page)) {
		memset(dst, 0, page_size);
		return;
	}
	state = page_key(p, region, page);
	for (i = 0; i < page_size / sizeof(uint64_t); i++)
		words[i] = splitmix64(&state);
	/* Never all-zero by accident: a data page must not look like a zero page. */
	words[0] |= 1;
}

void pattern_fill(const struct pattern *p, uint32_t region, void *dst, uint64_t size,
		  size_t page_size)
{
	uint64_t page;

	for (page = 0; page < size / page_size; page++)
		pattern_fill_page(p, region, page, (char *)dst + page * page_size, page_size);
}

uint64_t pattern_count_zero(const struct pattern *p, uint32_t region, uint64_t pages)
{
	uint64_t page, n = 0;

	for (page = 0; page < pages; page++)
		n += pattern_page_is_zero(p, region, page);
	return n;
}
