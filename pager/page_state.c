// SPDX-License-Identifier: GPL-2.0-only
#include "page_state.h"

#include <errno.h>
#include <stdlib.h>

#define WORD_BITS 64u

static inline uint64_t word_of(uint64_t page)
{
	return page / WORD_BITS;
}

static inline uint64_t bit_of(uint64_t page)
{
	return 1ull << (page % WORD_BITS);
}

int page_state_init(struct page_state *ps, uint64_t n_pages)
{
	uint64_t words = n_pages / WORD_BITS + !!(n_pages % WORD_BITS);

	ps->n_pages = n_pages;
	ps->n_present = 0;
	ps->requested = calloc(words ? words : 1, sizeof(uint64_t));
	ps->present = calloc(words ? words : 1, sizeof(uint64_t));
	if (!ps->requested || !ps->present) {
		page_state_free(ps);
		return -ENOMEM;
	}
	return 0;
}

void page_state_free(struct page_state *ps)
{
	free(ps->requested);
	free(ps->present);
	ps->requested = NULL;
	ps->present = NULL;
}

enum page_status page_state_get(const struct page_state *ps, uint64_t page)
{
	uint64_t w = word_of(page), b = bit_of(page);

	if (__atomic_load_n(&ps->present[w], __ATOMIC_ACQUIRE) & b)
		return PAGE_PRESENT;
	if (__atomic_load_n(&ps->requested[w], __ATOMIC_RELAXED) & b)
		return PAGE_REQUESTED;
	return PAGE_ABSENT;
}

bool page_state_request(struct page_state *ps, uint64_t page)
{
	if (page_state_get(ps, page) != PAGE_ABSENT)
		return false;
	__atomic_fetch_or(&ps->requested[word_of(page)], bit_of(page), __ATOMIC_RELAXED);
	return true;
}

bool page_state_set_present(struct page_state *ps, uint64_t page)
{
	uint64_t w = word_of(page), b = bit_of(page);

	if (__atomic_load_n(&ps->present[w], __ATOMIC_RELAXED) & b)
		return false;
	/* Release: a reader that sees the bit also sees the installed page's accounting. */
	__atomic_fetch_or(&ps->present[w], b, __ATOMIC_RELEASE);
	__atomic_fetch_and(&ps->requested[w], ~b, __ATOMIC_RELAXED);
	__atomic_fetch_add(&ps->n_present, 1, __ATOMIC_RELEASE);
	return true;
}

bool page_state_set_absent(struct page_state *ps, uint64_t page)
{
	uint64_t w = word_of(page), b = bit_of(page);

	if (!(__atomic_load_n(&ps->present[w], __ATOMIC_RELAXED) & b))
		return false;
	__atomic_fetch_and(&ps->present[w], ~b, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&ps->n_present, 1, __ATOMIC_RELEASE);
	return true;
}

uint64_t page_state_next_missing_run(const struct page_state *ps, uint64_t first, uint64_t count,
				     uint64_t *run_first)
{
	uint64_t end, page = first, start;

	if (first >= ps->n_pages)
		return 0;
	end = count > ps->n_pages - first ? ps->n_pages : first + count;
	while (page < end && page_state_get(ps, page) == PAGE_PRESENT)
		page++;
	if (page == end)
		return 0;
	start = page;
	while (page < end && page_state_get(ps, page) != PAGE_PRESENT)
		page++;
	*run_first = start;
	return page - start;
}

uint64_t page_state_count_requested(const struct page_state *ps)
{
	uint64_t w, n = 0;

	for (w = 0; w < (ps->n_pages + WORD_BITS - 1) / WORD_BITS; w++)
		n += (uint64_t)__builtin_popcountll(__atomic_load_n(&ps->requested[w], __ATOMIC_RELAXED));
	return n;
}
