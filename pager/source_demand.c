// SPDX-License-Identifier: GPL-2.0-only
/*
 * The demand loop, on the caller's thread: answers each PageRequest at once (a demand answer
 * never queues behind the push), and points the push at the pages after it.
 */
#include "source_internal.h"
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int serve_request(struct pager_source *src, const struct wire_layout *layout,
			 const Wire__PageRequest *req)
{
	struct source_region *r;
	uint64_t first, i, demanded = 0;
	char err[256];
	int ret;

	ret = wire_check_page_request(req, layout, src->page_size, err, sizeof(err));
	if (ret) {
		source_send_error(src, src->demand_fd, WIRE__ERROR_CODE__ERROR_RANGE, err);
		source_fail(src, ret, "bad page request: %s", err);
		return ret;
	}
	stat_add(&src->stats.requests, 1);
	r = &src->regions[req->region];
	first = req->offset / src->page_size;
	for (i = 0; i < req->count; i++)
		if (test_and_set(r->requested, first + i))
			stat_add(&src->stats.duplicate_requests, 1);
	ret = source_send_pages(src, src->demand_fd, r, first, req->count, req->request_id, false,
				&demanded);
	stat_add(&src->stats.pages_demand, demanded);
	if (ret) {
		source_lost(src, ret, "answering a page request: %s", strerror(-ret));
		return ret;
	}
	if (src->opts.prepage_window)
		__atomic_store_n(&src->prepage_hint, prepage_hint_make(r->id, first + req->count),
				 __ATOMIC_RELEASE);
	return 0;
}

/* One message from the destination: 1 to go on, 0 at completion, or -errno (recorded). */
static int on_message(struct pager_source *src, const struct wire_layout *layout,
		      unsigned int type, const ProtobufCMessage *msg)
{
	Wire__Complete ack = WIRE__COMPLETE__INIT;
	const Wire__Error *e;
	int ret;

	switch (type) {
	case WIRE_PAGE_REQUEST:
		ret = serve_request(src, layout, (const Wire__PageRequest *)msg);
		return ret ? ret : 1;
	case WIRE_COMPLETE: {
		const Wire__Complete *done = (const Wire__Complete *)msg;

		__atomic_store_n(&src->stop, true, __ATOMIC_RELEASE);
		pthread_mutex_lock(&src->lock);
		src->stats.dest_digest_valid = done->has_digest;
		src->stats.dest_digest = done->memory_digest;
		pthread_mutex_unlock(&src->lock);
		ack.pages_received = done->pages_received;
		source_send_msg(src, src->demand_fd, WIRE_COMPLETE, &ack.base);
		return 0;
	}
	case WIRE_ERROR:
		e = (const Wire__Error *)msg;
		if (e->code == WIRE__ERROR_CODE__ERROR_STREAM) {
			source_lost(src, -ECONNRESET, "the destination found the stream damaged: %s",
				    e->text ? e->text : "");
			return -ECONNRESET;
		}
		source_fail(src, -EREMOTEIO, "the destination reported error %d: %s", e->code,
			    e->text ? e->text : "");
		return -EREMOTEIO;
	default:
		source_send_error(src, src->demand_fd, WIRE__ERROR_CODE__ERROR_PROTOCOL,
				  "unexpected message on the demand channel");
		source_fail(src, -EPROTO, "unexpected %s message on the demand channel",
			    wire_type_name(type));
		return -EPROTO;
	}
}

int source_demand_loop(struct pager_source *src, const struct wire_layout *layout)
{
	struct wire_arena *arena = malloc(sizeof(*arena));
	ProtobufCMessage *msg;
	unsigned int type;
	int ret;

	if (!arena)
		return -ENOMEM;
	wire_arena_init(arena);
	source_pin_self(src, src->opts.demand_cpu, "demand");
	do {
		ret = wire_recv(src->demand_fd, arena, &type, &msg, -1);
		if (ret == -EPROTO || ret == -EMSGSIZE || ret == -ENOMEM) {
			/* Framing lost on the way: a new connection mends it. */
			source_send_error(src, src->demand_fd, WIRE__ERROR_CODE__ERROR_STREAM,
					  "the demand stream is damaged");
			source_lost(src, ret, "the demand stream from the destination is damaged: %s",
				    strerror(-ret));
			break;
		}
		if (ret) {
			if (ret == -ECONNRESET)
				source_lost(src, ret, "the destination closed the demand connection "
					    "before completion");
			else
				source_lost(src, ret, "the demand connection failed before "
					    "completion: %s", strerror(-ret));
			break;
		}
		ret = on_message(src, layout, type, msg);
	} while (ret > 0);
	free(arena);
	return ret;
}
