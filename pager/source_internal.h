/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The source page server's state, shared by its layers:
 *
 *   source.c, source_precopy.c      public API (the caller's thread)
 *   source_demand.c, source_push.c  the two serving loops, one a socket
 *   source_send.c                   page runs onto a socket
 *   source_threads.c                the outcome (first error wins, stops both), placement
 *
 * A layer calls only layers below it.
 */
#ifndef PAGER_SOURCE_INTERNAL_H
#define PAGER_SOURCE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "logger.h"
#include "pager.h"
#include "wire.h"

struct source_region {
	uint32_t id;
	uint64_t gpa;
	const uint8_t *base;
	uint64_t size, n_pages;
	/*
	 * Pages one frame covers at least: 1, or 512 for a hugetlb region (whole 2 MiB pages
	 * only: its sent and requested bits go all together).
	 */
	uint32_t unit_pages;
	uint64_t *sent;      /* bit a page: already on its way (push skips it) */
	uint64_t *requested; /* bit a page: the destination asked for it */
};

struct pager_source {
	struct pager_source_options opts;
	struct logger log;
	uint32_t page_size;
	uint32_t n_regions;
	struct source_region regions[PAGER_MAX_REGIONS];
	int demand_fd, push_fd; /* push_fd -1: one connection for both channels (v5) */
	/*
	 * On one connection, the demand loop and the push thread send on the same socket: each
	 * whole frame under this lock, so that frames never interleave.
	 */
	pthread_mutex_t send_lock;

	/* Latest demanded spot for the push to jump to (prepage_hint_make()), 0 when none. */
	uint64_t prepage_hint;
	bool stop;
	bool push_finished; /* atomic: the push thread has returned from its last send */

	pthread_mutex_t lock;
	int error;
	bool lost; /* the error was the connection's: pager_source_resume() can recover */
	char error_text[512];
	struct pager_source_stats stats; /* updated with atomics; dest_digest under lock */
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

/*
 * Sets or clears the bits of one unit: a single page, or a whole 2 MiB page (512 bits, eight
 * words: a huge page starts at a multiple of 512 pages).
 */
static inline void mark_unit(uint64_t *map, uint64_t page, uint32_t unit_pages, bool set)
{
	uint64_t w, mask = unit_pages == 1 ? 1ull << (page % 64) : ~0ull;

	for (w = page / 64; w < page / 64 + (unit_pages + 63) / 64; w++) {
		if (set)
			__atomic_fetch_or(&map[w], mask, __ATOMIC_RELAXED);
		else
			__atomic_fetch_and(&map[w], ~mask, __ATOMIC_RELAXED);
	}
}

static inline void stat_add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static inline bool source_stopped(const struct pager_source *src)
{
	return __atomic_load_n(&src->stop, __ATOMIC_ACQUIRE);
}

/* The pre-paging hint: valid bit | region << 48 | page. */
#define PREPAGE_HINT_VALID (1ull << 63)

static inline uint64_t prepage_hint_make(uint32_t region, uint64_t page)
{
	return PREPAGE_HINT_VALID | (uint64_t)region << 48 | page;
}

/* source_threads.c: records the first error (later ones are their consequences) and stops. */
void source_fail(struct pager_source *src, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for a lost connection (closed, reset, timed out, damaged): recoverable. */
void source_lost(struct pager_source *src, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * source_send.c: sends pages [page, page+count) as runs of like pages (all zero, or all data),
 * marking them sent. With skip_sent, pages already sent are left out (the push); a demand
 * answer always goes.
 */
int source_send_pages(struct pager_source *src, int fd, struct source_region *r, uint64_t page,
		      uint64_t count, uint64_t request_id, bool skip_sent, uint64_t *pages_out);
/*
 * A message on a serving socket, whole under send_lock when one connection carries both
 * channels (the other thread may be sending); an Error the same way, best effort.
 */
int source_send_msg(struct pager_source *src, int fd, enum wire_type type,
		    const ProtobufCMessage *msg);
void source_send_error(struct pager_source *src, int fd, Wire__ErrorCode code, const char *text);

/* The socket the push goes on: its own, or the only one. */
static inline int source_push_socket(const struct pager_source *src)
{
	return src->push_fd >= 0 ? src->push_fd : src->demand_fd;
}

/* source_push.c: the push thread (pthread start routine, arg the source). */
void *source_push_main(void *arg);

/*
 * source_demand.c: answers requests on the demand socket until completion (0) or an error
 * (recorded with source_fail()). Requests are checked against layout.
 */
int source_demand_loop(struct pager_source *src, const struct wire_layout *layout);

/* source_threads.c: pins the calling thread, warning when it cannot. */
void source_pin_self(struct pager_source *src, int cpu, const char *what);

#endif
