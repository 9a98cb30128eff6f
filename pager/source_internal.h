/* SPDX-License-Identifier: GPL-2.0-only */
/* The source page server's state, shared by its serving loop (source.c) and pre-copy. */
#ifndef PAGER_SOURCE_INTERNAL_H
#define PAGER_SOURCE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pager.h"

struct source_region {
	uint32_t id;
	uint64_t gpa;
	const uint8_t *base;
	uint64_t size, n_pages;
	uint64_t *sent;      /* bit a page: already on its way (push skips it) */
	uint64_t *requested; /* bit a page: the destination asked for it */
};

struct pager_source {
	struct pager_source_options opts;
	uint32_t page_size;
	uint32_t n_regions;
	struct source_region regions[PAGER_MAX_REGIONS];
	int demand_fd, push_fd;

	/* Latest demanded spot for the push to jump to: valid bit | region << 48 | page. */
	uint64_t prepage_hint;
	bool stop;

	pthread_mutex_t lock;
	int error;
	char error_text[512];
	struct pager_source_stats stats; /* updated with atomics */
};

/* Atomically sets a bit; true if it was already set. */
static inline bool test_and_set(uint64_t *map, uint64_t bit)
{
	uint64_t mask = 1ull << (bit % 64);

	return __atomic_fetch_or(&map[bit / 64], mask, __ATOMIC_RELAXED) & mask;
}

static inline bool test_bit(const uint64_t *map, uint64_t bit)
{
	return __atomic_load_n(&map[bit / 64], __ATOMIC_RELAXED) & (1ull << (bit % 64));
}

static inline void stat_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

/*
 * Sends pages [page, page+count) as runs of like pages (all zero, or all data), marking them
 * sent. With skip_sent, pages already sent are left out (the push); a demand answer always goes.
 */
int source_send_pages(struct pager_source *src, int fd, struct source_region *r, uint64_t page,
		      uint64_t count, uint64_t request_id, bool skip_sent, uint64_t *pages_out);

#endif
