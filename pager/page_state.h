/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-page state of one region: absent -> requested -> present (or absent -> present when
 * a pushed page lands first). Four bits a page: requested, present; claimed, which an
 * installer takes before it installs (so two installers, the listener with demand answers
 * and the push receiver, never install one page twice); and waited, set when a thread is
 * listed as waiting on the page (so an installer takes the lock and wakes only where someone
 * waits). Requests are the listener's alone; claims and present bits are atomic test-and-set,
 * so either installer may move a page to present; any thread may read the state.
 */
#ifndef PAGER_PAGE_STATE_H
#define PAGER_PAGE_STATE_H

#include <stdbool.h>
#include <stdint.h>

enum page_status {
	PAGE_ABSENT,
	PAGE_REQUESTED, /* a request is on its way to the source; later faults just wait */
	PAGE_PRESENT,   /* installed: never requested or installed again */
};

struct page_state {
	uint64_t n_pages;
	uint64_t n_present;
	uint64_t *requested; /* bitmaps, one bit a page */
	uint64_t *present;
	uint64_t *claimed;   /* an installer took the page: set before present, never cleared */
	uint64_t *waited;    /* a waiter was listed on the page (set under the pager lock) */
};

int page_state_init(struct page_state *ps, uint64_t n_pages);
void page_state_free(struct page_state *ps);

enum page_status page_state_get(const struct page_state *ps, uint64_t page);
/* absent -> requested. False when the page was not absent (no request needed). */
bool page_state_request(struct page_state *ps, uint64_t page);
/*
 * Claims the pages of [first, first+count) (count at most 64) that no installer claimed yet,
 * atomically: bit i of the result set means page first+i is the caller's to install. A claimed
 * page is installed and set present by its claimant only.
 */
uint64_t page_state_claim(struct page_state *ps, uint64_t first, uint32_t count);
/*
 * A waiter is listed on the page: marks it, then says whether the page is present now. The
 * mark and the present bit are each stored before the other side loads (sequentially
 * consistent): an installer that sets a page present and then finds no mark on it knows the
 * fault path will see the page present, and may skip the lock and the wake.
 */
bool page_state_mark_waited(struct page_state *ps, uint64_t page);
/* Whether any page of [first, first+count) is marked waited (after setting them present). */
bool page_state_any_waited(const struct page_state *ps, uint64_t first, uint64_t count);
/* -> present (after its install succeeded). False when it already was. */
bool page_state_set_present(struct page_state *ps, uint64_t page);
/* present -> absent, unclaimed: only before the listener runs (pre-copied pages dropped again). */
bool page_state_set_absent(struct page_state *ps, uint64_t page);
/*
 * Within [first, first+count), the first run of pages not yet present: its start in *run_first,
 * its length returned (0 when all are present).
 */
uint64_t page_state_next_missing_run(const struct page_state *ps, uint64_t first, uint64_t count,
				     uint64_t *run_first);
/* Pages in the requested state (outstanding requests). */
uint64_t page_state_count_requested(const struct page_state *ps);

static inline uint64_t page_state_missing(const struct page_state *ps)
{
	return ps->n_pages - __atomic_load_n(&ps->n_present, __ATOMIC_ACQUIRE);
}

#endif
