// SPDX-License-Identifier: GPL-2.0-only
/*
 * One direction of a relayed connection: the queue between its reader (reader.c) and its
 * writer (writer.c), and the lifetime of a connection's four threads. The reader decides, the
 * writer acts, in stream order: each queued item carries its release time, and a
 * connection-level fault travels down the queue to the point of the stream it acts at.
 */
#include "relay_internal.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>

uint64_t relay_now(void)
{
	return clock_now_ns();
}

void relay_item_free(struct relay_item *it)
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
void relay_queue_push(struct relay_dir *d, struct relay_item *it)
{
	pthread_mutex_lock(&d->lock);
	while (d->queued > RELAY_QUEUE_MAX_BYTES && !d->closing && !d->writer_done)
		pthread_cond_wait(&d->changed, &d->lock);
	if (d->closing || d->writer_done) {
		pthread_mutex_unlock(&d->lock);
		relay_item_free(it);
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

/* Sleeps until t unless the direction closes first. False: closing. */
bool relay_wait_until(struct relay_dir *d, uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	pthread_mutex_lock(&d->lock);
	while (!d->closing && relay_now() < t)
		pthread_cond_timedwait(&d->changed, &d->lock, &ts);
	pthread_mutex_unlock(&d->lock);
	return !d->closing;
}

void relay_thread_done(struct relay_link *l)
{
	struct relay *r = l->relay;

	if (atomic_fetch_sub(&l->threads_left, 1) != 1)
		return;
	pthread_mutex_lock(&r->lock);
	r->links_active--;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

/* The lock and condition first: whatever fails after, relay_link_join() can undo it. */
static int dir_init(struct relay_dir *d, struct relay_link *l, unsigned int index)
{
	pthread_condattr_t attr;

	*d = (struct relay_dir){ .link = l, .index = index, .from = l->fds[index],
				 .to = l->fds[!index] };
	/* Release times are monotonic: so are the waits for them. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&d->changed, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&d->lock, NULL);
	return frame_tracker_init(&d->tracker);
}

int relay_link_start(struct relay_link *l)
{
	/* Thread i: the reader (even) or the writer (odd) of direction i / 2. */
	void *(*const mains[4])(void *) = {
		relay_reader_main, relay_writer_main, relay_reader_main, relay_writer_main,
	};
	unsigned int i;
	int r0, r1;

	r0 = dir_init(&l->dir[0], l, 0);
	r1 = dir_init(&l->dir[1], l, 1);
	if (r0 || r1)
		return r0 ? r0 : r1;
	atomic_store(&l->threads_left, 4);
	for (i = 0; i < 4; i++) {
		pthread_t *t = i % 2 ? &l->dir[i / 2].writer : &l->dir[i / 2].reader;

		if (pthread_create(t, NULL, mains[i], &l->dir[i / 2])) {
			/* Those running end on the cut; the missing ones count as done. */
			pr_err("connection %u: cannot start its threads", l->id);
			pthread_mutex_lock(&l->relay->lock);
			relay_link_cut(l);
			pthread_mutex_unlock(&l->relay->lock);
			for (; i < 4; i++)
				relay_thread_done(l);
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
			relay_item_free(it);
		frame_tracker_free(&l->dir[i].tracker);
		pthread_mutex_destroy(&l->dir[i].lock);
		pthread_cond_destroy(&l->dir[i].changed);
	}
}
