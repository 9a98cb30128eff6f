/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The destination pager's state, shared by the layers below the public API, each using its
 * own part. Top down; a file calls only files in rows below its own:
 *
 *   pager.c  pager_precopy.c  pager_precopy_recv.c  pager_resume.c  pager_stats.c
 *                                               public API (the owner's threads)
 *   listener.c                                  the thread: io_uring, dispatch, completion
 *   listener_rx.c                               frames in: checked, installed or acted on
 *   listener_conn.c                             the connection: lost, down, adopted; timers
 *   listener_fail.c                             alone turns an error into the pager's failure
 *   fault.c  install.c                          fault path: event -> request; page -> wake
 *   requests.c                                  outstanding requests (the listener's alone)
 *   tx_queue.c  rx_buffer.c  waiters.c  run_state.c   (waiters, run state: under `lock`)
 *   counters.c  region.c                        (counters: under `lock`)
 *   page_state.c  histogram.c  uffd.c  logger.c  options.c  cpu.c
 */
#ifndef PAGER_INTERNAL_H
#define PAGER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "counters.h"
#include "logger.h"
#include "pager.h"
#include "region.h"
#include "waiters.h"

/*
 * The life cycle, moved only by run_state.c: IDLE -> RUNNING -> COMPLETE | FAILED, forward
 * only, except RUNNING <-> DISCONNECTED while a lost connection is being replaced.
 */
struct run_state {
	enum pager_state state;
	int error;
	char error_text[640];
	char disconnect_text[512]; /* why the connection was lost last */
	uint64_t start_ns, end_ns;
	uint64_t disconnect_ns;    /* when it was lost (while DISCONNECTED) */
	uint64_t reconnects, disconnected_ns;
	bool confirmed; /* the source acknowledged the Complete: it knows it is done */
};

struct listener;

struct pager {
	struct pager_options opts;
	struct logger log;
	int uffd;
	/* eventfd: the owner wakes the listener after setting stop_requested or push_released. */
	int ctl_fd;
	bool stop_requested; /* atomics */
	bool push_released;
	bool move_refused; /* atomic: UFFDIO_MOVE refused a run once (told once, copied since) */
	/* pager_resume() hands new sockets to the listener here, under `lock`. */
	bool resume_pending;
	int resume_fds[2];
	int demand_fd, push_fd;
	struct region_table regions; /* fixed once started */

	pthread_t thread;
	bool thread_started;
	struct listener *listener; /* the listener thread's own; the owner creates and frees it */

	/* Guards what other threads read while the listener runs: the four below. */
	pthread_mutex_t lock;
	pthread_cond_t changed; /* run state moved */
	struct run_state run;
	struct pager_counters counters;  /* the listener's */
	struct precopy_counters precopy; /* the owner's, before pager_start() */
	struct waiters waiters;          /* the listener's */

	/*
	 * The push receiver's page counters, under their own lock, which the listener never
	 * takes: a push receiver preempted while holding it (it runs at a lower priority) never
	 * holds up a fault. pager_get_stats() adds them to the listener's.
	 */
	pthread_mutex_t push_lock;
	struct pager_counters push_counters;
};

/* run_state.c: each takes the lock. */
void run_state_init(struct pager *p);
void run_state_destroy(struct pager *p);
/* IDLE -> RUNNING; false if it was not idle. */
bool run_state_start(struct pager *p);
/* RUNNING -> IDLE, when the listener could not be started. */
void run_state_unstart(struct pager *p);
/* RUNNING -> FAILED with this error and sentence; false (nothing changed) if not running. */
bool run_state_fail(struct pager *p, int error, const char *text);
/* RUNNING -> COMPLETE. */
void run_state_complete(struct pager *p);
enum pager_state run_state_get(struct pager *p);
int run_state_wait(struct pager *p, int timeout_ms);
/* pager.c: wakes the listener to look at stop_requested, push_released, resume_pending. */
void pager_signal_listener(struct pager *p);

struct handshake;
/*
 * pager_resume.c: pager_resume() on two connections whose hellos admission_accept() already
 * checked: answered, then the pages present here, then the listener takes them.
 */
int pager_resume_admitted(struct pager *p, const int fds[2], const struct handshake *h,
			  char *err, size_t err_len);

/* RUNNING -> DISCONNECTED, with why; RUNNING again when new connections are adopted. */
void run_state_disconnect(struct pager *p, const char *why);
void run_state_reconnect(struct pager *p);
const char *run_state_disconnect_reason(struct pager *p);
/* The source acknowledged the Complete (on the session's connection or a resumed one). */
void run_state_confirm(struct pager *p);
bool run_state_confirmed(struct pager *p);
/* Waits (bounded) while RUNNING: true once DISCONNECTED. */
bool run_state_wait_disconnected(struct pager *p, int timeout_ms);
const char *run_state_error(struct pager *p);

#endif
