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
	ps->claimed = calloc(words ? words : 1, sizeof(uint64_t));
	ps->waited = calloc(words ? words : 1, sizeof(uint64_t));
	if (!ps->requested || !ps->present || !ps->claimed || !ps->waited) {
		page_state_free(ps);
		return -ENOMEM;
	}
	return 0;
}

void page_state_free(struct page_state *ps)
{
	free(ps->requested);
	free(ps->present);
	free(ps->claimed);
	free(ps->waited);
	ps->waited = NULL;
	ps->requested = NULL;
	ps->present = NULL;
	ps->claimed = NULL;
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
	uint64_t w = word_of(page), b = bit_of(page);

	if (page_state_get(ps, page) != PAGE_ABSENT)
		return false;
	__atomic_fetch_or(&ps->requested[w], b, __ATOMIC_SEQ_CST);
	/*
	 * The push receiver may have set the page present (and cleared requested) since the
	 * check: clear the bit again, so that a present page never counts as requested.
	 */
	if (__atomic_load_n(&ps->present[w], __ATOMIC_SEQ_CST) & b)
		__atomic_fetch_and(&ps->requested[w], ~b, __ATOMIC_RELAXED);
	return true;
}

/* The bits of [first, first+count) that lie in word w, as a mask of that word. */
static uint64_t word_mask(uint64_t w, uint64_t first, uint64_t end)
{
	uint64_t lo = w * WORD_BITS, from = first > lo ? first - lo : 0;
	uint64_t to = end < lo + WORD_BITS ? end - lo : WORD_BITS;

	return (to - from == WORD_BITS ? ~0ull : ((1ull << (to - from)) - 1)) << from;
}

uint64_t page_state_claim(struct page_state *ps, uint64_t first, uint32_t count)
{
	uint64_t end, w, mine = 0;

	if (first >= ps->n_pages || !count)
		return 0;
	if (count > WORD_BITS)
		count = WORD_BITS;
	end = count > ps->n_pages - first ? ps->n_pages : first + count;
	/* At most two words: one fetch_or each, whose old value says what others had. */
	for (w = word_of(first); w * WORD_BITS < end; w++) {
		uint64_t mask = word_mask(w, first, end);
		uint64_t got = mask & ~__atomic_fetch_or(&ps->claimed[w], mask, __ATOMIC_ACQ_REL);
		uint64_t lo = w * WORD_BITS;

		/* Shifted to be relative to first. */
		mine |= lo >= first ? got << (lo - first) : got >> (first - lo);
	}
	return mine;
}

bool page_state_mark_waited(struct page_state *ps, uint64_t page)
{
	uint64_t w = word_of(page), b = bit_of(page);

	__atomic_fetch_or(&ps->waited[w], b, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&ps->present[w], __ATOMIC_SEQ_CST) & b;
}

bool page_state_any_waited(const struct page_state *ps, uint64_t first, uint64_t count)
{
	uint64_t end, w;

	if (first >= ps->n_pages || !count)
		return false;
	end = count > ps->n_pages - first ? ps->n_pages : first + count;
	for (w = word_of(first); w * WORD_BITS < end; w++)
		if (__atomic_load_n(&ps->waited[w], __ATOMIC_SEQ_CST) & word_mask(w, first, end))
			return true;
	return false;
}

bool page_state_set_present(struct page_state *ps, uint64_t page)
{
	uint64_t w = word_of(page), b = bit_of(page);

	/*
	 * Test-and-set: only the page's claimant sets it, but the count must move once even
	 * if a caller repeats itself. Release: a reader that sees the bit also sees what was
	 * done before it (the observer's call, the install).
	 */
	if (__atomic_fetch_or(&ps->present[w], b, __ATOMIC_SEQ_CST) & b)
		return false;
	__atomic_fetch_and(&ps->requested[w], ~b, __ATOMIC_RELAXED);
	__atomic_fetch_add(&ps->n_present, 1, __ATOMIC_RELEASE);
	return true;
}

bool page_state_set_absent(struct page_state *ps, uint64_t page)
{
	uint64_t w = word_of(page), b = bit_of(page);

	__atomic_fetch_and(&ps->claimed[w], ~b, __ATOMIC_RELAXED);
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
