// SPDX-License-Identifier: GPL-2.0-only
/*
 * The writer of one direction: sends the queued frames in order, each not before its release
 * time, while no stall or blackhole holds the stream, at the throttled rate, several due
 * frames in one sendmsg; and carries out the connection-level faults (cut, stall, blackhole)
 * where they sit in the stream.
 */
#include "relay_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define BATCH_ITEMS 64u
#define BATCH_BYTES (1024u * 1024u)
#define THROTTLED_BATCH_BYTES (64u * 1024u)

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
	return relay_wait_until(d, start);
}

/* Writes one due batch. False when the direction is over (closing, or the peer is gone). */
static bool write_due(struct relay_dir *d, struct relay_item *first)
{
	struct relay_item *batch[BATCH_ITEMS] = { first };
	unsigned int n = 1, i;
	size_t bytes;
	bool ok;

	ok = relay_wait_until(d, first->release_ns) && relay_hold_wait(d);
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
		relay_item_free(batch[i]);
	return ok;
}

void *relay_writer_main(void *arg)
{
	struct relay_dir *d = arg;
	struct relay_item *it;

	while ((it = queue_pop(d))) {
		if (it->kind == ITEM_ACTION) {
			relay_action_run(d, &it->action);
			relay_item_free(it);
			continue;
		}
		if (it->kind == ITEM_END) {
			/* The end of the stream is passed on; the other direction goes on. */
			relay_item_free(it);
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
		relay_item_free(it);
	}
	d->tail = NULL;
	d->queued = 0;
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
	relay_thread_done(d->link);
	return NULL;
}
