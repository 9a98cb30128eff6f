/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pager-fill's touching threads: the faults a guest would raise, in a seeded random order, or
 * every page once (--cover); with --latency-dump, each faulting touch's latency as the
 * touching thread saw it.
 */
#ifndef TOOLS_FILL_TOUCH_H
#define TOOLS_FILL_TOUCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pager.h"

struct toucher {
	pthread_t thread;
	uint8_t *const *bases;
	const struct pager_layout *layout;
	const struct pager *pager;
	uint64_t seed, touches;
	uint32_t index, n_threads; /* --cover: this thread's stripe of the pages */
	bool cover, keep_latency;
	uint32_t *lat_ns;          /* --latency-dump: one per faulting touch (NULL: not kept) */
	uint64_t n_lat;
	uint64_t start_ns, end_ns;
	uint64_t sum; /* of bytes read: keeps the reads from being optimised away */
};

/* A touching thread's body (pthread_create() with its struct toucher). */
void *fill_touch_main(void *arg);
/*
 * --latency-dump: a header of "# key value" lines (threads, faulting touches, the touch phase
 * from the first thread's start to the last one's end), then one latency in ns a line.
 */
void fill_write_latency_dump(const char *path, const struct toucher *workers, uint64_t n);

#endif
