// SPDX-License-Identifier: GPL-2.0-only
#include "tx_queue.h"

#include <errno.h>
#include <stdlib.h>

int tx_queue_init(struct tx_queue *tx, size_t cap)
{
	*tx = (struct tx_queue){ .cap = cap };
	tx->fill = malloc(cap);
	tx->flight = malloc(cap);
	if (!tx->fill || !tx->flight) {
		tx_queue_free(tx);
		return -ENOMEM;
	}
	return 0;
}

void tx_queue_free(struct tx_queue *tx)
{
	free(tx->fill);
	free(tx->flight);
	tx->fill = tx->flight = NULL;
}

int tx_queue_frame(struct tx_queue *tx, enum wire_type type, const ProtobufCMessage *msg)
{
	ssize_t n = wire_encode(type, msg, tx->fill + tx->fill_len, tx->cap - tx->fill_len);

	if (n < 0)
		return (int)n;
	tx->fill_len += (size_t)n;
	return 0;
}

bool tx_queue_start(struct tx_queue *tx, const uint8_t **buf, size_t *len)
{
	uint8_t *swap;

	if (tx->busy || !tx->fill_len)
		return false;
	swap = tx->flight;
	tx->flight = tx->fill;
	tx->fill = swap;
	tx->flight_len = tx->fill_len;
	tx->flight_done = 0;
	tx->fill_len = 0;
	tx->busy = true;
	*buf = tx->flight;
	*len = tx->flight_len;
	return true;
}

bool tx_queue_sent(struct tx_queue *tx, size_t n, const uint8_t **buf, size_t *len)
{
	tx->flight_done += n;
	if (tx->flight_done < tx->flight_len) {
		*buf = tx->flight + tx->flight_done;
		*len = tx->flight_len - tx->flight_done;
		return true;
	}
	tx->busy = false;
	return false;
}

void tx_queue_reset(struct tx_queue *tx)
{
	tx->fill_len = tx->flight_len = tx->flight_done = 0;
	tx->busy = false;
}
