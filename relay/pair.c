// SPDX-License-Identifier: GPL-2.0-only
/*
 * Connection pairs: the connections of one migration session the relay sees open together
 * (a demand and a push connection, joined by the Hello's session id), which end is the source,
 * and the faults that act on a whole pair: cuts, and the holds of stalls and blackholes.
 * A session that reconnects makes a new pair, so a rule with `every` fires again on it.
 */
#include "relay_internal.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#define HOLD_POLL_NS (100ull * 1000000ull)

static struct relay_pair *pair_new(struct relay *r, bool has_session, uint64_t session_id)
{
	struct relay_pair *p = calloc(1, sizeof(*p)), **tail;

	if (!p)
		return NULL;
	p->ordinal = r->n_pairs++;
	p->has_session = has_session;
	p->session_id = session_id;
	p->start_ns = relay_now();
	relay_phases_init(&p->phases);
	for (tail = &r->pairs; *tail; tail = &(*tail)->next)
		;
	*tail = p;
	return p;
}

/*
 * A Hello names the link's channel and session: it joins the pair missing that channel. A
 * connection carrying both channels (v5, BOTH) is a pair alone, its link the demand one: the
 * rules for the demand channel act on its whole stream, those for the push on nothing.
 */
static struct relay_pair *pair_for_hello(struct relay *r, struct relay_link *l,
					 const struct relay_frame *f)
{
	struct relay_pair *p;

	if (f->channel == WIRE__CHANNEL__CHANNEL_BOTH) {
		l->channel = WIRE__CHANNEL__CHANNEL_DEMAND;
		p = pair_new(r, true, f->session_id);
		if (p)
			p->single = true;
		return p;
	}
	l->channel = f->channel;
	for (p = r->pairs; p; p = p->next)
		if (p->has_session && !p->single && p->session_id == f->session_id &&
		    !p->links[l->channel])
			return p;
	return pair_new(r, true, f->session_id);
}

static void learn_roles(struct relay *r, const struct relay_dir *d, const struct relay_frame *f)
{
	int role = relay_sender_role(f);

	if (!role || r->client_role)
		return;
	/* One program dials the relay, so this holds for every later pair as well. */
	r->client_role = d->index == 0 ? role : -role;
	pr_info("the relay's clients are %s", r->client_role > 0 ? "sources" : "destinations");
}

int relay_pair_frame(struct relay *r, struct relay_dir *d, const struct relay_frame *f)
{
	struct relay_link *l = d->link;
	struct relay_pair *p;

	learn_roles(r, d, f);
	if (l->pair)
		return 0;
	if (f->type == WIRE_HELLO && (f->channel == WIRE__CHANNEL__CHANNEL_DEMAND ||
				      f->channel == WIRE__CHANNEL__CHANNEL_PUSH ||
				      f->channel == WIRE__CHANNEL__CHANNEL_BOTH))
		p = pair_for_hello(r, l, f);
	else
		p = pair_new(r, false, 0); /* not this protocol: a pair of its own, channel other */
	if (!p)
		return -ENOMEM;
	p->links[l->channel] = l;
	l->pair = p;
	return 0;
}

unsigned int relay_role_dir(const struct relay *r, const struct relay_dir *d)
{
	if (!r->client_role)
		return 0;
	return (d->index == 0) == (r->client_role > 0) ? RELAY_DIR_TO_DEST : RELAY_DIR_TO_SOURCE;
}

/* The link directions (bit 0: client -> server, bit 1: back) a role mask covers. */
static unsigned int link_dirs(const struct relay *r, unsigned int dirs)
{
	unsigned int out = 0, i;

	if (dirs == RELAY_DIR_ALL || !r->client_role)
		return 3;
	for (i = 0; i < 2; i++) {
		bool to_dest = (i == 0) == (r->client_role > 0);

		if (dirs & (to_dest ? RELAY_DIR_TO_DEST : RELAY_DIR_TO_SOURCE))
			out |= 1u << i;
	}
	return out;
}

void relay_link_cut(struct relay_link *l)
{
	/* A link already over has closed its sockets: their numbers may be another's now. */
	if (l->cut || l->joined)
		return;
	l->cut = true;
	/* Both ends see their connection close now, whatever was still queued for them. */
	shutdown(l->fds[0], SHUT_RDWR);
	shutdown(l->fds[1], SHUT_RDWR);
	relay_dir_wake(&l->dir[0], true);
	relay_dir_wake(&l->dir[1], true);
	pthread_cond_broadcast(&l->relay->changed);
}

static void hold(struct relay_pair *p, unsigned int ch, unsigned int dir, uint64_t until,
		 bool blackhole)
{
	if (p->hold_until[ch][dir] < until)
		p->hold_until[ch][dir] = until;
	if (blackhole)
		p->blackhole[ch][dir] = true;
}

void relay_action_run(struct relay_dir *d, const struct relay_action *a)
{
	struct relay_link *l = d->link;
	struct relay *r = l->relay;
	struct relay_pair *p = l->pair;
	uint64_t until = a->duration_ns ? relay_now() + a->duration_ns : UINT64_MAX;
	unsigned int ch, dirs;

	pthread_mutex_lock(&r->lock);
	if (a->own_stream) {
		/* A stall on a frame holds the stream that carries it: the frame and all behind. */
		hold(p, l->channel, d->index, until, false);
	} else {
		dirs = link_dirs(r, a->dirs);
		for (ch = 0; ch < RELAY_CHANNELS; ch++) {
			if (!(a->channels & channel_bit(ch)))
				continue;
			if (a->kind == FAULT_CUT && p->links[ch])
				relay_link_cut(p->links[ch]);
			if (a->kind != FAULT_CUT && (dirs & 1))
				hold(p, ch, 0, until, a->kind == FAULT_BLACKHOLE);
			if (a->kind != FAULT_CUT && (dirs & 2))
				hold(p, ch, 1, until, a->kind == FAULT_BLACKHOLE);
		}
	}
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	pr_info("pair %u: %s %s", p->ordinal, relay_fault_name(a->kind),
		a->kind == FAULT_CUT ? "now" : a->duration_ns ? "begins" : "begins, for good");
}

bool relay_hold_wait(struct relay_dir *d)
{
	struct relay *r = d->link->relay;
	struct timespec ts;
	uint64_t until, now, wake;

	pthread_mutex_lock(&r->lock);
	while (!d->closing && !atomic_load(&r->stop)) {
		until = d->link->pair->hold_until[d->link->channel][d->index];
		now = relay_now();
		if (until <= now)
			break;
		/* Woken by a cut or a new hold; the poll bounds a missed wake-up. */
		wake = until - now < HOLD_POLL_NS ? until : now + HOLD_POLL_NS;
		ts = (struct timespec){ .tv_sec = (time_t)(wake / 1000000000ull),
					.tv_nsec = (long)(wake % 1000000000ull) };
		pthread_cond_timedwait(&r->changed, &r->lock, &ts);
	}
	pthread_mutex_unlock(&r->lock);
	return !d->closing;
}

uint64_t relay_blackholed(struct relay_dir *d)
{
	struct relay *r = d->link->relay;
	struct relay_pair *p;
	uint64_t until = 0;

	pthread_mutex_lock(&r->lock);
	p = d->link->pair;
	if (p && p->blackhole[d->link->channel][d->index] &&
	    relay_now() < p->hold_until[d->link->channel][d->index])
		until = p->hold_until[d->link->channel][d->index];
	pthread_mutex_unlock(&r->lock);
	return until;
}
