// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reader of one direction: bytes from its socket, cut into frames by the frame tracker,
 * each frame decided by the rules (faults.c) and queued for the writer with its release time
 * (a delay is counted from when the frame arrived, so delays never add up in the queue), or
 * held in the reorder window, or dropped, copied, damaged as the verdict says.
 */
#include "relay_internal.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define RECV_BYTES (256u * 1024u)
#define POLL_MS 50

static void queue_data(struct relay_dir *d, struct relay_item *it)
{
	uint64_t release = relay_now() + it->delay_ns;

	/* A later frame never overtakes an earlier one: TCP order is kept. */
	if (release < d->last_release)
		release = d->last_release;
	d->last_release = release;
	it->release_ns = release;
	relay_queue_push(d, it);
}

static void queue_control(struct relay_dir *d, enum item_kind kind, const struct relay_action *a)
{
	struct relay_item *it = calloc(1, sizeof(*it));

	if (!it)
		return;
	it->kind = kind;
	if (a)
		it->action = *a;
	relay_queue_push(d, it);
}

static void flush_reorder(struct relay_dir *d)
{
	struct relay_item *it;

	while ((it = relay_reorder_take(d)))
		queue_data(d, it);
}

/* A frame goes out, or into the reorder window (which may let an older one out). */
static void place(struct relay_dir *d, const struct frame_ctx *c, const struct relay_verdict *v,
		  struct relay_item *it)
{
	struct relay_item *out[RELAY_MAX_WINDOW];
	unsigned int i, n;

	if (v->reorder) {
		n = relay_reorder_add(d->link->relay, d, it, c, v->window, v->reorder_rule, out);
		for (i = 0; i < n; i++)
			queue_data(d, out[i]);
		return;
	}
	/* Anything else is a barrier: held pages leave before it. */
	flush_reorder(d);
	queue_data(d, it);
}

static struct relay_item *copy_item(const struct relay_item *it)
{
	struct relay_item *copy = malloc(sizeof(*copy));

	if (!copy)
		return NULL;
	*copy = *it;
	copy->data = malloc(it->len);
	if (!copy->data) {
		free(copy);
		return NULL;
	}
	memcpy(copy->data, it->data, it->len);
	return copy;
}

static void apply_verdict(struct relay_dir *d, const struct frame_ctx *c,
			  const struct relay_verdict *v, struct relay_frame *f)
{
	struct relay_item *it, *copy;
	unsigned int i;

	for (i = 0; i < v->n_before; i++) {
		flush_reorder(d);
		queue_control(d, ITEM_ACTION, &v->before[i]);
	}
	it = v->drop ? NULL : calloc(1, sizeof(*it));
	if (it) {
		it->kind = ITEM_DATA;
		it->data = f->data;
		it->len = f->len;
		it->delay_ns = v->delay_ns;
		it->rate = v->rate;
		f->data = NULL;
		/* Only the payload: the header stays intact, so the damage is in a page. */
		for (i = 0; i < v->n_flips; i++)
			it->data[f->payload_off + v->flips[i] / 8] ^=
				(uint8_t)(1u << (v->flips[i] % 8));
		copy = v->dup ? copy_item(it) : NULL;
		place(d, c, v, it);
		if (copy)
			place(d, c, v, copy);
	}
	free(f->data);
	for (i = 0; i < v->n_after; i++) {
		flush_reorder(d);
		queue_control(d, ITEM_ACTION, &v->after[i]);
	}
}

/* The frame tracker's callback: the rules' verdict on each frame, in stream order. */
static void on_frame(void *arg, struct relay_frame *f)
{
	struct relay_dir *d = arg;
	struct relay *r = d->link->relay;
	struct relay_verdict v;
	struct phase_step step;
	struct frame_ctx c = { .link = d->link, .dir = d, .frame = f, .step = &step };

	pthread_mutex_lock(&r->lock);
	if (relay_pair_frame(r, d, f)) {
		/* No faults without a pair to keep their state: the connection ends. */
		pr_err("connection %u: out of memory", d->link->id);
		relay_link_cut(d->link);
		pthread_mutex_unlock(&r->lock);
		free(f->data);
		return;
	}
	c.role_dir = relay_role_dir(r, d);
	c.index = d->frames++;
	relay_phases_frame(&d->link->pair->phases, channel_bit(d->link->channel), f, relay_now(),
			   &step);
	relay_faults_eval(r, &c, &v);
	pthread_mutex_unlock(&r->lock);
	apply_verdict(d, &c, &v, f);
}

/* While the stream is black-holed the reader reads nothing, but notices a peer leaving. */
static bool peer_left(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

	return poll(&pfd, 1, POLL_MS) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

void *relay_reader_main(void *arg)
{
	struct relay_dir *d = arg;
	uint8_t *buf = malloc(RECV_BYTES);
	uint64_t until, now;
	ssize_t n;

	while (buf && !d->closing) {
		until = relay_blackholed(d);
		if (until == UINT64_MAX) {
			if (peer_left(d->from))
				break;
			continue;
		}
		if (until) {
			/* A silence with an end: what the peer sends meanwhile is read after it. */
			now = relay_now();
			relay_wait_until(d, until - now < POLL_MS * 1000000ull ? until
								  : now + POLL_MS * 1000000ull);
			continue;
		}
		/* Held pages wait for more only while more is already there. */
		n = recv(d->from, buf, RECV_BYTES, d->reorder.n ? MSG_DONTWAIT : 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			flush_reorder(d);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		d->bytes_in += (uint64_t)n;
		if (frame_tracker_feed(&d->tracker, buf, (size_t)n, on_frame, d))
			break;
	}
	if (relay_blackholed(d) == UINT64_MAX) {
		/*
		 * A peer gave up on a silence that never ends. The writer holds the end like
		 * everything else, so the close would never reach the other end: it gets it now.
		 * (A silence with an end delivers what was sent, then the end, as a healed link.)
		 */
		pthread_mutex_lock(&d->link->relay->lock);
		relay_link_cut(d->link);
		pthread_mutex_unlock(&d->link->relay->lock);
	}
	frame_tracker_finish(&d->tracker, on_frame, d);
	flush_reorder(d);
	queue_control(d, ITEM_END, NULL);
	free(buf);
	relay_thread_done(d->link);
	return NULL;
}
