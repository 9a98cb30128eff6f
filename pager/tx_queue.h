/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Outgoing frames on the demand socket: one buffer fills while the other is in flight, so a
 * request queued during a send goes out with the next one. The caller does the sending.
 */
#ifndef PAGER_TX_QUEUE_H
#define PAGER_TX_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

struct tx_queue {
	uint8_t *fill, *flight;
	size_t fill_len, flight_len, flight_done, cap;
	bool busy; /* a send of the flight buffer is under way */
};

int tx_queue_init(struct tx_queue *tx, size_t cap);
void tx_queue_free(struct tx_queue *tx);

/* Drops everything queued and in flight (the connection it was for is gone). */
void tx_queue_reset(struct tx_queue *tx);
/* Appends a frame: 0, or -EMSGSIZE when the fill buffer has no room for it. */
int tx_queue_frame(struct tx_queue *tx, enum wire_type type, const ProtobufCMessage *msg);

/*
 * The bytes to send next: when idle with frames queued, the fill buffer becomes the flight
 * buffer. False when there is nothing to start (idle and empty, or a send under way).
 */
bool tx_queue_start(struct tx_queue *tx, const uint8_t **buf, size_t *len);
/* n bytes of the flight went out: true with the rest to send, false when it is all sent. */
bool tx_queue_sent(struct tx_queue *tx, size_t n, const uint8_t **buf, size_t *len);

#endif
