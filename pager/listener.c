// SPDX-License-Identifier: GPL-2.0-only
/*
 * The listener thread: one io_uring drives the userfaultfd, both sockets and the stop eventfd.
 * Each turn serves, in priority order: new faults (requests go out first), demand answers,
 * then a bounded slice of the push stream, so a demanded page never waits behind the push.
 */
#include "listener.h"
#include "log.h"
#include "net.h"
#include "uffd.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum cqe_tag {
	TAG_UFFD = 1,
	TAG_CTL,
	TAG_RX_DEMAND,
	TAG_RX_PUSH,
	TAG_TX,
};

/* Pages of pushed data installed per turn before faults and demand answers are looked at again. */
#define PUSH_PAGES_PER_TURN 128u
#define TX_QUEUE_BYTES (64u * 1024u)
#define RX_BUFFER_BYTES (4u * 1024u * 1024u)

static const char *const channel_names[CH_COUNT] = { "demand", "push" };

static int channel_fd(const struct listener *l, enum channel_index ch)
{
	return ch == CH_DEMAND ? l->p->demand_fd : l->p->push_fd;
}

int listener_create(struct pager *p)
{
	struct listener *l;
	uint32_t i;
	int ret;

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->p = p;
	wire_arena_init(&l->arena);
	l->layout.n_regions = p->n_regions;
	for (i = 0; i < p->n_regions; i++)
		l->layout.regions[i] = (struct wire_region){
			.id = i,
			.gpa = 0,
			.size = p->regions[i].size,
			.backing = WIRE_BACKING_ANON,
		};
	l->tx.cap = TX_QUEUE_BYTES;
	l->tx.fill = malloc(l->tx.cap);
	l->tx.flight = malloc(l->tx.cap);
	if (!l->tx.fill || !l->tx.flight) {
		ret = -ENOMEM;
		goto err;
	}
	for (i = 0; i < CH_COUNT; i++) {
		ret = rx_buffer_init(&l->rx[i], RX_BUFFER_BYTES);
		if (ret)
			goto err;
		ret = net_tune(channel_fd(l, i), p->opts.dead_peer_ms);
		if (ret)
			pr_warn("pager: tuning the %s socket: %s", channel_names[i], strerror(-ret));
	}
	pthread_mutex_lock(&p->lock);
	p->listener = l;
	pthread_mutex_unlock(&p->lock);
	return 0;
err:
	p->listener = l;
	listener_destroy(p);
	return ret;
}

void listener_destroy(struct pager *p)
{
	struct listener *l = p->listener;
	int i;

	if (!l)
		return;
	pthread_mutex_lock(&p->lock);
	p->listener = NULL;
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < CH_COUNT; i++)
		rx_buffer_free(&l->rx[i]);
	free(l->tx.fill);
	free(l->tx.flight);
	free(l->waiters);
	free(l);
}

int listener_queue_frame(struct listener *l, enum wire_type type, const ProtobufCMessage *msg)
{
	struct tx_queue *tx = &l->tx;
	ssize_t n = wire_encode(type, msg, tx->fill + tx->fill_len, tx->cap - tx->fill_len);

	if (n < 0)
		return (int)n;
	tx->fill_len += (size_t)n;
	return 0;
}

void listener_protocol_error(struct listener *l, int err, Wire__ErrorCode code, const char *fmt, ...)
{
	char text[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	Wire__Error msg = WIRE__ERROR__INIT;

	/* Tell the source why we stop, best effort, behind whatever frame is in flight. */
	msg.code = code;
	msg.text = text;
	if (listener_queue_frame(l, WIRE_ERROR, &msg.base))
		pr_warn("pager: no room to tell the source about the error");
	pager_fail(l->p, err, "protocol error from the source: %s", text);
	l->failed = true;
}

static struct io_uring_sqe *get_sqe(struct listener *l)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&l->ring);

	if (!sqe) {
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	return sqe;
}

static void arm_poll(struct listener *l, int fd, enum cqe_tag tag, bool multishot)
{
	struct io_uring_sqe *sqe = get_sqe(l);

	if (multishot)
		io_uring_prep_poll_multishot(sqe, fd, POLLIN);
	else
		io_uring_prep_poll_add(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, tag);
}

static void arm_rx(struct listener *l, enum channel_index ch)
{
	struct rx_buffer *rb = &l->rx[ch];
	struct io_uring_sqe *sqe;

	if (l->rx_armed[ch] || l->rx_eof[ch])
		return;
	if (ch == CH_PUSH && !__atomic_load_n(&l->p->push_released, __ATOMIC_ACQUIRE))
		return; /* held: the source's push waits in the socket, demand has the listener */
	rx_buffer_compact(rb);
	if (rx_buffer_space(rb) < RX_MAX_FRAME)
		return; /* the backlog is consumed first; re-armed after */
	sqe = get_sqe(l);
	io_uring_prep_recv(sqe, channel_fd(l, ch), rx_buffer_space_ptr(rb), rx_buffer_space(rb), 0);
	io_uring_sqe_set_data64(sqe, ch == CH_DEMAND ? TAG_RX_DEMAND : TAG_RX_PUSH);
	l->rx_armed[ch] = true;
}

static void flush_tx(struct listener *l)
{
	struct tx_queue *tx = &l->tx;
	struct io_uring_sqe *sqe;
	uint8_t *swap;

	if (tx->busy || !tx->fill_len)
		return;
	swap = tx->flight;
	tx->flight = tx->fill;
	tx->fill = swap;
	tx->flight_len = tx->fill_len;
	tx->flight_done = 0;
	tx->fill_len = 0;
	sqe = get_sqe(l);
	io_uring_prep_send(sqe, l->p->demand_fd, tx->flight, tx->flight_len, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, TAG_TX);
	tx->busy = true;
}

static void on_tx(struct listener *l, int res)
{
	struct tx_queue *tx = &l->tx;
	struct io_uring_sqe *sqe;

	if (res < 0) {
		pager_fail(l->p, res, "sending requests on the demand connection: %s", strerror(-res));
		l->failed = true;
		return;
	}
	tx->flight_done += (size_t)res;
	if (tx->flight_done < tx->flight_len) {
		sqe = get_sqe(l);
		io_uring_prep_send(sqe, l->p->demand_fd, tx->flight + tx->flight_done,
				   tx->flight_len - tx->flight_done, MSG_NOSIGNAL);
		io_uring_sqe_set_data64(sqe, TAG_TX);
		return;
	}
	tx->busy = false;
}

static void on_rx(struct listener *l, enum channel_index ch, int res)
{
	l->rx_armed[ch] = false;
	if (res > 0) {
		rx_buffer_commit(&l->rx[ch], (size_t)res);
		return;
	}
	l->rx_eof[ch] = true;
	if (res == 0)
		return; /* judged by check_eof() once the frames before it are taken */
	if (l->complete_sent || (ch == CH_PUSH && l->push_done))
		return;
	pager_fail(l->p, res, "%s connection to the source: %s", channel_names[ch], strerror(-res));
	l->failed = true;
}

/* A close is the normal end after completion, or of the push after PushDone. */
static void check_eof(struct listener *l, enum channel_index ch, bool frames_left)
{
	if (!l->rx_eof[ch] || frames_left || l->failed || l->complete_sent ||
	    (ch == CH_PUSH && l->push_done))
		return;
	pager_fail(l->p, -ECONNRESET, "the source closed the %s connection", channel_names[ch]);
	l->failed = true;
}

static void handle_error_msg(struct listener *l, const Wire__Error *e)
{
	pager_fail(l->p, -EREMOTEIO, "the source reported error %d: %s", e->code,
		   e->text ? e->text : "");
	l->failed = true;
}

/*
 * Takes whole frames off one channel; at most `budget` pages installed (0: no limit).
 * Returns true when the budget stopped it with frames possibly left (more work, no waiting).
 */
static bool process_rx(struct listener *l, enum channel_index ch, uint64_t budget)
{
	uint64_t pages = 0;
	struct rx_frame frame;
	char err[256];
	int ret;

	while (!l->failed) {
		if (budget && pages >= budget)
			return true;
		ret = rx_buffer_next(&l->rx[ch], &l->arena, &frame, err, sizeof(err));
		if (ret == 0)
			return false;
		if (ret < 0) {
			listener_protocol_error(l, ret, WIRE__ERROR_CODE__ERROR_PROTOCOL,
						"%s channel: %s", channel_names[ch], err);
			return false;
		}
		switch (frame.type) {
		case WIRE_PAGE: {
			const Wire__PageHeader *hdr = (const Wire__PageHeader *)frame.msg;

			if (ch == CH_PUSH && (hdr->flags & WIRE_PAGE_FLAG_DEMAND)) {
				listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
							"demand answer on the push channel");
				return false;
			}
			if (!(hdr->flags & WIRE_PAGE_FLAG_ZERO) && frame.payload_len != hdr->length) {
				listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
							"page payload %u bytes, header says %u",
							frame.payload_len, hdr->length);
				return false;
			}
			if (install_pages(l, hdr, frame.payload)) {
				l->failed = true;
				return false;
			}
			pages += hdr->length / l->p->page_size;
			break;
		}
		case WIRE_PUSH_DONE:
			if (ch != CH_PUSH) {
				listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
							"push-done on the demand channel");
				return false;
			}
			l->push_done = true;
			break;
		case WIRE_COMPLETE:
			if (ch != CH_DEMAND || !l->complete_sent) {
				listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
							"unexpected complete message");
				return false;
			}
			l->complete_acked = true;
			break;
		case WIRE_ERROR:
			handle_error_msg(l, (const Wire__Error *)frame.msg);
			return false;
		default:
			listener_protocol_error(l, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
						"unexpected %s message on the %s channel",
						wire_type_name(frame.type), channel_names[ch]);
			return false;
		}
		rx_buffer_consume(&l->rx[ch], &frame);
	}
	return false;
}

static void check_complete(struct listener *l)
{
	struct pager *p = l->p;
	Wire__Complete msg = WIRE__COMPLETE__INIT;
	uint32_t i;

	if (l->complete_sent || l->failed || pager_pages_missing_now(p))
		return;
	if (!l->all_present) {
		/* Every page is present: nothing can fault any more, so registration can go. */
		for (i = 0; i < p->n_regions; i++) {
			if (uffd_unregister(p->uffd, p->regions[i].base, p->regions[i].size))
				pr_warn("pager: UFFDIO_UNREGISTER of region %u: %s", i, strerror(errno));
			else
				p->regions[i].registered = false;
		}
		l->all_present = true;
		pager_set_complete(p);
	}
	/* A full send queue only delays the message to a later turn. */
	msg.pages_received = p->pages_total;
	if (!listener_queue_frame(l, WIRE_COMPLETE, &msg.base))
		l->complete_sent = true;
}

static int setup_ring(struct listener *l)
{
	struct io_uring_params params = {
		/* Completions are reaped by this thread only: no interrupting task work. */
		.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN,
	};
	int ret;

	ret = io_uring_queue_init_params(64, &l->ring, &params);
	if (ret == -EINVAL)
		ret = io_uring_queue_init(64, &l->ring, 0);
	if (ret)
		return ret;
	l->ring_ready = true;
	return 0;
}

static void dispatch_cqe(struct listener *l, const struct io_uring_cqe *cqe, bool *uffd_ready)
{
	switch (io_uring_cqe_get_data64(cqe)) {
	case TAG_UFFD:
		*uffd_ready = true;
		if (!(cqe->flags & IORING_CQE_F_MORE))
			arm_poll(l, l->p->uffd, TAG_UFFD, true);
		break;
	case TAG_CTL: {
		uint64_t count;

		if (read(l->p->ctl_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			pr_warn("pager: reading the control eventfd: %s", strerror(errno));
		l->stop = __atomic_load_n(&l->p->stop_requested, __ATOMIC_ACQUIRE);
		if (!(cqe->flags & IORING_CQE_F_MORE))
			arm_poll(l, l->p->ctl_fd, TAG_CTL, true);
		break;
	}
	case TAG_RX_DEMAND:
		on_rx(l, CH_DEMAND, cqe->res);
		break;
	case TAG_RX_PUSH:
		on_rx(l, CH_PUSH, cqe->res);
		break;
	case TAG_TX:
		on_tx(l, cqe->res);
		break;
	}
}

void *listener_main(void *arg)
{
	struct pager *p = arg;
	struct listener *l = p->listener;
	struct io_uring_cqe *cqe;
	unsigned int head, seen;
	bool backlog = false;
	int ret;

	ret = setup_ring(l);
	if (ret) {
		pager_fail(p, ret, "io_uring setup: %s", strerror(-ret));
		l->failed = true;
	} else {
		arm_poll(l, p->uffd, TAG_UFFD, true);
		arm_poll(l, p->ctl_fd, TAG_CTL, true);
	}
	/* Everything may be present already (pre-copy): nothing else would say so. */
	check_complete(l);
	while (!l->stop && l->ring_ready) {
		bool uffd_ready = false;

		if (!l->failed) {
			arm_rx(l, CH_DEMAND);
			arm_rx(l, CH_PUSH);
		}
		/* After a failure too: the Error message to the source is queued there. */
		flush_tx(l);
		/* Push frames left by the budget are work without waiting: only peek. */
		ret = backlog ? io_uring_submit(&l->ring) : io_uring_submit_and_wait(&l->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EBUSY) {
			pager_fail(p, ret, "io_uring_enter: %s", strerror(-ret));
			break;
		}
		seen = 0;
		io_uring_for_each_cqe(&l->ring, head, cqe) {
			dispatch_cqe(l, cqe, &uffd_ready);
			seen++;
		}
		io_uring_cq_advance(&l->ring, seen);
		if (l->failed) {
			backlog = false;
			continue; /* faults stay blocked; wait for the owner to stop us */
		}
		if ((uffd_ready || backlog) && fault_read_all(l)) {
			l->failed = true;
			continue;
		}
		flush_tx(l);
		check_eof(l, CH_DEMAND, process_rx(l, CH_DEMAND, 0));
		backlog = process_rx(l, CH_PUSH, PUSH_PAGES_PER_TURN);
		check_eof(l, CH_PUSH, backlog);
		check_complete(l);
		if (l->complete_acked || (l->complete_sent && l->rx_eof[CH_DEMAND]))
			break;
	}
	if (l->ring_ready)
		io_uring_queue_exit(&l->ring);
	return NULL;
}
