// SPDX-License-Identifier: GPL-2.0-only
#include "requests.h"

#include <stdlib.h>

#include "wire.h"

void requests_init(struct request_table *t)
{
	*t = (struct request_table){ 0 };
}

void requests_free(struct request_table *t)
{
	free(t->v);
	*t = (struct request_table){ 0 };
}

struct request *requests_add(struct request_table *t, uint32_t region, uint64_t first_page,
			     uint32_t count)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct request *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n] = (struct request){
		.id = ++t->next_id,
		.region = region,
		.first_page = first_page,
		.count = count,
	};
	return &t->v[t->n++];
}

/*
 * Linear: outstanding requests are about one per blocked thread (a few, or a few hundred
 * after a push-done sweep), and the newest, at the end, is the likeliest to be answered.
 */
struct request *requests_find(struct request_table *t, uint64_t id)
{
	size_t i;

	for (i = t->n; i-- > 0;)
		if (t->v[i].id == id)
			return &t->v[i];
	return NULL;
}

bool request_covers(const struct request *rq, uint32_t region, uint64_t first_page,
		    uint64_t count)
{
	return rq->region == region && first_page >= rq->first_page &&
	       first_page + count <= rq->first_page + rq->count &&
	       first_page + count > first_page;
}

void requests_remove(struct request_table *t, struct request *rq)
{
	*rq = t->v[--t->n];
}

bool requests_send(struct request *rq, struct tx_queue *tx, uint32_t page_size, uint64_t now)
{
	Wire__PageRequest req = WIRE__PAGE_REQUEST__INIT;

	req.region = rq->region;
	req.offset = rq->first_page * page_size;
	req.count = rq->count;
	req.request_id = rq->id;
	if (tx_queue_frame(tx, WIRE_PAGE_REQUEST, &req.base))
		return false;
	/* Never 0, which means unsent. */
	rq->sent_ns = now | 1;
	return true;
}
