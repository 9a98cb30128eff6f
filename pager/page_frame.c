// SPDX-License-Identifier: GPL-2.0-only
#include "page_frame.h"

#include <errno.h>
#include <stdio.h>

int page_frame_check(const struct rx_frame *frame, bool push_channel,
		     const struct wire_layout *layout, uint32_t page_size, Wire__ErrorCode *code,
		     char *err, size_t err_len)
{
	const Wire__PageHeader *hdr = (const Wire__PageHeader *)frame->msg;
	char why[256];
	int ret;

	*code = WIRE__ERROR_CODE__ERROR_PROTOCOL;
	if (push_channel && (hdr->flags & WIRE_PAGE_FLAG_DEMAND)) {
		snprintf(err, err_len, "demand answer on the push channel");
		return -EPROTO;
	}
	if (!(hdr->flags & WIRE_PAGE_FLAG_ZERO) && frame->payload_len != hdr->length) {
		snprintf(err, err_len, "page payload %u bytes, header says %u", frame->payload_len,
			 hdr->length);
		return -EPROTO;
	}
	ret = wire_check_page_header(hdr, layout, page_size, why, sizeof(why));
	if (ret) {
		*code = WIRE__ERROR_CODE__ERROR_RANGE;
		snprintf(err, err_len, "bad page header: %s", why);
		return ret;
	}
	return 0;
}

bool page_frame_intact(const struct rx_frame *frame)
{
	const Wire__PageHeader *hdr = (const Wire__PageHeader *)frame->msg;

	return hdr->checksum == wire_page_checksum(hdr->region, hdr->offset, hdr->length,
						   hdr->flags, frame->payload,
						   frame->payload ? frame->payload_len : 0);
}
