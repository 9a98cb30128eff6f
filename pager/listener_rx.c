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
	listener_fail(l, -ECONNRESET, "the source closed the %s connection", channel_name(ch));
}

/* A page frame: checked against the channel and the layout, then installed. False: failed. */
static bool on_page_frame(struct listener *l, enum channel_index ch, const struct rx_frame *frame)
{
	const Wire__PageHeader *hdr = (const Wire__PageHeader *)frame->msg;
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
	ret = install_frame(l->p, hdr, frame->payload, err, sizeof(err));
	if (ret) {
		listener_fail(l, ret, "%s", err);
		return false;
	}
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
			listener_protocol_error(l, ret, WIRE__ERROR_CODE__ERROR_PROTOCOL,
						"%s channel: %s", channel_name(ch), err);
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
