// SPDX-License-Identifier: GPL-2.0-only
/*
 * The source page server. Two threads, one per socket, so a demand answer never queues behind
 * the push: the caller's thread answers PageRequests on the demand socket at once; the push
 * thread streams every page not yet sent, jumping to just after the latest demanded page first
 * (pre-paging: the pages near a fault are the likely next faults).
 */
#include "pager.h"
#include "json.h"
#include "log.h"
#include "net.h"
#include "layout_wire.h"
#include "wire.h"
#include "source_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define HINT_VALID (1ull << 63)

void pager_source_options_init(struct pager_source_options *opts)
{
	*opts = (struct pager_source_options){
		.push = true,
		.push_run_pages = 16,
		.prepage_window = 64,
		.demand_cpu = -1,
		.push_cpu = -1,
		.io_timeout_ms = 30000,
		.push_nice = 10,
	};
}

int pager_source_create(const struct pager_source_options *opts, struct pager_source **out)
{
	struct pager_source *src = calloc(1, sizeof(*src));

	if (!src)
		return -ENOMEM;
	if (opts)
		src->opts = *opts;
	else
		pager_source_options_init(&src->opts);
	if (!src->opts.push_run_pages || src->opts.push_run_pages > WIRE_MAX_REQUEST_PAGES)
		src->opts.push_run_pages = 16;
	src->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	src->demand_fd = src->push_fd = -1;
	pthread_mutex_init(&src->lock, NULL);
	*out = src;
	return 0;
}

int pager_source_add_region(struct pager_source *src, uint32_t id, uint64_t gpa,
			    const void *addr, uint64_t size)
{
	struct source_region *r;
	uint64_t words;

	if (id != src->n_regions || id >= PAGER_MAX_REGIONS || !size || size % src->page_size)
		return -EINVAL;
	r = &src->regions[id];
	r->n_pages = size / src->page_size;
	words = (r->n_pages + 63) / 64;
	r->sent = calloc(words, sizeof(uint64_t));
	r->requested = calloc(words, sizeof(uint64_t));
	if (!r->sent || !r->requested) {
		free(r->sent);
		free(r->requested);
		return -ENOMEM;
	}
	r->id = id;
	r->gpa = gpa;
	r->base = addr;
	r->size = size;
	src->n_regions++;
	return 0;
}

void pager_source_layout(const struct pager_source *src, struct pager_layout *layout)
{
	uint32_t i;

	layout->n_regions = src->n_regions;
	for (i = 0; i < src->n_regions; i++)
		layout->regions[i] = (struct pager_region){
			.id = src->regions[i].id,
			.gpa = src->regions[i].gpa,
			.size = src->regions[i].size,
			.backing = PAGER_BACKING_ANON,
		};
}

static void source_fail(struct pager_source *src, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void source_fail(struct pager_source *src, int error, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&src->lock);
	if (!src->error) {
		src->error = error < 0 ? error : -EIO;
		va_start(ap, fmt);
		vsnprintf(src->error_text, sizeof(src->error_text), fmt, ap);
		va_end(ap);
		pr_err("source: %s", src->error_text);
	}
	pthread_mutex_unlock(&src->lock);
	__atomic_store_n(&src->stop, true, __ATOMIC_RELEASE);
}

static bool page_is_zero(const uint8_t *page, uint32_t page_size)
{
	const uint64_t *w = (const uint64_t *)page;
	uint32_t i;

	for (i = 0; i < page_size / sizeof(uint64_t); i++)
		if (w[i])
			return false;
	return true;
}

static int writev_full(int fd, struct iovec *iov, int iovcnt, int timeout_ms)
{
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };

	while (mh.msg_iovlen) {
		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };

				if (poll(&pfd, 1, timeout_ms) == 0)
					return -ETIMEDOUT;
				continue;
			}
			return errno == EPIPE ? -ECONNRESET : -errno;
		}
		while (mh.msg_iovlen && (size_t)n >= mh.msg_iov->iov_len) {
			n -= (ssize_t)mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen) {
			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + n;
			mh.msg_iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

/* One PageHeader frame and, unless the run is zero, its bytes straight from the image. */
static int send_run(struct pager_source *src, int fd, const struct source_region *r,
		    uint64_t page, uint32_t count, bool zero, uint64_t request_id)
{
	Wire__PageHeader hdr = WIRE__PAGE_HEADER__INIT;
	uint8_t head[WIRE_FRAME_HDR_SIZE + 64];
	struct iovec iov[2];
	ssize_t head_len;

	hdr.region = r->id;
	hdr.offset = page * src->page_size;
	hdr.length = count * src->page_size;
	hdr.flags = (zero ? WIRE_PAGE_FLAG_ZERO : 0) | (request_id ? WIRE_PAGE_FLAG_DEMAND : 0);
	hdr.request_id = request_id;
	head_len = wire_encode(WIRE_PAGE, &hdr.base, head, sizeof(head));
	if (head_len < 0)
		return (int)head_len;
	iov[0] = (struct iovec){ .iov_base = head, .iov_len = (size_t)head_len };
	iov[1] = (struct iovec){ .iov_base = (void *)(r->base + hdr.offset), .iov_len = hdr.length };
	stat_add(&src->stats.bytes_sent, (uint64_t)head_len + (zero ? 0 : hdr.length));
	if (zero)
		stat_add(&src->stats.pages_zero, count);
	/*
	 * The push may wait without bound: the destination holds it while it restores vCPU
	 * state, and a dead peer is caught by TCP keepalive and TCP_USER_TIMEOUT (net_tune).
	 */
	return writev_full(fd, iov, zero ? 1 : 2, fd == src->push_fd ? -1 : src->opts.io_timeout_ms);
}

int source_send_pages(struct pager_source *src, int fd, struct source_region *r, uint64_t page,
		      uint64_t count, uint64_t request_id, bool skip_sent, uint64_t *pages_out)
{
	uint64_t end = page + count, sent = 0;
	int ret;

	while (page < end) {
		uint64_t run = 0;
		bool zero;

		if (test_and_set(r->sent, page) && skip_sent) {
			page++;
			continue;
		}
		zero = page_is_zero(r->base + page * src->page_size, src->page_size);
		run = 1;
		while (page + run < end && run < WIRE_MAX_PAGE_RUN / src->page_size &&
		       page_is_zero(r->base + (page + run) * src->page_size, src->page_size) == zero) {
			if (skip_sent && test_bit(r->sent, page + run))
				break;
			test_and_set(r->sent, page + run);
			run++;
		}
		ret = send_run(src, fd, r, page, (uint32_t)run, zero, request_id);
		if (ret)
			return ret;
		sent += run;
		page += run;
	}
	*pages_out += sent;
	return 0;
}

static int push_from(struct pager_source *src, uint32_t region, uint64_t page, uint64_t count)
{
	struct source_region *r = &src->regions[region];
	uint64_t pushed = 0;
	int ret;

	if (page >= r->n_pages)
		return 0;
	if (count > r->n_pages - page)
		count = r->n_pages - page;
	ret = source_send_pages(src, src->push_fd, r, page, count, 0, true, &pushed);
	stat_add(&src->stats.pages_push, pushed);
	return ret;
}

static void pin_self(int cpu, const char *what)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		pr_warn("source: cannot pin the %s thread to CPU %d: %s", what, cpu, strerror(errno));
}

static void *push_main(void *arg)
{
	struct pager_source *src = arg;
	Wire__PushDone done = WIRE__PUSH_DONE__INIT;
	uint32_t region = 0;
	uint64_t page = 0;
	int ret = 0;

	pin_self(src->opts.push_cpu, "push");
	/*
	 * Below the demand thread: on a busy host a woken demand thread must not wait a
	 * scheduler slice behind the push (measured: ms of fault latency on 2 CPUs).
	 */
	if (src->opts.push_nice &&
	    setpriority(PRIO_PROCESS, (id_t)gettid(), src->opts.push_nice))
		pr_warn("source: cannot renice the push thread: %s", strerror(errno));
	while (region < src->n_regions && !__atomic_load_n(&src->stop, __ATOMIC_ACQUIRE)) {
		uint64_t hint = __atomic_exchange_n(&src->prepage_hint, 0, __ATOMIC_ACQ_REL);

		if (hint & HINT_VALID) {
			stat_add(&src->stats.prepage_jumps, 1);
			ret = push_from(src, (uint32_t)((hint >> 48) & 0x7fff), hint & ((1ull << 48) - 1),
					src->opts.prepage_window);
		} else {
			ret = push_from(src, region, page, src->opts.push_run_pages);
			page += src->opts.push_run_pages;
			if (page >= src->regions[region].n_pages) {
				region++;
				page = 0;
			}
		}
		if (ret)
			break;
	}
	if (!ret && !__atomic_load_n(&src->stop, __ATOMIC_ACQUIRE)) {
		done.pages_sent = __atomic_load_n(&src->stats.pages_push, __ATOMIC_RELAXED);
		ret = wire_send(src->push_fd, WIRE_PUSH_DONE, &done.base, src->opts.io_timeout_ms);
	}
	if (ret && !__atomic_load_n(&src->stop, __ATOMIC_ACQUIRE)) {
		source_fail(src, ret, "push connection: %s", strerror(-ret));
		/* Wake the demand loop out of its receive. */
		shutdown(src->demand_fd, SHUT_RD);
	}
	return NULL;
}

static int serve_request(struct pager_source *src, const struct wire_layout *layout,
			 const Wire__PageRequest *req)
{
	struct source_region *r;
	uint64_t first, i, demanded = 0;
	char err[256];
	int ret;

	ret = wire_check_page_request(req, layout, src->page_size, err, sizeof(err));
	if (ret) {
		wire_send_error(src->demand_fd, WIRE__ERROR_CODE__ERROR_RANGE, err);
		source_fail(src, ret, "bad page request: %s", err);
		return ret;
	}
	stat_add(&src->stats.requests, 1);
	r = &src->regions[req->region];
	first = req->offset / src->page_size;
	for (i = 0; i < req->count; i++)
		if (test_and_set(r->requested, first + i))
			stat_add(&src->stats.duplicate_requests, 1);
	ret = source_send_pages(src, src->demand_fd, r, first, req->count, req->request_id, false,
			 &demanded);
	stat_add(&src->stats.pages_demand, demanded);
	if (ret) {
		source_fail(src, ret, "answering a page request: %s", strerror(-ret));
		return ret;
	}
	if (src->opts.prepage_window)
		__atomic_store_n(&src->prepage_hint,
				 HINT_VALID | (uint64_t)r->id << 48 | (first + req->count),
				 __ATOMIC_RELEASE);
	return 0;
}

int pager_source_serve(struct pager_source *src, int demand_fd, int push_fd)
{
	struct wire_layout *layout = malloc(sizeof(*layout));
	struct pager_layout public_layout;
	struct wire_arena *arena = malloc(sizeof(*arena));
	Wire__Complete ack = WIRE__COMPLETE__INIT;
	bool push_started = false;
	pthread_t push_thread;
	ProtobufCMessage *msg;
	unsigned int type;
	int ret = 0;

	if (!layout || !arena) {
		ret = -ENOMEM;
		goto out;
	}
	wire_arena_init(arena);
	pager_source_layout(src, &public_layout);
	layout_to_wire(&public_layout, layout);
	src->demand_fd = demand_fd;
	src->push_fd = push_fd;
	net_tune(demand_fd, (unsigned int)src->opts.io_timeout_ms);
	net_tune(push_fd, (unsigned int)src->opts.io_timeout_ms);
	if (src->opts.push) {
		ret = pthread_create(&push_thread, NULL, push_main, src);
		if (ret) {
			ret = -ret;
			goto out;
		}
		push_started = true;
	}
	pin_self(src->opts.demand_cpu, "demand");
	for (;;) {
		ret = wire_recv(demand_fd, arena, &type, &msg, -1);
		if (ret) {
			source_fail(src, ret, "the destination %s before completion",
				    ret == -ECONNRESET ? "closed the demand connection"
						       : strerror(-ret));
			break;
		}
		if (type == WIRE_PAGE_REQUEST) {
			ret = serve_request(src, layout, (const Wire__PageRequest *)msg);
			if (ret)
				break;
		} else if (type == WIRE_COMPLETE) {
			__atomic_store_n(&src->stop, true, __ATOMIC_RELEASE);
			ack.pages_received = ((const Wire__Complete *)msg)->pages_received;
			wire_send(demand_fd, WIRE_COMPLETE, &ack.base, src->opts.io_timeout_ms);
			break;
		} else if (type == WIRE_ERROR) {
			const Wire__Error *e = (const Wire__Error *)msg;

			ret = -EREMOTEIO;
			source_fail(src, ret, "the destination reported error %d: %s", e->code,
				    e->text ? e->text : "");
			break;
		} else {
			ret = -EPROTO;
			wire_send_error(demand_fd, WIRE__ERROR_CODE__ERROR_PROTOCOL,
					"unexpected message on the demand channel");
			source_fail(src, ret, "unexpected %s message on the demand channel",
				    wire_type_name(type));
			break;
		}
	}
	if (push_started) {
		/*
		 * Whatever the outcome, the push is over: a push thread blocked sending pages the
		 * destination no longer reads must not keep us here.
		 */
		__atomic_store_n(&src->stop, true, __ATOMIC_RELEASE);
		shutdown(push_fd, SHUT_RDWR);
		pthread_join(push_thread, NULL);
	}
	pthread_mutex_lock(&src->lock);
	if (!ret && src->error)
		ret = src->error;
	pthread_mutex_unlock(&src->lock);
out:
	free(layout);
	free(arena);
	return ret;
}

const char *pager_source_error(struct pager_source *src)
{
	return src->error_text;
}

void pager_source_get_stats(struct pager_source *src, struct pager_source_stats *out)
{
	out->requests = __atomic_load_n(&src->stats.requests, __ATOMIC_RELAXED);
	out->pages_demand = __atomic_load_n(&src->stats.pages_demand, __ATOMIC_RELAXED);
	out->pages_push = __atomic_load_n(&src->stats.pages_push, __ATOMIC_RELAXED);
	out->pages_zero = __atomic_load_n(&src->stats.pages_zero, __ATOMIC_RELAXED);
	out->duplicate_requests = __atomic_load_n(&src->stats.duplicate_requests, __ATOMIC_RELAXED);
	out->prepage_jumps = __atomic_load_n(&src->stats.prepage_jumps, __ATOMIC_RELAXED);
	out->bytes_sent = __atomic_load_n(&src->stats.bytes_sent, __ATOMIC_RELAXED);
	out->pages_precopy = __atomic_load_n(&src->stats.pages_precopy, __ATOMIC_RELAXED);
	out->pages_discarded = __atomic_load_n(&src->stats.pages_discarded, __ATOMIC_RELAXED);
}

void pager_source_stats_write_json(const struct pager_source_stats *s, FILE *out)
{
	struct json j;

	json_init(&j, out);
	json_object_begin(&j);
	json_kv_u64(&j, "requests", s->requests);
	json_kv_u64(&j, "pages_demand", s->pages_demand);
	json_kv_u64(&j, "pages_push", s->pages_push);
	json_kv_u64(&j, "pages_zero", s->pages_zero);
	json_kv_u64(&j, "duplicate_requests", s->duplicate_requests);
	json_kv_u64(&j, "prepage_jumps", s->prepage_jumps);
	json_kv_u64(&j, "pages_precopy", s->pages_precopy);
	json_kv_u64(&j, "pages_discarded", s->pages_discarded);
	json_kv_u64(&j, "bytes_sent", s->bytes_sent);
	json_object_end(&j);
}

void pager_source_destroy(struct pager_source *src)
{
	uint32_t i;

	if (!src)
		return;
	for (i = 0; i < src->n_regions; i++) {
		free(src->regions[i].sent);
		free(src->regions[i].requested);
	}
	pthread_mutex_destroy(&src->lock);
	free(src);
}
