// SPDX-License-Identifier: GPL-2.0-only
/*
 * Frames in, on the listener thread: each demand frame is checked (channel, length, layout),
 * then a page frame is installed and a control frame acted on; and what the push receiver
 * reports of the push connection is acted on here too. On a session of one connection the
 * push's pages and PushDone come in among the demand answers and are taken here. Any
 * violation fails the pager and tells the source why.
 */
#include "listener_internal.h"
#include "install.h"
#include "page_frame.h"

#include <errno.h>

void listener_check_eof(struct listener *l)
{
	size_t partial = rx_buffer_pending(&l->rx);

	if (!l->rx_eof || l->failed || l->complete_sent)
		return;
	/* Every whole frame was taken before this: what is left can never be completed. */
	if (partial)
		listener_lose(l, "the source closed the demand connection in the middle of a frame "
			      "(%zu bytes of it received)", partial);
	else
		listener_lose(l, "the source closed the demand connection");
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
 * another place. Nothing is installed; a demanded run is asked again at once, an unrequested
 * one's missing pages are requested. (A pushed run's damage comes from the push receiver:
 * listener_push_events().)
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

/* A demand answer: checked against the layout and the requests, then installed. */
static bool on_page_frame(struct listener *l, const struct rx_frame *frame)
{
	const Wire__PageHeader *hdr = (const Wire__PageHeader *)frame->msg;
	uint64_t ps = l->p->regions.page_size, first, count;
	struct request *rq = NULL;
	Wire__ErrorCode code;
	char err[320];
	bool ok;
	int ret;

	ret = page_frame_check(frame, false, &l->layout, l->p->regions.page_size, &code, err,
			       sizeof(err));
	if (ret) {
		listener_protocol_error(l, ret, code, "%s", err);
		return false;
	}
	first = hdr->offset / ps;
	count = hdr->length / ps;
	/* A page without the demand flag needs no request: pushed, on a single connection. */
	if (hdr->flags & WIRE_PAGE_FLAG_DEMAND) {
		rq = matching_request(l, hdr, first, count, &ok);
		if (!rq && ok) {
			install_duplicate(l->p, count);
			return true;
		}
		if (!rq) {
			listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
						"a demand answer (request %llu) for pages 0x%llx+%u "
						"of region %u that nobody requested",
						(unsigned long long)hdr->request_id,
						(unsigned long long)hdr->offset, hdr->length,
						hdr->region);
			return false;
		}
	}
	if (!page_frame_intact(frame)) {
		page_frame_damaged(l, hdr, rq, first, count);
		return true;
	}
	ret = install_frame(l->p, hdr, frame->payload, false, &l->p->lock, &l->p->counters, err,
			    sizeof(err));
	if (ret) {
		listener_fail(l, ret, "%s", err);
		return false;
	}
	if (rq && all_present(l, rq->region, rq->first_page, rq->count))
		requests_remove(&l->requests, rq);
	return true;
}

/*
 * PushDone: every page the push had to send came before it. After a damaged push run, whose
 * header could not be trusted to say which pages it carried, a page still absent and not
 * asked for may be one it lost: ask for all such pages now.
 */
static void push_done(struct listener *l)
{
	l->push_done = true;
	if (l->damaged_push)
		for (uint32_t i = 0; i < l->p->regions.n; i++)
			listener_request_missing(l, i, 0, l->p->regions.r[i].pages.n_pages);
	l->damaged_push = false;
}

/* Any frame but a page: false when it ends the session (an error, or a protocol violation). */
static bool on_control_frame(struct listener *l, const struct rx_frame *frame)
{
	const Wire__Error *e;

	switch (frame->type) {
	case WIRE_PUSH_DONE:
		/* The push's own end, on the connection that carries it. */
		if (l->p->push_fd < 0) {
			push_done(l);
			return true;
		}
		listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
					"push-done on the demand channel");
		return false;
	case WIRE_COMPLETE:
		if (!l->complete_sent) {
			listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
						"unexpected complete message");
			return false;
		}
		l->complete_acked = true;
		run_state_confirm(l->p);
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
					"unexpected %s message on the demand channel",
					wire_type_name(frame->type));
		return false;
	}
}

void listener_process_rx(struct listener *l)
{
	struct rx_frame frame;
	char err[256];
	int ret;

	while (!l->failed && l->conn == CONN_UP) {
		ret = rx_buffer_next(&l->rx, &l->arena, &frame, err, sizeof(err));
		if (ret == 0)
			return;
		if (ret < 0) {
			/* Framing lost: nothing after this point can be trusted, a new stream can. */
			listener_lose_damaged(l, "the demand stream is damaged: %s", err);
			return;
		}
		if (!(frame.type == WIRE_PAGE ? on_page_frame(l, &frame)
					      : on_control_frame(l, &frame)))
			return;
		rx_buffer_consume(&l->rx, &frame);
	}
}

/* The push receiver stopped reading its connection: normal, lost, or the pager's failure. */
static void push_ended(struct listener *l, const struct push_events *ev)
{
	switch (ev->end) {
	case PUSH_END_NONE:
		return;
	case PUSH_END_EOF:
	case PUSH_END_RECV:
		/* A close is the push's normal end after PushDone, and anything's after Complete. */
		if (l->complete_sent || (l->push_done && !ev->frames_left))
			return;
		listener_lose(l, "%s", ev->text);
		return;
	case PUSH_END_LOST:
		if (ev->code == WIRE__ERROR_CODE__ERROR_STREAM)
			listener_lose_damaged(l, "%s", ev->text);
		else
			listener_lose(l, "%s", ev->text);
		return;
	case PUSH_END_PROTOCOL:
		listener_protocol_error(l, ev->error, ev->code, "%s", ev->text);
		return;
	case PUSH_END_FAIL:
		listener_fail(l, ev->error, "%s", ev->text);
		return;
	}
}

void listener_push_events(struct listener *l)
{
	struct push_events ev;
	uint32_t i;

	if (!push_rx_take_events(&l->push, &ev))
		return;
	/* The last words of a connection already lost go with it. */
	if (l->failed || l->conn != CONN_UP)
		return;
	/* A pushed run failed its checksum: its pages are asked for (the push will not resend). */
	for (i = 0; i < ev.n_damaged; i++)
		listener_request_missing(l, ev.damaged_runs[i].region, ev.damaged_runs[i].first,
					 ev.damaged_runs[i].count);
	if (ev.damaged)
		l->damaged_push = true;
	if (ev.push_done)
		push_done(l);
	push_ended(l, &ev);
}
