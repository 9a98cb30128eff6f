// SPDX-License-Identifier: GPL-2.0-only
/*
 * One direction of a relayed connection. The reader takes bytes from its socket, has the
 * frame tracker cut them into frames, asks the rules about each (faults.c) and queues what
 * is to be sent, each item with its release time; the writer sends them in order, each not
 * before its release time, while no stall or blackhole holds the stream, at the throttled
 * rate, and carries out the connection-level faults (cut, stall, blackhole) at the point in
 * the stream where they were decided. A delay never adds up in the queue: it is counted from
 * when the frame arrived.
 */
#include "relay_internal.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define RECV_BYTES (256u * 1024u)
#define BATCH_ITEMS 64u
#define BATCH_BYTES (1024u * 1024u)
#define THROTTLED_BATCH_BYTES (64u * 1024u)
#define POLL_MS 50

uint64_t relay_now(void)
{
	return clock_now_ns();
}

static void item_free(struct relay_item *it)
{
	free(it->data);
	free(it);
}

void relay_dir_wake(struct relay_dir *d, bool closing)
{
	pthread_mutex_lock(&d->lock);
	if (closing)
		atomic_store(&d->closing, true);
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
}

/* Queues an item; a writer that is held or slow makes the reader wait for room. */
static void queue_push(struct relay_dir *d, struct relay_item *it)
{
	pthread_mutex_lock(&d->lock);
	while (d->queued > RELAY_QUEUE_MAX_BYTES && !d->closing && !d->writer_done)
		pthread_cond_wait(&d->changed, &d->lock);
	if (d->closing || d->writer_done) {
		pthread_mutex_unlock(&d->lock);
		item_free(it);
		return;
	}
	it->next = NULL;
	if (d->tail)
		d->tail->next = it;
	else
		d->head = it;
	d->tail = it;
	d->queued += it->len;
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
}

static void queue_data(struct relay_dir *d, struct relay_item *it)
{
	uint64_t release = relay_now() + it->delay_ns;

	/* A later frame never overtakes an earlier one: TCP order is kept. */
	if (release < d->last_release)
		release = d->last_release;
	d->last_release = release;
	it->release_ns = release;
	queue_push(d, it);
}

static void queue_control(struct relay_dir *d, enum item_kind kind, const struct relay_action *a)
{
	struct relay_item *it = calloc(1, sizeof(*it));

	if (!it)
		return;
	it->kind = kind;
	if (a)
		it->action = *a;
	queue_push(d, it);
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
			it->data[f->payload_off + v->flips[i] / 8] ^= (uint8_t)(1u << (v->flips[i] % 8));
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
	relay_pair_frame(r, d, f);
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

static void thread_done(struct relay_link *l)
{
	struct relay *r = l->relay;

	if (atomic_fetch_sub(&l->threads_left, 1) != 1)
		return;
	pthread_mutex_lock(&r->lock);
	r->links_active--;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

static void *reader_main(void *arg)
{
	struct relay_dir *d = arg;
	uint8_t *buf = malloc(RECV_BYTES);
	ssize_t n;

	while (buf && !d->closing) {
		if (relay_blackholed(d)) {
			if (peer_left(d->from))
				break;
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
	if (relay_blackholed(d)) {
		/*
		 * A peer gave up on the silence. The writer holds the end like everything else,
		 * so the close would never reach the other end: it gets it now.
		 */
		pthread_mutex_lock(&d->link->relay->lock);
		relay_link_cut(d->link);
		pthread_mutex_unlock(&d->link->relay->lock);
	}
	frame_tracker_finish(&d->tracker, on_frame, d);
	flush_reorder(d);
	queue_control(d, ITEM_END, NULL);
	free(buf);
	thread_done(d->link);
	return NULL;
}

static struct relay_item *queue_pop(struct relay_dir *d)
{
	struct relay_item *it = NULL;

	pthread_mutex_lock(&d->lock);
	while (!d->head && !d->closing)
		pthread_cond_wait(&d->changed, &d->lock);
	if (!d->closing) {
		it = d->head;
		d->head = it->next;
		if (!d->head)
			d->tail = NULL;
		d->queued -= it->len;
		pthread_cond_broadcast(&d->changed);
	}
	pthread_mutex_unlock(&d->lock);
	return it;
}

/* Data items behind the first that are due too, at the same rate: one sendmsg for all. */
static unsigned int gather(struct relay_dir *d, struct relay_item **batch, size_t *bytes)
{
	size_t cap = batch[0]->rate ? THROTTLED_BATCH_BYTES : BATCH_BYTES;
	uint64_t now = relay_now();
	struct relay_item *it;
	unsigned int n = 1;

	*bytes = batch[0]->len;
	pthread_mutex_lock(&d->lock);
	while (n < BATCH_ITEMS && (it = d->head) && it->kind == ITEM_DATA &&
	       it->release_ns <= now && it->rate == batch[0]->rate && *bytes + it->len <= cap) {
		d->head = it->next;
		if (!d->head)
			d->tail = NULL;
		d->queued -= it->len;
		*bytes += it->len;
		batch[n++] = it;
	}
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
	return n;
}

/* Sleeps until t unless the direction closes first. False: closing. */
static bool wait_until(struct relay_dir *d, uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	pthread_mutex_lock(&d->lock);
	while (!d->closing && relay_now() < t)
		pthread_cond_timedwait(&d->changed, &d->lock, &ts);
	pthread_mutex_unlock(&d->lock);
	return !d->closing;
}

static int send_batch(struct relay_dir *d, struct relay_item **batch, unsigned int n)
{
	struct iovec iov[BATCH_ITEMS];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = n };
	unsigned int i;
	ssize_t sent;

	for (i = 0; i < n; i++)
		iov[i] = (struct iovec){ .iov_base = batch[i]->data, .iov_len = batch[i]->len };
	while (msg.msg_iovlen) {
		sent = sendmsg(d->to, &msg, MSG_NOSIGNAL);
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent <= 0)
			return -errno;
		d->bytes_out += (uint64_t)sent;
		while (msg.msg_iovlen && (size_t)sent >= msg.msg_iov->iov_len) {
			sent -= (ssize_t)msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen) {
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + sent;
			msg.msg_iov->iov_len -= (size_t)sent;
		}
	}
	d->frames_out += n;
	return 0;
}

/* Throttle: the batch leaves when the link would have finished sending the previous one. */
static bool pace(struct relay_dir *d, size_t bytes, uint64_t rate)
{
	uint64_t now = relay_now(), start = d->next_free_ns > now ? d->next_free_ns : now;

	d->next_free_ns = start + (uint64_t)((unsigned __int128)bytes * 1000000000u / rate);
	return wait_until(d, start);
}

/* Writes one due batch. False when the direction is over (closing, or the peer is gone). */
static bool write_due(struct relay_dir *d, struct relay_item *first)
{
	struct relay_item *batch[BATCH_ITEMS] = { first };
	unsigned int n = 1, i;
	size_t bytes;
	bool ok;

	ok = wait_until(d, first->release_ns) && relay_hold_wait(d);
	if (ok) {
		n = gather(d, batch, &bytes);
		ok = (!first->rate || pace(d, bytes, first->rate)) && !send_batch(d, batch, n);
		if (!ok && !d->closing) {
			/* The peer is gone: pass the failure on, as a direct link would show it. */
			shutdown(d->to, SHUT_RDWR);
			shutdown(d->from, SHUT_RD);
		}
	}
	for (i = 0; i < n; i++)
		item_free(batch[i]);
	return ok;
}

static void *writer_main(void *arg)
{
	struct relay_dir *d = arg;
	struct relay_item *it;

	while ((it = queue_pop(d))) {
		if (it->kind == ITEM_ACTION) {
			relay_action_run(d, &it->action);
			item_free(it);
			continue;
		}
		if (it->kind == ITEM_END) {
			/* The end of the stream is passed on; the other direction goes on. */
			item_free(it);
			shutdown(d->to, SHUT_WR);
			shutdown(d->from, SHUT_RD);
			break;
		}
		if (!write_due(d, it))
			break;
	}
	/* Nobody drains the queue any more: the reader must not wait for room in it. */
	pthread_mutex_lock(&d->lock);
	d->writer_done = true;
	while ((it = d->head)) {
		d->head = it->next;
		item_free(it);
	}
	d->tail = NULL;
	d->queued = 0;
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
	thread_done(d->link);
	return NULL;
}

static int dir_init(struct relay_dir *d, struct relay_link *l, unsigned int index)
{
	pthread_condattr_t attr;
	int ret;

	*d = (struct relay_dir){ .link = l, .index = index, .from = l->fds[index],
				 .to = l->fds[!index] };
	ret = frame_tracker_init(&d->tracker);
	if (ret)
		return ret;
	/* Release times are monotonic: so are the waits for them. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->changed, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&d->lock, NULL);
	return 0;
}

int relay_link_start(struct relay_link *l)
{
	void *(*const mains[4])(void *) = { reader_main, writer_main, reader_main, writer_main };
	unsigned int i;
	int ret;

	for (i = 0; i < 2; i++) {
		ret = dir_init(&l->dir[i], l, i);
		if (ret)
			return ret;
	}
	atomic_store(&l->threads_left, 4);
	for (i = 0; i < 4; i++) {
		pthread_t *t = i % 2 ? &l->dir[i / 2].writer : &l->dir[i / 2].reader;

		if (pthread_create(t, NULL, mains[i], &l->dir[i / 2])) {
			/* The threads already running end on the cut; the missing ones count as done. */
			pr_err("connection %u: cannot start its threads", l->id);
			pthread_mutex_lock(&l->relay->lock);
			relay_link_cut(l);
			pthread_mutex_unlock(&l->relay->lock);
			for (; i < 4; i++)
				thread_done(l);
			return -EAGAIN;
		}
		l->started |= 1u << i;
	}
	return 0;
}

void relay_link_join(struct relay_link *l)
{
	struct relay_item *it;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		if (l->started & (1u << (2 * i)))
			pthread_join(l->dir[i].reader, NULL);
		if (l->started & (1u << (2 * i + 1)))
			pthread_join(l->dir[i].writer, NULL);
		while ((it = relay_reorder_take(&l->dir[i])))
			item_free(it);
		frame_tracker_free(&l->dir[i].tracker);
		pthread_mutex_destroy(&l->dir[i].lock);
		pthread_cond_destroy(&l->dir[i].changed);
	}
}
