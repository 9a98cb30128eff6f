/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The relay's runtime objects. One lock, relay->lock, guards everything that crosses
 * connections (pairs, phases, budgets, holds, events); each direction's queue has its own.
 * Order: relay->lock before a queue lock, never the other way.
 *
 * A connection (link) has two directions, each a reader thread (socket -> frame tracker ->
 * fault decisions -> queue) and a writer thread (queue -> release time -> holds -> throttle
 * -> socket). Decisions are made by the reader, acted on by the writer in stream order, so a
 * cut "after N frames" leaves exactly N frames delivered.
 */
#ifndef RELAY_INTERNAL_H
#define RELAY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "frame_tracker.h"
#include "net.h"
#include "phase.h"
#include "relay.h"
#include "schedule.h"

#define RELAY_CHANNELS 3 /* index: 0 other, 1 demand, 2 push (the Hello's values) */
#define RELAY_MAX_EVENTS 4096
#define RELAY_QUEUE_MAX_BYTES (32u * 1024u * 1024u)

static inline unsigned int channel_bit(unsigned int index)
{
	return 1u << index;
}

/* A connection-level fault, carried down the queue to the point in the stream it acts at. */
struct relay_action {
	enum relay_fault kind;    /* FAULT_CUT, FAULT_BLACKHOLE or FAULT_STALL */
	unsigned int channels, dirs;
	bool own_stream;          /* stall: only the stream that carries it */
	uint64_t duration_ns;     /* 0 with FAULT_BLACKHOLE: until a peer closes */
};

enum item_kind { ITEM_DATA, ITEM_ACTION, ITEM_END };

struct relay_item {
	struct relay_item *next;
	enum item_kind kind;
	uint64_t release_ns;  /* not written before this */
	uint64_t delay_ns;    /* what the rules added, applied when queued */
	uint64_t rate;        /* throttle in force for these bytes (bytes/s), 0: none */
	uint8_t *data;
	size_t len;
	struct relay_action action;
};

/* PAGE frames held back for reordering, oldest first, with what an event says of them. */
struct reorder_slot {
	struct relay_item *item;
	uint64_t frame;
	uint32_t region, length, flags;
	uint64_t offset;
};

struct reorder_window {
	struct reorder_slot slots[RELAY_MAX_WINDOW];
	unsigned int n;
};

struct relay_link;

struct relay_dir {
	struct relay_link *link;
	unsigned int index; /* 0: client -> server, 1: server -> client */
	int from, to;
	struct frame_tracker tracker;
	struct reorder_window reorder;
	uint64_t frames;        /* frames seen so far: the next one's index */
	uint64_t now_ns;        /* when the bytes being processed arrived */
	uint64_t last_release;  /* order is kept: nothing is released before what precedes it */
	uint64_t next_free_ns;  /* throttle: when the link is free for the next byte */
	uint64_t bytes_in, bytes_out, frames_out;
	pthread_mutex_t lock;   /* the queue and the flags below */
	pthread_cond_t changed;
	struct relay_item *head, *tail;
	size_t queued;
	atomic_bool closing;    /* drop what is queued, stop (set under lock, read anywhere) */
	bool writer_done;
	pthread_t reader, writer;
};

struct relay_pair;

struct relay_link {
	struct relay *relay;
	struct relay_link *next;
	struct relay_pair *pair;  /* set at its first Hello (or first frame) */
	unsigned int id;          /* accept order, from 0 */
	unsigned int channel;     /* index; 0 until a Hello names it */
	int fds[2];               /* 0: the accepted socket, 1: the dialled one */
	struct relay_dir dir[2];
	bool cut;                 /* closed by a fault */
	atomic_int threads_left;  /* the link is over when its four threads are */
	unsigned int started;     /* threads created: bit 2i reader, 2i+1 writer of dir[i] */
	bool joined;              /* over, its threads joined and sockets closed (relay->lock) */
};

struct relay_pair {
	struct relay_pair *next;
	uint32_t ordinal;
	uint64_t session_id;
	bool has_session;
	struct relay_link *links[RELAY_CHANNELS];
	bool single; /* v5: one connection (Hello channel BOTH) is the whole session */
	struct relay_phases phases;
	uint32_t fired[RELAY_MAX_RULES];                /* for rules with `every` */
	uint64_t hold_until[RELAY_CHANNELS][2];         /* [channel][link direction] */
	bool blackhole[RELAY_CHANNELS][2];              /* readers stop too */
	uint64_t start_ns;
};

struct relay_event {
	uint32_t rule, pair, frame_type;
	enum relay_fault kind;
	unsigned int channel, dir; /* index; RELAY_DIR_* or 0 when not known yet */
	uint64_t frame, t_us;
	bool page;
	uint32_t region, length, flags;
	uint64_t offset;
	char detail[64];
};

struct relay {
	struct relay_options opts;
	struct net_addr listen_addr, to_addr;
	int lfd;
	uint64_t start_ns;
	atomic_bool stop;
	pthread_mutex_t lock;
	pthread_cond_t changed;   /* holds changed, a link ended */
	struct relay_link *links;
	unsigned int n_links, links_active;
	struct relay_pair *pairs;
	uint32_t n_pairs;
	int client_role;          /* 1: clients are sources, -1: destinations, 0: not known */
	uint64_t fired[RELAY_MAX_RULES];
	struct relay_event *events;
	size_t n_events, events_dropped;
};

/* The verdict of the rules on one frame (faults.c), acted on by pipe.c. */
#define RELAY_MAX_ACTIONS 8
struct relay_verdict {
	uint64_t delay_ns, rate;
	bool drop, dup, reorder;
	uint32_t window, reorder_rule;
	uint32_t n_flips;
	uint64_t flips[RELAY_MAX_FLIPS]; /* bit positions in the payload */
	unsigned int n_before, n_after;
	struct relay_action before[RELAY_MAX_ACTIONS], after[RELAY_MAX_ACTIONS];
};

/* What faults.c needs to know about a frame; relay->lock held. */
struct frame_ctx {
	struct relay_link *link;
	struct relay_dir *dir;
	const struct relay_frame *frame;
	const struct phase_step *step;
	unsigned int role_dir;  /* RELAY_DIR_* of this direction, 0 when not known yet */
	uint64_t index;
};

/* pipe.c */
void relay_item_free(struct relay_item *it);
/* Queues an item; a writer that is held or slow makes the reader wait for room. */
void relay_queue_push(struct relay_dir *d, struct relay_item *it);
/* Sleeps until t unless the direction closes first. False: closing. */
bool relay_wait_until(struct relay_dir *d, uint64_t t);
/* A thread of the link is over; the last one ends the link. */
void relay_thread_done(struct relay_link *l);
int relay_link_start(struct relay_link *l);
/* Once the link's threads are over: joins them and frees what its directions held. */
void relay_link_join(struct relay_link *l);
void relay_dir_wake(struct relay_dir *d, bool closing);
uint64_t relay_now(void);

/* reader.c, writer.c: the two threads of a direction */
void *relay_reader_main(void *arg);
void *relay_writer_main(void *arg);

/* pair.c (relay->lock held unless said) */
/* The frame's connection joins its pair (at its first frame) and the roles may be learned. */
int relay_pair_frame(struct relay *r, struct relay_dir *d, const struct relay_frame *f);
unsigned int relay_role_dir(const struct relay *r, const struct relay_dir *d);
void relay_link_cut(struct relay_link *l);
void relay_action_run(struct relay_dir *d, const struct relay_action *a); /* lock not held */
/* Writer: waits while a stall or blackhole holds its stream. False: closing. */
bool relay_hold_wait(struct relay_dir *d);
/* Reader: when the black-hole on its stream ends (UINT64_MAX: never), 0 when there is none. */
uint64_t relay_blackholed(struct relay_dir *d);

/* faults.c (relay->lock held) */
void relay_faults_eval(struct relay *r, const struct frame_ctx *c, struct relay_verdict *v);

/* reorder.c */
/* Adds item; once the window is full, puts all it held in out, in the order to send. */
unsigned int relay_reorder_add(struct relay *r, struct relay_dir *d, struct relay_item *item,
			       const struct frame_ctx *c, uint32_t window, uint32_t rule,
			       struct relay_item **out);
/* Takes the oldest held item, NULL when empty. */
struct relay_item *relay_reorder_take(struct relay_dir *d);

/* report.c */
void relay_event_add(struct relay *r, uint32_t rule, const struct frame_ctx *c,
		     const char *detail_fmt, ...) __attribute__((format(printf, 4, 5)));
const char *relay_channel_name(unsigned int index);
const char *relay_dir_name(unsigned int role_dir);

#endif
