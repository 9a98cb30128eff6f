/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-page state of one region: absent -> requested -> present (or absent -> present when
 * a pushed page lands first). Two bits a page. Only the listener thread changes state;
 * any thread may read it.
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
};

int page_state_init(struct page_state *ps, uint64_t n_pages);
void page_state_free(struct page_state *ps);

enum page_status page_state_get(const struct page_state *ps, uint64_t page);
/* absent -> requested. False when the page was not absent (no request needed). */
bool page_state_request(struct page_state *ps, uint64_t page);
/* -> present. False when it already was. */
bool page_state_set_present(struct page_state *ps, uint64_t page);
/* present -> absent: only before the listener runs (pre-copied pages dropped again). */
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
