/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the pager counts, each struct with one writer: the listener writes its pager_counters
 * under the pager lock, the push receiver its own (only the page counters) under the push
 * lock, the owner writes precopy_counters before pager_start(). pager_get_stats() takes both
 * locks for a consistent snapshot from any thread.
 */
#ifndef PAGER_COUNTERS_H
#define PAGER_COUNTERS_H

#include <stdint.h>
#include <sys/types.h>

#include "histogram.h"
#include "page_state.h"
#include "pager.h"

struct pager_counters {
	uint64_t pages_demand, pages_push, pages_zero, pages_duplicate;
	uint64_t bytes_received;
	uint64_t faults, faults_coalesced, faults_present;
	uint64_t requests_sent, install_retries;
	uint64_t threads_other_faults;
	uint64_t pages_rerequested, pages_corrupt;
	uint32_t n_threads;
	struct pager_thread_stats threads[PAGER_MAX_THREAD_STATS];
	struct histogram latency;
};

struct precopy_counters {
	uint64_t pages;     /* installed and still valid */
	uint64_t discarded; /* installed, then dropped again */
	uint64_t bytes, install_retries;
};

/* Where a page frame came from. */
enum page_origin { ORIGIN_DEMAND, ORIGIN_PUSH, ORIGIN_ZERO };

/* Listener, lock held: a fault read from userfaultfd, by the page's state at that moment. */
void counters_fault(struct pager_counters *c, pid_t tid, enum page_status status);
/* Listener, lock held: a waiter's page installed after wait_ns. */
void counters_fault_served(struct pager_counters *c, pid_t tid, uint64_t wait_ns);
/* Listener, lock held: a page frame of `pages` pages, `installed` of them new. */
void counters_frame(struct pager_counters *c, enum page_origin origin, uint64_t pages,
		    uint64_t installed, uint64_t retries, uint64_t bytes);


/* Owner before pager_start(), lock held. */
void counters_preloaded(struct precopy_counters *pc, uint64_t installed, uint64_t replaced,
			uint64_t retries, uint64_t bytes);
void counters_discarded(struct precopy_counters *pc, uint64_t dropped);

/* Lock held: both into the public stats (the page totals and duration are the caller's). */
void counters_snapshot(const struct pager_counters *c, const struct precopy_counters *pc,
		       struct pager_stats *s);
/* Lock held: the page counters of another installing thread (the push receiver's) added to s. */
void counters_snapshot_frames(const struct pager_counters *c, struct pager_stats *s);

#endif
