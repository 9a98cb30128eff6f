// SPDX-License-Identifier: GPL-2.0-only
/*
 * The listener thread: one io_uring drives the userfaultfd, the demand socket and the control
 * eventfd. Each turn serves new faults (requests go out first), then demand answers. The push
 * socket is read and installed by the push receiver's thread (push_rx.c), so neither a fault
 * nor a demanded page ever waits behind the push. On a session of one connection (protocol
 * v5, push_fd -1) the pushed pages and PushDone come on the demand socket, and are the
 * listener's to install: the configuration two connections exist to avoid, kept for paths
 * that allow one. Lower layers return errors; the listener
 * alone makes one the pager's failure (listener_fail.c).
 */
#include "listener.h"
#include "listener_internal.h"
#include "clock.h"
#include "cpu.h"
#include "net.h"
#include "uffd.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum cqe_tag {
	TAG_UFFD = 1,
	TAG_CTL,
	TAG_RX,
	TAG_TX,
};

#define TX_QUEUE_BYTES (64u * 1024u)
/* Demand answers (and, on one connection, the push): frames of up to 2 MiB. */
#define RX_BUFFER_BYTES (1u * 1024u * 1024u)

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
	p->listener = l;
	requests_init(&l->requests);
	l->faults.requests = &l->requests;
	l->conn = CONN_UP;
	l->last_rx_ns = clock_now_ns();
	wire_arena_init(&l->arena);
	region_table_wire_layout(&p->regions, &l->layout);
	ret = tx_queue_init(&l->tx, TX_QUEUE_BYTES);
	if (!ret)
		ret = rx_buffer_init(&l->rx, RX_BUFFER_BYTES);
	if (!ret)
		ret = push_rx_init(&l->push, p);
	if (ret)
		goto err;
	for (i = 0; i < CH_COUNT; i++) {
		if (channel_fd(l, i) < 0)
			continue; /* one connection carries both channels */
		ret = net_tune(channel_fd(l, i), p->opts.dead_peer_ms);
		if (ret)
			logger_warn(&p->log, "pager: tuning the %s socket: %s", channel_name(i),
				    strerror(-ret));
	}
	return 0;
err:
	listener_destroy(p);
	return ret;
}

void listener_destroy(struct pager *p)
{
	struct listener *l = p->listener;

	if (!l)
		return;
	p->listener = NULL;
	push_rx_free(&l->push);
	rx_buffer_free(&l->rx);
	tx_queue_free(&l->tx);
	requests_free(&l->requests);
	free(l);
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

/* Multishot: one arm serves every readiness until the kernel drops it (no F_MORE). */
static void arm_poll(struct listener *l, int fd, enum cqe_tag tag)
{
	struct io_uring_sqe *sqe = get_sqe(l);

	io_uring_prep_poll_multishot(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, tag);
}

static void arm_rx(struct listener *l)
{
	struct rx_buffer *rb = &l->rx;
	struct io_uring_sqe *sqe;

	if (l->rx_armed || l->rx_eof)
		return;
	rx_buffer_compact(rb);
	if (rx_buffer_space(rb) < RX_MAX_FRAME)
		return; /* the backlog is consumed first; re-armed after */
	sqe = get_sqe(l);
	/* The rest of a large answer (a 2 MiB page) at once: one completion, not one a segment. */
	if (rb->frame_missing >= RX_WAITALL_MIN)
		io_uring_prep_recv(sqe, l->p->demand_fd, rx_buffer_space_ptr(rb), rb->frame_missing,
				   MSG_WAITALL);
	else
		io_uring_prep_recv(sqe, l->p->demand_fd, rx_buffer_space_ptr(rb),
				   rx_buffer_space(rb), 0);
	io_uring_sqe_set_data64(sqe, TAG_RX);
	l->rx_armed = true;
}

static void send_tx(struct listener *l, const uint8_t *buf, size_t len)
{
	struct io_uring_sqe *sqe = get_sqe(l);

	io_uring_prep_send(sqe, l->p->demand_fd, buf, len, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, TAG_TX);
}

static void flush_tx(struct listener *l)
{
	const uint8_t *buf;
	size_t len;

	if (tx_queue_start(&l->tx, &buf, &len))
		send_tx(l, buf, len);
}

static void on_tx(struct listener *l, int res)
{
	const uint8_t *buf;
	size_t len;

	if (res < 0 || l->conn != CONN_UP) {
		l->tx.busy = false;
		if (res < 0)
			listener_lose(l, "sending requests on the demand connection: %s",
				      strerror(-res));
		return;
	}
	if (tx_queue_sent(&l->tx, (size_t)res, &buf, &len))
		send_tx(l, buf, len);
}

static void on_rx(struct listener *l, int res)
{
	l->rx_armed = false;
	if (l->conn != CONN_UP)
		return; /* the last receive of a lost connection: its bytes go with it */
	if (res > 0) {
		rx_buffer_commit(&l->rx, (size_t)res);
		l->last_rx_ns = clock_now_ns();
		return;
	}
	l->rx_eof = true;
	if (res == 0)
		return; /* judged by check_eof() once the frames before it are taken */
	if (l->complete_sent)
		return;
	listener_lose(l, "demand connection to the source: %s", strerror(-res));
}

static void check_complete(struct listener *l)
{
	struct pager *p = l->p;
	Wire__Complete msg = WIRE__COMPLETE__INIT;
	uint32_t i;

	/* In this order: the push receiver's last frame is counted once it is not installing. */
	if (l->complete_sent || l->failed || l->conn != CONN_UP ||
	    region_table_missing(&p->regions) || push_rx_installing(&l->push))
		return;
	if (!l->all_present) {
		/* Every page is present: nothing can fault any more, so registration can go. */
		for (i = 0; i < p->regions.n; i++) {
			struct region *r = &p->regions.r[i];

			if (uffd_unregister(p->uffd, r->base, r->size))
				logger_warn(&p->log, "pager: UFFDIO_UNREGISTER of region %u: %s", i,
					    strerror(errno));
			else
				r->registered = false;
		}
		l->all_present = true;
		run_state_complete(p);
	}
	/* A full send queue only delays the message to a later turn. */
	msg.pages_received = p->regions.pages_total;
	/* The owner's digest of what was installed: the source confirms it before it ends. */
	if (p->opts.completion_digest)
		msg.has_digest = p->opts.completion_digest(p->opts.completion_digest_opaque,
							   &msg.memory_digest);
	if (!tx_queue_frame(&l->tx, WIRE_COMPLETE, &msg.base)) {
		l->complete_sent = true;
		l->complete_sent_ns = clock_now_ns();
	}
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
			arm_poll(l, l->p->uffd, TAG_UFFD);
		break;
	case TAG_CTL: {
		uint64_t count;

		if (read(l->p->ctl_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			logger_warn(&l->p->log, "pager: reading the control eventfd: %s",
				    strerror(errno));
		l->stop = __atomic_load_n(&l->p->stop_requested, __ATOMIC_ACQUIRE);
		/* pager_release_push() signals here: the push receiver looks again. */
		push_rx_kick(&l->push);
		listener_adopt(l);
		if (!(cqe->flags & IORING_CQE_F_MORE))
			arm_poll(l, l->p->ctl_fd, TAG_CTL);
		break;
	}
	case TAG_RX:
		on_rx(l, cqe->res);
		break;
	case TAG_TX:
		on_tx(l, cqe->res);
		break;
	}
}

/* Fault path, first step: every pending uffd event. False: the pager failed. */
static bool read_faults(struct listener *l)
{
	char err[256];
	int ret;

	ret = fault_read_all(l->p, &l->faults, &l->tx, err, sizeof(err));
	if (ret)
		listener_fail(l, ret, "%s", err);
	return !ret;
}

/* Requests out, then demand answers, then what the push receiver reported. */
static void serve_channels(struct listener *l)
{
	flush_tx(l);
	listener_process_rx(l);
	listener_check_eof(l);
	listener_push_events(l);
	check_complete(l);
}

/*
 * Stopped right after completion, the Complete frame may still sit in the send queue: the
 * owner's pager_wait() returns as soon as the last page is in. Send it, within a bound, so
 * that the source ends cleanly rather than seeing the connection close first.
 */
static void drain_complete(struct listener *l)
{
	struct __kernel_timespec wait = { .tv_nsec = 100 * 1000000L };
	uint64_t deadline = clock_now_ns() + 1000000000ull;
	struct io_uring_cqe *cqe;
	unsigned int head, seen;
	bool uffd_ready;

	while (l->complete_sent && !l->failed && (l->tx.busy || l->tx.fill_len) &&
	       clock_now_ns() < deadline) {
		flush_tx(l);
		io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, &wait, NULL);
		seen = 0;
		io_uring_for_each_cqe(&l->ring, head, cqe) {
			dispatch_cqe(l, cqe, &uffd_ready);
			seen++;
		}
		io_uring_cq_advance(&l->ring, seen);
	}
}

/*
 * Submits, and waits for a completion, at most until the next timer (a request's timeout, the
 * silent-peer or the reconnect deadline).
 */
static int submit_and_wait(struct listener *l, uint64_t next)
{
	uint64_t now = clock_now_ns();
	struct __kernel_timespec wait;
	struct io_uring_cqe *cqe;
	int ret;

	if (!next)
		return io_uring_submit_and_wait(&l->ring, 1);
	next = next > now ? next - now : 1;
	wait = (struct __kernel_timespec){ .tv_sec = (long long)(next / 1000000000ull),
					   .tv_nsec = (long long)(next % 1000000000ull) };
	ret = io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, &wait, NULL);
	return ret == -ETIME ? 0 : ret;
}

/* The ring, its standing polls and the push receiver; a failure fails the pager. */
static void listener_setup(struct listener *l)
{
	struct pager *p = l->p;
	int ret;

	ret = setup_ring(l);
	if (ret) {
		listener_fail(l, ret, "io_uring setup: %s", strerror(-ret));
		return;
	}
	arm_poll(l, p->uffd, TAG_UFFD);
	arm_poll(l, p->ctl_fd, TAG_CTL);
	ret = push_rx_start(&l->push, p->push_fd);
	if (ret)
		listener_fail(l, ret, "starting the push receiver: %s", strerror(-ret));
}

void *listener_main(void *arg)
{
	struct pager *p = arg;
	struct listener *l = p->listener;
	struct io_uring_cqe *cqe;
	unsigned int head, seen;
	int ret;

	/* Above the vCPUs it serves (pager_options.listener_nice). */
	ret = cpu_nice_self(p->opts.listener_nice);
	if (ret)
		logger_info(&p->log, "pager: listener keeps its priority (nice %d: %s)",
			   p->opts.listener_nice, strerror(-ret));
	listener_setup(l);
	/* Everything may be present already (pre-copy): nothing else would say so. */
	check_complete(l);
	while (!l->stop && l->ring_ready) {
		bool uffd_ready = false;
		uint64_t next;

		/* A lost connection whose last operations are reaped is closed before any wait. */
		listener_finish_lose(l);
		/* Timers first: a request they send again goes out with this turn's flush. */
		next = listener_timers(l, clock_now_ns());

		if (l->conn == CONN_UP) {
			if (!l->failed)
				arm_rx(l);
			/* After a failure too: the Error message to the source is queued there. */
			flush_tx(l);
		}
		ret = submit_and_wait(l, next);
		if (ret < 0 && ret != -EINTR && ret != -EBUSY) {
			listener_fail(l, ret, "io_uring_enter: %s", strerror(-ret));
			break;
		}
		seen = 0;
		io_uring_for_each_cqe(&l->ring, head, cqe) {
			dispatch_cqe(l, cqe, &uffd_ready);
			seen++;
		}
		io_uring_cq_advance(&l->ring, seen);
		if (l->failed)
			continue; /* faults stay blocked; wait for the owner to stop us */
		if (uffd_ready && !read_faults(l))
			continue;
		if (l->conn == CONN_UP)
			serve_channels(l);
		if (l->complete_acked || (l->complete_sent && l->rx_eof))
			break;
	}
	/* Before the sockets can close: the receiver may be reading the push socket. */
	push_rx_stop(&l->push);
	if (l->ring_ready) {
		drain_complete(l);
		io_uring_queue_exit(&l->ring);
	}
	return NULL;
}
