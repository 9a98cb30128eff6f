// SPDX-License-Identifier: GPL-2.0-only
/*
 * The listener's connection to the source, and what survives it. A lost connection is not a
 * failure: the page states, the waiters and the outstanding requests stay; the sockets are
 * shut down, their last operations reaped, then closed, and the pager waits (DISCONNECTED) for
 * pager_resume() to hand over new ones. Then every outstanding request goes out again. Only
 * a deadline with no new connection fails the pager, naming the lost one.
 */
#include "listener_internal.h"
#include "clock.h"
#include "net.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MS (1000000ull)

void listener_lose(struct listener *l, const char *fmt, ...)
{
	struct pager *p = l->p;
	va_list ap;

	if (l->failed || l->conn != CONN_UP)
		return;
	va_start(ap, fmt);
	vsnprintf(l->lost_reason, sizeof(l->lost_reason), fmt, ap);
	va_end(ap);
	if (!p->opts.reconnect_timeout_ms) {
		listener_fail(l, -ECONNRESET, "%s", l->lost_reason);
		return;
	}
	logger_warn(&p->log, "pager: connection to the source lost (%s); waiting up to %u ms for "
		    "it to come back", l->lost_reason, p->opts.reconnect_timeout_ms);
	/*
	 * Ends the receives and the send under way, the push receiver's too; their completions
	 * are reaped (the receiver stops) before close.
	 */
	push_rx_abort(&l->push);
	shutdown(p->demand_fd, SHUT_RDWR);
	if (p->push_fd >= 0)
		shutdown(p->push_fd, SHUT_RDWR);
	l->conn = CONN_LOST;
}

void listener_lose_damaged(struct listener *l, const char *fmt, ...)
{
	Wire__Error msg = WIRE__ERROR__INIT;
	const uint8_t *buf;
	char text[384];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/*
	 * Best effort, at once: the socket is about to be shut down, and with no send under way
	 * nothing can interleave with these bytes.
	 */
	msg.code = WIRE__ERROR_CODE__ERROR_STREAM;
	msg.text = text;
	if (l->conn == CONN_UP && !l->tx.busy && !tx_queue_frame(&l->tx, WIRE_ERROR, &msg.base) &&
	    tx_queue_start(&l->tx, &buf, &len)) {
		if (send(l->p->demand_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			logger_warn(&l->p->log, "pager: cannot tell the source its stream is damaged: %s",
				    strerror(errno));
		l->tx.busy = false;
	}
	listener_lose(l, "%s", text);
}

void listener_finish_lose(struct listener *l)
{
	struct pager *p = l->p;

	if (l->conn != CONN_LOST || l->rx_armed || l->tx.busy || !push_rx_release_socket(&l->push))
		return;
	close(p->demand_fd);
	if (p->push_fd >= 0)
		close(p->push_fd);
	p->demand_fd = p->push_fd = -1;
	rx_buffer_reset(&l->rx);
	l->rx_eof = false;
	tx_queue_reset(&l->tx);
	/* The source pushes again from what is missing after a resume, and says when done. */
	l->push_done = false;
	l->conn = CONN_DOWN;
	run_state_disconnect(p, l->lost_reason);
}

void listener_adopt(struct listener *l)
{
	struct pager *p = l->p;
	uint64_t now = clock_now_ns();
	int fds[2], ret;
	size_t i;

	pthread_mutex_lock(&p->lock);
	if (!p->resume_pending || l->conn != CONN_DOWN) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	fds[0] = p->resume_fds[0];
	fds[1] = p->resume_fds[1];
	p->resume_pending = false;
	p->counters.pages_rerequested += l->requests.n;
	pthread_mutex_unlock(&p->lock);
	p->demand_fd = fds[0];
	p->push_fd = fds[1];
	for (i = 0; i < CH_COUNT; i++) {
		if (i == CH_PUSH && p->push_fd < 0)
			continue; /* one connection for both channels (a resume may change that) */
		ret = net_tune(i == CH_DEMAND ? p->demand_fd : p->push_fd, p->opts.dead_peer_ms);
		if (ret)
			logger_warn(&p->log, "pager: tuning the %s socket: %s", channel_name(i),
				    strerror(-ret));
	}
	l->conn = CONN_UP;
	l->last_rx_ns = now;
	push_rx_attach(&l->push, p->push_fd);
	/* Frames queued while down were for no connection: the table says what to send. */
	tx_queue_reset(&l->tx);
	/* Whatever was asked on the lost connection is asked again, under the same ids. */
	for (i = 0; i < l->requests.n; i++)
		l->requests.v[i].sent_ns = 0;
	run_state_reconnect(p);
	logger_warn(&p->log, "pager: resumed on new connections, %zu requests sent again",
		    l->requests.n);
}

static bool range_present(struct pager *p, uint32_t region, uint64_t first, uint64_t count)
{
	uint64_t run_first;

	return !page_state_next_missing_run(&p->regions.r[region].pages, first, count, &run_first);
}

void listener_request_missing(struct listener *l, uint32_t region, uint64_t first,
			      uint64_t count)
{
	struct pager *p = l->p;
	struct page_state *ps = &p->regions.r[region].pages;
	uint64_t page, end = first + count, run, added = 0;
	struct region *r = &p->regions.r[region];
	struct request *rq;

	/* A hugetlb region: each 2 MiB page missing, one request (its first page stands for it). */
	for (page = region_unit_first(r, first); region_is_hugetlb(r) && page < end;
	     page += r->unit_pages) {
		if (page_state_get(ps, page) != PAGE_ABSENT)
			continue;
		rq = requests_add(&l->requests, region, page, r->unit_pages);
		if (!rq) {
			listener_fail(l, -ENOMEM, "no memory for page requests");
			return;
		}
		page_state_request(ps, page);
		added += r->unit_pages;
	}
	for (page = region_is_hugetlb(r) ? end : first; page < end; page += run ? run : 1) {
		run = 0;
		while (page + run < end && run < WIRE_MAX_REQUEST_PAGES &&
		       page_state_get(ps, page + run) == PAGE_ABSENT)
			run++;
		if (!run)
			continue;
		rq = requests_add(&l->requests, region, page, (uint32_t)run);
		if (!rq) {
			listener_fail(l, -ENOMEM, "no memory for page requests");
			return;
		}
		for (uint64_t i = 0; i < run; i++)
			page_state_request(ps, page + i);
		added += run;
	}
	if (!added)
		return;
	pthread_mutex_lock(&p->lock);
	p->counters.pages_rerequested += added;
	pthread_mutex_unlock(&p->lock);
}

/* Unsent requests go out; unanswered ones again, unless their pages came another way. */
static uint64_t request_timers(struct listener *l, uint64_t now)
{
	uint64_t timeout = (uint64_t)l->p->opts.request_timeout_ms * MS, next = 0, resent = 0;
	struct pager *p = l->p;
	size_t i = 0;

	while (i < l->requests.n) {
		struct request *rq = &l->requests.v[i];

		if (rq->sent_ns && now - rq->sent_ns < timeout) {
			if (!next || rq->sent_ns + timeout < next)
				next = rq->sent_ns + timeout;
			i++;
			continue;
		}
		if (range_present(p, rq->region, rq->first_page, rq->count)) {
			requests_remove(&l->requests, rq);
			continue;
		}
		resent += rq->sent_ns != 0;
		if (!requests_send(rq, &l->tx, p->regions.page_size, now))
			break; /* the send queue is full: the rest next turn */
		if (!next || rq->sent_ns + timeout < next)
			next = rq->sent_ns + timeout;
		i++;
	}
	if (resent) {
		pthread_mutex_lock(&p->lock);
		p->counters.pages_rerequested += resent;
		pthread_mutex_unlock(&p->lock);
	}
	return i < l->requests.n ? now + MS : next;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

uint64_t listener_timers(struct listener *l, uint64_t now)
{
	struct pager *p = l->p;
	uint64_t next = 0, silence, deadline;
	bool expecting;

	if (l->failed || l->complete_acked)
		return 0;
	if (l->complete_sent) {
		/*
		 * Every page is here; the source must hear it. With no acknowledgement in the
		 * silence bound, the connection is taken as lost: the source redials, and the
		 * resumed session tells it (pager_resume() on a complete pager).
		 */
		deadline = l->complete_sent_ns + (uint64_t)p->opts.silence_timeout_ms * MS;
		if (l->conn != CONN_UP || !p->opts.silence_timeout_ms || l->rx_eof)
			return 0;
		if (now >= deadline) {
			listener_lose(l, "the source did not acknowledge the completion within %u ms",
				      p->opts.silence_timeout_ms);
			return 0;
		}
		return deadline;
	}
	if (l->conn == CONN_DOWN) {
		deadline = p->run.disconnect_ns + (uint64_t)p->opts.reconnect_timeout_ms * MS;
		if (now >= deadline) {
			listener_fail(l, -ENOTCONN,
				      "the source did not come back within %u ms after the connection "
				      "was lost (%s)", p->opts.reconnect_timeout_ms, l->lost_reason);
			return 0;
		}
		return deadline;
	}
	if (l->conn != CONN_UP)
		return 0;
	next = request_timers(l, now);
	/* Waiting for answers or for the push, and nothing at all comes: the path is dead. */
	expecting = l->requests.n ||
		    (!l->push_done && __atomic_load_n(&p->push_released, __ATOMIC_ACQUIRE));
	if (expecting && p->opts.silence_timeout_ms) {
		uint64_t last = push_rx_last_rx(&l->push);

		silence = (last > l->last_rx_ns ? last : l->last_rx_ns) +
			  (uint64_t)p->opts.silence_timeout_ms * MS;
		if (now >= silence) {
			listener_lose(l, "nothing received from the source for %u ms",
				      p->opts.silence_timeout_ms);
			return 0;
		}
		next = earliest(next, silence);
	}
	return next;
}
