/* SPDX-License-Identifier: GPL-2.0-only */
/* Fault path, first half: a uffd event becomes a waiter and, at most once a page, a request. */
#ifndef PAGER_FAULT_H
#define PAGER_FAULT_H

#include <linux/userfaultfd.h>
#include <stddef.h>
#include <stdint.h>

#include "pager_internal.h"
#include "requests.h"
#include "tx_queue.h"

/* The listener's fault-reading state. */
struct fault_reader {
	struct request_table *requests; /* the listener's: a fault on an absent page adds one */
	struct uffd_msg msgs[64];       /* one read takes up to this many events */
};

/*
 * Reads every pending fault event (non-blocking) and serves each: a request queued on tx for
 * an absent page, a waiter for an absent or requested one, a wake for a present one. 0, or
 * -errno with the reason in err; the caller decides what the error means.
 */
int fault_read_all(struct pager *p, struct fault_reader *f, struct tx_queue *tx, char *err,
		   size_t err_len);

#endif
