/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A page frame's checks, the same on both connections: the channel it came on, its payload's
 * length, its header against the layout, its checksum. What a failed check means is the
 * caller's (the listener fails the pager; the push receiver tells the listener).
 */
#ifndef PAGER_PAGE_FRAME_H
#define PAGER_PAGE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rx_buffer.h"
#include "wire.h"

/*
 * 0, or -errno with the code to tell the source and a sentence in err: a demand answer on
 * the push channel, a payload of the wrong length, a header outside the layout.
 */
int page_frame_check(const struct rx_frame *frame, bool push_channel,
		     const struct wire_layout *layout, uint32_t page_size, Wire__ErrorCode *code,
		     char *err, size_t err_len);

/* Whether the payload (nothing for a zero run) matches the header's checksum. */
bool page_frame_intact(const struct rx_frame *frame);

#endif
