// SPDX-License-Identifier: GPL-2.0-only
/*
 * Frames in, on the listener thread: each is checked (channel, length, layout), then a page
 * frame is installed and a control frame acted on. Any violation fails the pager and tells the
 * source why.
 */
#include "listener_internal.h"
#include "install.h"

#include <errno.h>

void listener_check_eof(struct listener *l, enum channel_index ch, bool frames_left)
{
	if (!l->rx_eof[ch] || frames_left || l->failed || l->complete_sent ||
	    (ch == CH_PUSH && l->push_done))
		return;
	listener_lose(l, "the source closed the %s connection", channel_name(ch));
}

/* A late copy of an answer already installed (a re-request crossed it): counted, dropped. */
static void install_duplicate(struct pager *p, uint64_t count)
{
	pthread_mutex_lock(&p->lock);
	counters_frame(&p->counters, ORIGIN_DEMAND, count, 0, 0, 0);
	pthread_mutex_unlock(&p->lock);
}

static bool all_present(struct listener *l, uint32_t region, uint64_t first, uint64_t count)
{
	uint64_t run_first;

	return !page_state_next_missing_run(&l->p->regions.r[region].pages, first, count,
					    &run_first);
}

/*
 * A run whose checksum does not match its bytes: damaged on the way, or a header naming
 * another place. Nothing is installed; a demanded run is asked again at once, a pushed one's
 * missing pages are requested (nobody may be waiting for them yet, but the push will not
 * send them again).
 */
static void page_frame_damaged(struct listener *l, const Wire__PageHeader *hdr,
			       struct request *rq, uint64_t first, uint64_t count)
{
	struct pager *p = l->p;

	logger_warn(&p->log, "pager: page run at 0x%llx of region %u fails its checksum: asked again",
		    (unsigned long long)hdr->offset, hdr->region);
	pthread_mutex_lock(&p->lock);
	p->counters.pages_corrupt++;
	pthread_mutex_unlock(&p->lock);
	if (rq) {
		rq->sent_ns = 0;
	} else {
		listener_request_missing(l, hdr->region, first, count);
		l->damaged_push = true;
	}
}

/*
 * A demand answer must answer an outstanding request. NULL with *ok: a late duplicate of one
 * already answered (its pages are present), to be dropped; NULL without: nobody asked.
 */
static struct request *matching_request(struct listener *l, const Wire__PageHeader *hdr,
					uint64_t first, uint64_t count, bool *ok)
{
	struct request *rq = requests_find(&l->requests, hdr->request_id);

	*ok = true;
	if (rq && request_covers(rq, hdr->region, first, count))
		return rq;
	*ok = all_present(l, hdr->region, first, count);
	return NULL;
}

/* A page frame: checked against the channel and the layout, then installed. False: failed. */
static bool on_page_frame(struct listener *l, enum channel_index ch, const struct rx_frame *frame)
{
	const Wire__PageHeader *hdr = (const Wire__PageHeader *)frame->msg;
	bool demand = hdr->flags & WIRE_PAGE_FLAG_DEMAND, ok;
	uint64_t ps = l->p->regions.page_size, first, count;
	struct request *rq = NULL;
	char err[256];
	int ret;

	if (ch == CH_PUSH && (hdr->flags & WIRE_PAGE_FLAG_DEMAND)) {
		listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
					"demand answer on the push channel");
		return false;
	}
	if (!(hdr->flags & WIRE_PAGE_FLAG_ZERO) && frame->payload_len != hdr->length) {
		listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
					"page payload %u bytes, header says %u",
					frame->payload_len, hdr->length);
		return false;
	}
	ret = wire_check_page_header(hdr, &l->layout, l->p->regions.page_size, err, sizeof(err));
	if (ret) {
		listener_protocol_error(l, ret, WIRE__ERROR_CODE__ERROR_RANGE, "bad page header: %s",
					err);
		return false;
	}
	first = hdr->offset / ps;
	count = hdr->length / ps;
	if (demand) {
		rq = matching_request(l, hdr, first, count, &ok);
		if (!rq && ok) {
			install_duplicate(l->p, count);
			return true;
		}
		if (!rq) {
			listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
						"a demand answer (request %llu) for pages 0x%llx+%u of "
						"region %u that nobody requested",
						(unsigned long long)hdr->request_id,
						(unsigned long long)hdr->offset, hdr->length, hdr->region);
			return false;
		}
	}
	if (hdr->checksum != wire_page_checksum(hdr->region, hdr->offset, hdr->length, hdr->flags,
						frame->payload,
						frame->payload ? frame->payload_len : 0)) {
		page_frame_damaged(l, hdr, rq, first, count);
		return true;
	}
	ret = install_frame(l->p, hdr, frame->payload, err, sizeof(err));
	if (ret) {
		listener_fail(l, ret, "%s", err);
		return false;
	}
	if (rq && all_present(l, rq->region, rq->first_page, rq->count))
		requests_remove(&l->requests, rq);
	return true;
}

/* Any frame but a page: false when it ends the session (an error, or a protocol violation). */
static bool on_control_frame(struct listener *l, enum channel_index ch,
			     const struct rx_frame *frame)
{
	const Wire__Error *e;

	switch (frame->type) {
	case WIRE_PUSH_DONE:
		if (ch != CH_PUSH) {
			listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
						"push-done on the demand channel");
			return false;
		}
		l->push_done = true;
		/*
		 * Every page the push had to send came before this. After a damaged push run,
		 * whose header could not be trusted to say which pages it carried, a page still
		 * absent and not asked for may be one it lost: ask for all such pages now.
		 */
		if (l->damaged_push)
			for (uint32_t i = 0; i < l->p->regions.n; i++)
				listener_request_missing(l, i, 0, l->p->regions.r[i].pages.n_pages);
		l->damaged_push = false;
		return true;
	case WIRE_COMPLETE:
		if (ch != CH_DEMAND || !l->complete_sent) {
			listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
						"unexpected complete message");
			return false;
		}
		l->complete_acked = true;
		return true;
	case WIRE_ERROR:
		e = (const Wire__Error *)frame->msg;
		/* The source found our stream damaged: a new connection mends that. */
		if (e->code == WIRE__ERROR_CODE__ERROR_STREAM) {
			listener_lose(l, "the source found the stream damaged: %s",
				      e->text ? e->text : "");
			return false;
		}
		listener_fail(l, -EREMOTEIO, "the source reported error %d: %s", e->code,
			      e->text ? e->text : "");
		return false;
	default:
		listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
					"unexpected %s message on the %s channel",
					wire_type_name(frame->type), channel_name(ch));
		return false;
	}
}

bool listener_process_rx(struct listener *l, enum channel_index ch, uint64_t budget)
{
	uint64_t pages = 0;
	struct rx_frame frame;
	char err[256];
	int ret;

	while (!l->failed) {
		if (budget && pages >= budget)
			return true;
		ret = rx_buffer_next(&l->rx[ch], &l->arena, &frame, err, sizeof(err));
		if (ret == 0)
			return false;
		if (ret < 0) {
			/* Framing lost: nothing after this point can be trusted, a new stream can. */
			listener_lose_damaged(l, "the %s stream is damaged: %s", channel_name(ch),
					      err);
			return false;
		}
		if (frame.type == WIRE_PAGE) {
			if (!on_page_frame(l, ch, &frame))
				return false;
			pages += ((const Wire__PageHeader *)frame.msg)->length /
				 l->p->regions.page_size;
		} else if (!on_control_frame(l, ch, &frame)) {
			return false;
		}
		rx_buffer_consume(&l->rx[ch], &frame);
	}
	return false;
}
