/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The listener thread's private state, shared by its files, top down:
 *
 *   listener.c       the thread: its io_uring, arming, dispatch, completion, stop
 *   listener_rx.c    frames in on the demand connection, and the push receiver's events
 *   listener_conn.c  the connection: lost, down, adopted; timers
 *   listener_fail.c  the one place where an error becomes the pager's failure
 *
 * The push connection is read by the push receiver's thread (push_rx.h), not here.
 */
#ifndef PAGER_LISTENER_INTERNAL_H
#define PAGER_LISTENER_INTERNAL_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "fault.h"
#include "pager_internal.h"
#include "push_rx.h"
#include "rx_buffer.h"
#include "tx_queue.h"
#include "wire.h"

enum channel_index { CH_DEMAND, CH_PUSH, CH_COUNT };

/*
 * The connection's life: UP; LOST while the old sockets' last receive and send complete
 * (after shutdown()); DOWN, closed and waiting for pager_resume()'s new sockets.
 */
enum conn_state { CONN_UP, CONN_LOST, CONN_DOWN };

struct listener {
	struct pager *p;
	struct io_uring ring;
	bool ring_ready;
	struct rx_buffer rx; /* the demand connection's */
	bool rx_armed, rx_eof;
	struct push_rx push; /* the push connection's reader and installer */
	struct wire_arena arena;
	struct wire_layout layout; /* what page headers are checked against */
	struct tx_queue tx;
	struct fault_reader faults;
	struct request_table requests; /* outstanding demand requests */
	enum conn_state conn;
	char lost_reason[384];
	uint64_t last_rx_ns; /* anything received on the demand socket (push: push_rx_last_rx) */
	uint64_t complete_sent_ns;
	bool stop, failed, push_done, all_present, complete_sent, complete_acked;
	bool damaged_push; /* a push run failed its checksum since the last PushDone */
};

static inline const char *channel_name(enum channel_index ch)
{
	return ch == CH_DEMAND ? "demand" : "push";
}

/* listener_fail.c: fails the pager (once) with the cause and the pages still missing. */
void listener_fail(struct listener *l, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for the source's fault, after queueing an Error message telling it why. */
void listener_protocol_error(struct listener *l, int err, Wire__ErrorCode code, const char *fmt,
			     ...) __attribute__((format(printf, 4, 5)));

/* listener_rx.c: takes every whole frame off the demand connection. */
void listener_process_rx(struct listener *l);
/* After process_rx: a close is the normal end after completion. */
void listener_check_eof(struct listener *l);
/* What the push receiver reported (PushDone, damaged runs, the end of its connection). */
void listener_push_events(struct listener *l);

/*
 * listener_conn.c: the connection's life. listener_lose() takes a broken connection down (or
 * fails the pager when recovery is off); the pager waits, disconnected, for new sockets.
 */
void listener_lose(struct listener *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a stream whose framing is lost, telling the source (Error, ERROR_STREAM). */
void listener_lose_damaged(struct listener *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Once the old sockets' operations are done: closes them, resets the buffers, DOWN. */
void listener_finish_lose(struct listener *l);
/* Takes the sockets pager_resume() handed over, if any, and sends every request again. */
void listener_adopt(struct listener *l);
/* Request timeouts, the silent-peer and the reconnect deadlines; the next one, 0 for none. */
uint64_t listener_timers(struct listener *l, uint64_t now);
/* Requests for every page that is absent and unrequested (after PushDone: lost pages). */
void listener_request_missing(struct listener *l, uint32_t region, uint64_t first,
			      uint64_t count);

#endif
