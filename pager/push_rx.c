// SPDX-License-Identifier: GPL-2.0-only
/*
 * The push receiver thread (push_rx.h): blocking receives on the push socket into its own
 * buffer, each whole frame checked and installed, anything else reported to the listener.
 */
#include "push_rx.h"
#include "clock.h"
#include "cpu.h"
#include "install.h"
#include "page_frame.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define PUSH_RX_BUFFER_BYTES (8u * 1024u * 1024u)

int push_rx_init(struct push_rx *pr, struct pager *p)
{
	int ret;

	/* p stays NULL until all of it exists: push_rx_free() frees only what was made. */
	*pr = (struct push_rx){ .fd = -1 };
	ret = rx_buffer_init(&pr->rx, PUSH_RX_BUFFER_BYTES);
	if (ret)
		return ret;
	if (p->opts.install_move) {
		/*
		 * Payloads land here, page aligned, to be moved out. 4 KiB pages (a huge page
		 * would be split by the first move), and not shared with a child the owner forks
		 * (a shared page cannot be moved).
		 */
		pr->staging = mmap(NULL, WIRE_MAX_PAYLOAD, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (pr->staging == MAP_FAILED) {
			pr->staging = NULL;
			rx_buffer_free(&pr->rx);
			return -ENOMEM;
		}
		madvise(pr->staging, WIRE_MAX_PAYLOAD, MADV_NOHUGEPAGE);
		madvise(pr->staging, WIRE_MAX_PAYLOAD, MADV_DONTFORK);
		pr->rx.payload_elsewhere = true;
	}
	wire_arena_init(&pr->arena);
	region_table_wire_layout(&p->regions, &pr->layout);
	pthread_mutex_init(&pr->mu, NULL);
	pthread_cond_init(&pr->cond, NULL);
	pr->p = p;
	return 0;
}

void push_rx_free(struct push_rx *pr)
{
	if (!pr->p)
		return;
	rx_buffer_free(&pr->rx);
	if (pr->staging)
		munmap(pr->staging, WIRE_MAX_PAYLOAD);
	pthread_cond_destroy(&pr->cond);
	pthread_mutex_destroy(&pr->mu);
	pr->p = NULL;
}

/* Under mu: something for the listener, which the control eventfd wakes. */
static void post_locked(struct push_rx *pr)
{
	__atomic_store_n(&pr->pending, true, __ATOMIC_RELEASE);
	pager_signal_listener(pr->p);
}

/* The end of this connection's reading, with what the listener needs to judge it. */
static void end_reading(struct push_rx *pr, enum push_end end, int error, Wire__ErrorCode code,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void end_reading(struct push_rx *pr, enum push_end end, int error, Wire__ErrorCode code,
			const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&pr->mu);
	pr->ev.end = end;
	pr->ev.error = error;
	pr->ev.code = code;
	pr->ev.frames_left = end == PUSH_END_EOF && rx_buffer_pending(&pr->rx);
	va_start(ap, fmt);
	vsnprintf(pr->ev.text, sizeof(pr->ev.text), fmt, ap);
	va_end(ap);
	post_locked(pr);
	pthread_mutex_unlock(&pr->mu);
}

/* A run whose checksum fails: not installed; the listener asks for its missing pages. */
static void push_damaged(struct push_rx *pr, const Wire__PageHeader *hdr)
{
	struct pager *p = pr->p;
	uint64_t ps = p->regions.page_size;

	logger_warn(&p->log, "pager: page run at 0x%llx of region %u fails its checksum: asked again",
		    (unsigned long long)hdr->offset, hdr->region);
	pthread_mutex_lock(&p->push_lock);
	p->push_counters.pages_corrupt++;
	pthread_mutex_unlock(&p->push_lock);
	pthread_mutex_lock(&pr->mu);
	pr->ev.damaged = true;
	if (pr->ev.n_damaged < PUSH_DAMAGED_MAX)
		pr->ev.damaged_runs[pr->ev.n_damaged++] = (typeof(pr->ev.damaged_runs[0])){
			.region = hdr->region, .first = hdr->offset / ps, .count = hdr->length / ps
		};
	post_locked(pr);
	pthread_mutex_unlock(&pr->mu);
}

/* A page frame: checked, then installed. False: reading ends (reported). */
static bool on_push_page(struct push_rx *pr, const struct rx_frame *frame)
{
	struct pager *p = pr->p;
	Wire__ErrorCode code;
	char err[320];
	int ret;

	ret = page_frame_check(frame, true, &pr->layout, p->regions.page_size, &code, err,
			       sizeof(err));
	if (ret) {
		end_reading(pr, PUSH_END_PROTOCOL, ret, code, "%s", err);
		return false;
	}
	if (!page_frame_intact(frame)) {
		push_damaged(pr, (const Wire__PageHeader *)frame->msg);
		return true;
	}
	/* Raised before any page of the frame can be present, lowered once it is counted. */
	__atomic_fetch_add(&pr->installing, 1, __ATOMIC_SEQ_CST);
	ret = install_frame(p, (const Wire__PageHeader *)frame->msg, frame->payload,
			    frame->payload == pr->staging, &p->push_lock, &p->push_counters, err,
			    sizeof(err));
	__atomic_fetch_sub(&pr->installing, 1, __ATOMIC_SEQ_CST);
	if (ret) {
		end_reading(pr, PUSH_END_FAIL, ret, 0, "%s", err);
		return false;
	}
	/* The last page: the listener completes the pager, and may be asleep. */
	if (!region_table_missing(&p->regions))
		pager_signal_listener(p);
	return true;
}

/* Any frame but a page. False: reading ends (reported). */
static bool on_push_control(struct push_rx *pr, const struct rx_frame *frame)
{
	const Wire__Error *e;

	switch (frame->type) {
	case WIRE_PUSH_DONE:
		pthread_mutex_lock(&pr->mu);
		pr->ev.push_done = true;
		post_locked(pr);
		pthread_mutex_unlock(&pr->mu);
		return true;
	case WIRE_ERROR:
		e = (const Wire__Error *)frame->msg;
		/* The source found our stream damaged: a new connection mends that. */
		if (e->code == WIRE__ERROR_CODE__ERROR_STREAM)
			end_reading(pr, PUSH_END_LOST, -ECONNRESET, 0,
				    "the source found the stream damaged: %s", e->text ? e->text : "");
		else
			end_reading(pr, PUSH_END_FAIL, -EREMOTEIO, 0,
				    "the source reported error %d: %s", e->code, e->text ? e->text : "");
		return false;
	case WIRE_COMPLETE:
		end_reading(pr, PUSH_END_PROTOCOL, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
			    "unexpected complete message");
		return false;
	default:
		end_reading(pr, PUSH_END_PROTOCOL, -EPROTO, WIRE__ERROR_CODE__ERROR_PROTOCOL,
			    "unexpected %s message on the push channel", wire_type_name(frame->type));
		return false;
	}
}

static bool aborted(struct push_rx *pr)
{
	return __atomic_load_n(&pr->abort, __ATOMIC_ACQUIRE);
}

/*
 * A page frame's payload into the staging pages (payload_elsewhere): populated in one call
 * first (the moves of the last run left holes; one call costs less than a fault a page), then
 * received whole. False: reading ends (reported, or aborted).
 */
static bool receive_payload(struct push_rx *pr, int fd, struct rx_frame *frame)
{
	size_t have = 0;
	ssize_t n;

	if (madvise(pr->staging, frame->payload_len, MADV_POPULATE_WRITE)) {
		end_reading(pr, PUSH_END_FAIL, -errno, 0, "populating the push's receive pages: %s",
			    strerror(errno));
		return false;
	}
	while (have < frame->payload_len) {
		n = recv(fd, pr->staging + have, frame->payload_len - have, MSG_WAITALL);
		if (n < 0 && errno == EINTR)
			continue;
		if (aborted(pr))
			return false;
		if (n <= 0) {
			/* The frame's header is still unconsumed: an EOF here is mid-frame. */
			if (n == 0)
				end_reading(pr, PUSH_END_EOF, 0, 0, "the source closed the push connection "
					    "in the middle of a frame (%zu bytes of its payload received)",
					    have);
			else
				end_reading(pr, PUSH_END_RECV, -errno, 0, "push connection to the source: %s",
					    strerror(errno));
			return false;
		}
		have += (size_t)n;
		__atomic_store_n(&pr->last_rx_ns, clock_now_ns(), __ATOMIC_RELAXED);
	}
	frame->payload = pr->staging;
	return true;
}

/* Every whole frame in the buffer. False: reading ends (reported, or aborted). */
static bool process(struct push_rx *pr, int fd)
{
	struct rx_frame frame;
	char err[256];
	bool ok;
	int ret;

	while (!aborted(pr)) {
		ret = rx_buffer_next(&pr->rx, &pr->arena, &frame, err, sizeof(err));
		if (ret == 0)
			return true;
		if (ret < 0) {
			/* Framing lost: nothing after this point can be trusted, a new stream can. */
			end_reading(pr, PUSH_END_LOST, ret, WIRE__ERROR_CODE__ERROR_STREAM,
				    "the push stream is damaged: %s", err);
			return false;
		}
		if (frame.type == WIRE_PAGE && frame.payload_len && !frame.payload &&
		    !receive_payload(pr, fd, &frame))
			return false;
		ok = frame.type == WIRE_PAGE ? on_push_page(pr, &frame)
					     : on_push_control(pr, &frame);
		if (!ok)
			return false;
		rx_buffer_consume(&pr->rx, &frame);
	}
	return false;
}

/*
 * Bytes to ask for next: what the frame in progress lacks, with MSG_WAITALL for a large rest;
 * with payloads received elsewhere, exactly the next header or body, never a payload byte.
 */
static size_t receive_size(const struct push_rx *pr, int *flags)
{
	const struct rx_buffer *rb = &pr->rx;

	*flags = MSG_WAITALL;
	if (rb->payload_elsewhere)
		return rb->frame_missing ? rb->frame_missing
					 : WIRE_FRAME_HDR_SIZE - rx_buffer_pending(rb);
	if (rb->frame_missing >= RX_WAITALL_MIN)
		return rb->frame_missing;
	*flags = 0;
	return rx_buffer_space(rb);
}

/* Reads fd to its end: EOF, an error, a frame that ends it, or an abort. */
static void receive(struct push_rx *pr, int fd)
{
	ssize_t n;
	size_t len;
	int flags;

	for (;;) {
		rx_buffer_compact(&pr->rx);
		len = receive_size(pr, &flags);
		n = recv(fd, rx_buffer_space_ptr(&pr->rx), len, flags);
		if (n < 0 && errno == EINTR)
			continue;
		if (aborted(pr))
			return;
		if (n <= 0) {
			if (n == 0 && rx_buffer_pending(&pr->rx))
				end_reading(pr, PUSH_END_EOF, 0, 0, "the source closed the push connection "
					    "in the middle of a frame (%zu bytes of it received)",
					    rx_buffer_pending(&pr->rx));
			else if (n == 0)
				end_reading(pr, PUSH_END_EOF, 0, 0, "the source closed the push connection");
			else
				end_reading(pr, PUSH_END_RECV, -errno, 0, "push connection to the source: %s",
					    strerror(errno));
			return;
		}
		rx_buffer_commit(&pr->rx, (size_t)n);
		__atomic_store_n(&pr->last_rx_ns, clock_now_ns(), __ATOMIC_RELAXED);
		if (!process(pr, fd))
			return;
	}
}

static bool may_read(struct push_rx *pr)
{
	return pr->fd >= 0 && pr->fresh &&
	       __atomic_load_n(&pr->p->push_released, __ATOMIC_ACQUIRE);
}

static void *push_rx_main(void *arg)
{
	struct push_rx *pr = arg;
	int fd, ret;

	/* Beside the vCPUs by default (pager_options.push_nice says why). */
	ret = cpu_nice_self(pr->p->opts.push_nice);
	if (ret)
		logger_info(&pr->p->log, "pager: push receiver keeps its priority (nice %d: %s)",
			    pr->p->opts.push_nice, strerror(-ret));
	pthread_mutex_lock(&pr->mu);
	while (!pr->stop) {
		if (!may_read(pr)) {
			pthread_cond_wait(&pr->cond, &pr->mu);
			continue;
		}
		fd = pr->fd;
		pr->busy = true;
		pthread_mutex_unlock(&pr->mu);
		receive(pr, fd);
		pthread_mutex_lock(&pr->mu);
		pr->busy = false;
		pr->fresh = false;
		/* The listener may be waiting for this to close the socket. */
		pager_signal_listener(pr->p);
	}
	pthread_mutex_unlock(&pr->mu);
	return NULL;
}

int push_rx_start(struct push_rx *pr, int fd)
{
	int ret;

	pr->fd = fd;
	pr->fresh = true;
	ret = pthread_create(&pr->thread, NULL, push_rx_main, pr);
	if (ret)
		return -ret;
	pr->started = true;
	return 0;
}

void push_rx_stop(struct push_rx *pr)
{
	if (!pr->started)
		return;
	__atomic_store_n(&pr->abort, true, __ATOMIC_RELEASE);
	pthread_mutex_lock(&pr->mu);
	pr->stop = true;
	/* Ends a blocking receive: it returns 0 at once. */
	if (pr->busy)
		shutdown(pr->fd, SHUT_RD);
	pthread_cond_broadcast(&pr->cond);
	pthread_mutex_unlock(&pr->mu);
	pthread_join(pr->thread, NULL);
	pr->started = false;
}

void push_rx_kick(struct push_rx *pr)
{
	pthread_mutex_lock(&pr->mu);
	pthread_cond_broadcast(&pr->cond);
	pthread_mutex_unlock(&pr->mu);
}

void push_rx_abort(struct push_rx *pr)
{
	__atomic_store_n(&pr->abort, true, __ATOMIC_RELEASE);
}

bool push_rx_release_socket(struct push_rx *pr)
{
	bool idle;

	pthread_mutex_lock(&pr->mu);
	idle = !pr->busy;
	if (idle) {
		pr->fd = -1;
		pr->fresh = false;
		rx_buffer_reset(&pr->rx);
		pr->ev = (struct push_events){ 0 };
		__atomic_store_n(&pr->pending, false, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&pr->mu);
	return idle;
}

void push_rx_attach(struct push_rx *pr, int fd)
{
	pthread_mutex_lock(&pr->mu);
	pr->fd = fd;
	pr->fresh = true;
	__atomic_store_n(&pr->abort, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&pr->cond);
	pthread_mutex_unlock(&pr->mu);
}

bool push_rx_take_events(struct push_rx *pr, struct push_events *out)
{
	bool any;

	if (!__atomic_load_n(&pr->pending, __ATOMIC_ACQUIRE))
		return false;
	pthread_mutex_lock(&pr->mu);
	any = pr->pending;
	*out = pr->ev;
	pr->ev = (struct push_events){ 0 };
	__atomic_store_n(&pr->pending, false, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&pr->mu);
	return any;
}
