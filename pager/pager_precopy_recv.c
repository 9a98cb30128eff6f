// SPDX-License-Identifier: GPL-2.0-only
/*
 * Public API, pre-copy on the destination: the stream the source sends while its guest still
 * runs (pages, then discards of pages written again) up to its Switchover message, read on the
 * owner's thread before pager_start(). Everything is checked against the regions before it
 * is installed; a violation is refused on both ends (an Error frame to the source).
 */
#include "pager_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "wire.h"

struct precopy_rx {
	struct pager *p;
	int fd, timeout_ms;
	uint64_t deadline; /* of the frame being received, page bytes included */
	struct wire_layout layout;
	struct wire_arena arena;
	uint8_t body[WIRE_ARENA_SIZE];
	uint8_t pages[WIRE_MAX_PAYLOAD]; /* heap allocated with the rest: 2 MiB for hugetlb */
	char *err;
	size_t err_len;
};

/* Refuses what the source sent: the reason to the source and to the caller. */
__attribute__((format(printf, 3, 4)))
static int refuse(struct precopy_rx *rx, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rx->err, rx->err_len, fmt, ap);
	va_end(ap);
	wire_send_error(rx->fd, wire_error_code_for(ret), rx->err);
	return ret;
}

static int on_page(struct precopy_rx *rx, const Wire__PageHeader *ph)
{
	char why[256];
	int ret = wire_check_page_header(ph, &rx->layout, rx->p->regions.page_size, why,
					 sizeof(why));

	if (ret)
		return refuse(rx, ret, "pre-copy refused: %s", why);
	if (ph->flags & WIRE_PAGE_FLAG_DEMAND)
		/* Nothing was demanded: the listener does not run yet. */
		return refuse(rx, -EPROTO,
			      "pre-copy refused: a pre-copy page at 0x%" PRIx64 " of region %u is "
			      "flagged as the answer to a page request",
			      ph->offset, ph->region);
	if (!(ph->flags & WIRE_PAGE_FLAG_ZERO)) {
		ret = net_read_until(rx->fd, rx->pages, ph->length, rx->deadline);
		if (ret)
			return refuse(rx, ret, "pre-copy: reading a page: %s", strerror(-ret));
	}
	ret = pager_preload(rx->p, ph->region, ph->offset,
			    ph->flags & WIRE_PAGE_FLAG_ZERO ? NULL : rx->pages, ph->length);
	if (ret)
		snprintf(rx->err, rx->err_len, "pre-copy: installing a page: %s", strerror(-ret));
	return ret;
}

/* Pages the guest wrote again after they were sent: they fault and come again later. */
static int on_discard(struct precopy_rx *rx, const Wire__Discard *dis)
{
	uint32_t ps = rx->p->regions.page_size;
	char why[256];
	int ret = wire_check_discard(dis, &rx->layout, ps, why, sizeof(why));
	size_t i;

	if (ret)
		return refuse(rx, ret, "pre-copy refused: %s", why);
	for (i = 0; i < dis->n_offsets; i++) {
		ret = pager_discard(rx->p, dis->region, dis->offsets[i], (uint64_t)dis->counts[i] * ps);
		if (ret) {
			snprintf(rx->err, rx->err_len, "pre-copy: discarding pages: %s",
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Both ends must count the same pre-copied pages, or one of them lost or kept a page. */
static int on_switchover(struct precopy_rx *rx, const Wire__Switchover *msg,
			 struct pager_switchover *sw)
{
	uint64_t here;

	pthread_mutex_lock(&rx->p->lock);
	here = rx->p->precopy.pages;
	pthread_mutex_unlock(&rx->p->lock);
	if (here != msg->precopy_pages)
		return refuse(rx, -EPROTO,
			      "pre-copy: the source says %" PRIu64 " pages were sent and kept, %" PRIu64
			      " are here", msg->precopy_pages, here);
	*sw = (struct pager_switchover){ .memory_digest = msg->memory_digest,
					 .precopy_pages = msg->precopy_pages,
					 .state_digest = msg->state_digest };
	return 0;
}

/* One frame: 1 at the Switchover, 0 after a page or discard, or -errno. */
static int precopy_frame(struct precopy_rx *rx, struct pager_switchover *sw)
{
	ProtobufCMessage *msg;
	unsigned int type;
	size_t len;
	int ret;

	/* One deadline for the whole message: its frame and, for a page, the bytes after it. */
	rx->deadline = net_deadline(rx->timeout_ms);
	ret = wire_recv_raw_until(rx->fd, &type, rx->body, sizeof(rx->body), &len, rx->deadline);
	if (ret)
		return refuse(rx, ret, "expected pre-copy pages or the switch-over: %s",
			      strerror(-ret));
	ret = wire_decode(&rx->arena, type, rx->body, len, &msg);
	if (ret)
		return refuse(rx, ret, "expected pre-copy pages or the switch-over: %s (a %s message)",
			      strerror(-ret), wire_type_name(type));
	switch (type) {
	case WIRE_PAGE:
		return on_page(rx, (const Wire__PageHeader *)msg);
	case WIRE_DISCARD:
		return on_discard(rx, (const Wire__Discard *)msg);
	case WIRE_SWITCHOVER:
		ret = on_switchover(rx, (const Wire__Switchover *)msg, sw);
		return ret ? ret : 1;
	case WIRE_ERROR: {
		const Wire__Error *e = (const Wire__Error *)msg;

		/* The source gave up: its words, verbatim. */
		snprintf(rx->err, rx->err_len, "the source failed: %s", e->text ? e->text : "");
		return -ECONNABORTED;
	}
	default:
		return refuse(rx, -EPROTO, "pre-copy refused: unexpected %s message",
			      wire_type_name(type));
	}
}

int pager_precopy_receive(struct pager *p, int fd, int timeout_ms, struct pager_switchover *sw,
			  char *err, size_t err_len)
{
	struct precopy_rx *rx;
	int ret;

	if (run_state_get(p) != PAGER_STATE_IDLE) {
		snprintf(err, err_len, "pre-copy after the pager started");
		return -EINVAL;
	}
	rx = malloc(sizeof(*rx));
	if (!rx) {
		snprintf(err, err_len, "no memory for the pre-copy buffers");
		return -ENOMEM;
	}
	rx->p = p;
	rx->fd = fd;
	rx->timeout_ms = timeout_ms;
	rx->err = err;
	rx->err_len = err_len;
	region_table_wire_layout(&p->regions, &rx->layout);
	wire_arena_init(&rx->arena);
	do
		ret = precopy_frame(rx, sw);
	while (ret == 0);
	free(rx);
	return ret < 0 ? ret : 0;
}
