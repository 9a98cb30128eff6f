/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The listener thread's private state. One thread owns all of it: it reads faults from
 * userfaultfd, sends requests, receives pages on both channels and installs them, driven by
 * one io_uring.
 */
#ifndef PAGER_LISTENER_H
#define PAGER_LISTENER_H

#include <liburing.h>
#include <linux/userfaultfd.h>
#include <stdbool.h>
#include <stdint.h>

#include "pager_internal.h"
#include "rx_buffer.h"
#include "wire.h"

enum channel_index { CH_DEMAND, CH_PUSH, CH_COUNT };

/* A thread blocked on a page, from the fault's arrival until the page is installed. */
struct waiter {
	uint64_t page_addr;
	pid_t tid;
	uint64_t since_ns;
};

/* Outgoing frames on the demand socket: one buffer fills while the other is in flight. */
struct tx_queue {
	uint8_t *fill, *flight;
	size_t fill_len, flight_len, flight_done, cap;
	bool busy;
};

struct listener {
	struct pager *p;
	struct io_uring ring;
	bool ring_ready;
	struct rx_buffer rx[CH_COUNT];
	bool rx_armed[CH_COUNT], rx_eof[CH_COUNT];
	struct wire_arena arena;
	struct wire_layout layout; /* for the checks of page headers */
	struct tx_queue tx;

	struct waiter *waiters;
	size_t n_waiters, cap_waiters;
	uint64_t next_request_id;

	bool stop, failed, push_done, all_present, complete_sent, complete_acked;
	struct uffd_msg msgs[64];
};

/* fault.c */
int fault_read_all(struct listener *l);
void fault_wake_range(struct listener *l, uint64_t addr, uint64_t len);

/* install.c: 0, or a negative errno after pager_fail(). */
int install_pages(struct listener *l, const Wire__PageHeader *hdr, const uint8_t *payload);

/* listener.c */
int listener_queue_frame(struct listener *l, enum wire_type type, const ProtobufCMessage *msg);
void listener_protocol_error(struct listener *l, int err, Wire__ErrorCode code, const char *fmt,
			     ...) __attribute__((format(printf, 4, 5)));

#endif
