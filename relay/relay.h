/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The relay: accepts connections, dials the other end for each, and passes the frames of
 * both directions through the fault layer (docs/fault-injection.md). pager-relay is its
 * command line; tests drive it the same way.
 *
 *	relay_create() -> relay_print_schedule() -> relay_run() -> relay_write_json()
 *	-> relay_destroy()
 *
 * Files, top down: relay.c (accepting, dialling, the run), pipe.c (one direction of a
 * connection: the queue, the threads' lifetime), reader.c and writer.c (its two threads),
 * pair.c (connection pairs: sessions, roles, holds, cuts), faults.c (which rules fire on a
 * frame), reorder.c (the reorder window), report.c (schedule lines, events, JSON); below
 * them spec.c, spec_check.c, spec_values.c, schedule.c, frame_tracker.c and phase.c, which
 * know nothing of sockets or threads.
 */
#ifndef RELAY_RELAY_H
#define RELAY_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spec.h"

struct relay_options {
	const char *listen;    /* where clients connect ("host:port"; port 0: any) */
	const char *to;        /* where each connection is relayed to */
	const char *port_file; /* the listening port is written here */
	struct relay_spec spec;
	uint64_t seed;
	uint64_t max_connections; /* relay this many connections to their end, then return */
	uint64_t idle_exit_ms;    /* or return once all ended and none came for this long (0: no) */
	bool log_schedule;        /* log every fault as it fires, and what p= rules will hit */
};

struct relay;

/* Listens. 0, or -errno with a sentence in err. */
int relay_create(const struct relay_options *opts, struct relay **out, char *err,
		 size_t err_len);
int relay_port(const struct relay *r);
/* The seed and one line per rule, on stderr: enough to replay the run. */
void relay_print_schedule(const struct relay *r);
/* Relays until max_connections connections have ended, or relay_stop(). 0 or -errno. */
int relay_run(struct relay *r);
/* Async-signal-safe: relay_run() cuts every connection and returns within ~100 ms. */
void relay_stop(struct relay *r);
/* The schedule, connection pairs, phases and every fault that fired. */
void relay_write_json(struct relay *r, FILE *f);
void relay_destroy(struct relay *r);

#endif
