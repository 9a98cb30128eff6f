/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The push receiver: a thread of its own that reads the push connection and installs the
 * pushed pages, so that the listener's turn is never a slice of the push (a 64-page run takes
 * a few hundred microseconds to copy in; a fault or a demand answer waited behind them). The
 * listener keeps everything else: the userfaultfd,
 * the requests, the demand connection, the connection's life and the pager's failure; what
 * the push stream says that is the listener's business (PushDone, a damaged run, its end)
 * the receiver hands over as events, and wakes the listener through the control eventfd.
 */
#ifndef PAGER_PUSH_RX_H
#define PAGER_PUSH_RX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pager_internal.h"
#include "rx_buffer.h"
#include "wire.h"

/* How the receiver stopped reading its connection, for the listener to judge. */
enum push_end {
	PUSH_END_NONE,
	PUSH_END_EOF,       /* the source closed it (normal after PushDone) */
	PUSH_END_RECV,      /* recv() failed: error */
	PUSH_END_LOST,      /* the stream cannot go on (damaged framing, the source said so) */
	PUSH_END_PROTOCOL,  /* the source broke the protocol: error, code, text */
	PUSH_END_FAIL,      /* an install failed or the source reported an error: error, text */
};

/* Damaged runs remembered for the listener to request at once (more: the PushDone sweep). */
#define PUSH_DAMAGED_MAX 16u

struct push_events {
	bool push_done;  /* every pushed page came before this */
	bool damaged;    /* a run failed its checksum: its header may have lied */
	uint32_t n_damaged;
	struct {
		uint32_t region;
		uint64_t first, count;
	} damaged_runs[PUSH_DAMAGED_MAX];
	enum push_end end;
	bool frames_left; /* PUSH_END_EOF in the middle of a frame */
	int error;
	Wire__ErrorCode code;
	char text[384];
};

struct push_rx {
	struct pager *p;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu; /* guards the fields down to ev; cond: any of them moved */
	pthread_cond_t cond;
	int fd;        /* the push socket handed over, -1 between connections */
	bool fresh;    /* fd not read to its end yet */
	bool busy;     /* the thread is reading fd or installing from it */
	bool stop;
	bool pending;  /* ev holds something (atomic: the listener peeks without the lock) */
	struct push_events ev;
	bool abort;       /* atomic: stop installing (connection lost, pager failed) */
	uint32_t installing; /* atomic: a frame is being installed and counted */
	uint64_t last_rx_ns; /* atomic: anything received */
	/* The thread's own. */
	struct rx_buffer rx;
	uint8_t *staging; /* pager_options.install_move: payloads received here, then moved */
	struct wire_arena arena;
	struct wire_layout layout;
};

int push_rx_init(struct push_rx *pr, struct pager *p);
void push_rx_free(struct push_rx *pr);
/* Starts the thread on the push socket (it reads once the push is released). */
int push_rx_start(struct push_rx *pr, int fd);
/* Stops it (ending a receive under way) and joins it. */
void push_rx_stop(struct push_rx *pr);
/* pager_release_push() or a stop was signalled: the thread looks again. */
void push_rx_kick(struct push_rx *pr);
/* Stop installing from this connection at the next frame (the listener lost it or failed). */
void push_rx_abort(struct push_rx *pr);
/*
 * True once the thread is done with its socket (not reading it): the listener may close it.
 * Then the socket is forgotten, the buffer and the events dropped.
 */
bool push_rx_release_socket(struct push_rx *pr);
/* A new connection's push socket (after a resume). */
void push_rx_attach(struct push_rx *pr, int fd);
/* The events since the last call into *out; false when there were none. */
bool push_rx_take_events(struct push_rx *pr, struct push_events *out);

/*
 * Whether a frame is between its install and its count. Read after the pages were all seen
 * present: the last page's frame is counted once this says no (the pager completes only then,
 * so the stats at completion hold every page).
 */
static inline bool push_rx_installing(const struct push_rx *pr)
{
	return __atomic_load_n(&pr->installing, __ATOMIC_SEQ_CST);
}

static inline uint64_t push_rx_last_rx(const struct push_rx *pr)
{
	return __atomic_load_n(&pr->last_rx_ns, __ATOMIC_RELAXED);
}

#endif
