/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The demand requests the listener has outstanding: an answer is matched against them (a
 * demand page nobody asked for is refused), and a request unanswered for too long, or lost
 * with its connection, is sent again under the same id. The listener's alone: no lock.
 */
#ifndef PAGER_REQUESTS_H
#define PAGER_REQUESTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tx_queue.h"

struct request {
	uint64_t id;
	uint32_t region;
	uint64_t first_page;
	uint32_t count;
	uint64_t sent_ns; /* 0: not sent yet (no connection, or no room in the send queue) */
};

struct request_table {
	struct request *v;
	size_t n, cap;
	uint64_t next_id;
};

void requests_init(struct request_table *t);
void requests_free(struct request_table *t);
/* A new request (not sent yet): its slot, or NULL without memory. */
struct request *requests_add(struct request_table *t, uint32_t region, uint64_t first_page,
			     uint32_t count);
/* The outstanding request with this id, or NULL. */
struct request *requests_find(struct request_table *t, uint64_t id);
/* Whether [first_page, first_page+count) of region lies inside the request. */
bool request_covers(const struct request *rq, uint32_t region, uint64_t first_page,
		    uint64_t count);
/* Answered: forgets it (the slot is reused; pointers into the table go stale). */
void requests_remove(struct request_table *t, struct request *rq);
/*
 * Queues the request's PageRequest frame on tx and stamps it sent at now. False when the
 * queue has no room: it stays unsent (sent_ns 0) and goes with a later turn.
 */
bool requests_send(struct request *rq, struct tx_queue *tx, uint32_t page_size, uint64_t now);

#endif
