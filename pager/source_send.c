// SPDX-License-Identifier: GPL-2.0-only
/*
 * Page runs onto a socket: a PageHeader frame and, unless the run is zero, its bytes straight
 * from the image (sendmsg with two iovecs: no copy in user space).
 */
#include "source_internal.h"
#include "wire.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

static bool page_is_zero(const uint8_t *page, uint64_t page_size)
{
	const uint64_t *w = (const uint64_t *)page;
	uint64_t i;

	for (i = 0; i < page_size / sizeof(uint64_t); i++)
		if (w[i])
			return false;
	return true;
}

/*
 * The whole of iov, each wait for room bounded by timeout_ms (-1: none). A bounded send does
 * not block in the kernel (the socket is a blocking one: its peer may have stopped reading),
 * it polls; an unbounded one blocks, one call for a whole run.
 */
static int writev_full(int fd, struct iovec *iov, int iovcnt, int timeout_ms)
{
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
	int flags = MSG_NOSIGNAL | (timeout_ms >= 0 ? MSG_DONTWAIT : 0);

	while (mh.msg_iovlen) {
		ssize_t n = sendmsg(fd, &mh, flags);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };

				/* A shut-down socket wakes this; the next send says why. */
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

/* On one connection the other thread may be sending: a frame goes whole, under the lock. */
static void send_lock(struct pager_source *src)
{
	if (src->push_fd < 0)
		pthread_mutex_lock(&src->send_lock);
}

static void send_unlock(struct pager_source *src)
{
	if (src->push_fd < 0)
		pthread_mutex_unlock(&src->send_lock);
}

int source_send_msg(struct pager_source *src, int fd, enum wire_type type,
		    const ProtobufCMessage *msg)
{
	int ret;

	send_lock(src);
	ret = wire_send(fd, type, msg, src->opts.io_timeout_ms);
	send_unlock(src);
	return ret;
}

void source_send_error(struct pager_source *src, int fd, Wire__ErrorCode code, const char *text)
{
	send_lock(src);
	wire_send_error(fd, code, text);
	send_unlock(src);
}

static int send_run(struct pager_source *src, int fd, const struct source_region *r,
		    uint64_t page, uint32_t count, bool zero, uint64_t request_id)
{
	Wire__PageHeader hdr = WIRE__PAGE_HEADER__INIT;
	uint8_t head[WIRE_FRAME_HDR_SIZE + 64];
	struct iovec iov[2];
	ssize_t head_len;
	int ret;

	hdr.region = r->id;
	hdr.offset = page * src->page_size;
	hdr.length = count * src->page_size;
	hdr.flags = (zero ? WIRE_PAGE_FLAG_ZERO : 0) | (request_id ? WIRE_PAGE_FLAG_DEMAND : 0);
	hdr.request_id = request_id;
	hdr.checksum = wire_page_checksum(hdr.region, hdr.offset, hdr.length, hdr.flags,
					  zero ? NULL : r->base + hdr.offset, zero ? 0 : hdr.length);
	head_len = wire_encode(WIRE_PAGE, &hdr.base, head, sizeof(head));
	if (head_len < 0)
		return (int)head_len;
	iov[0] = (struct iovec){ .iov_base = head, .iov_len = (size_t)head_len };
	iov[1] = (struct iovec){ .iov_base = (void *)(r->base + hdr.offset), .iov_len = hdr.length };
	stat_add(&src->stats.bytes_sent, (uint64_t)head_len + (zero ? 0 : hdr.length));
	if (zero)
		stat_add(&src->stats.pages_zero, count);
	/*
	 * The push may wait without bound on its own connection: the destination holds it while
	 * it restores vCPU state, and a dead peer is caught by TCP keepalive and TCP_USER_TIMEOUT
	 * (net_tune). On the only connection nothing is held, and the bound is the demand's.
	 */
	send_lock(src);
	ret = writev_full(fd, iov, zero ? 1 : 2, fd == src->push_fd ? -1 : src->opts.io_timeout_ms);
	send_unlock(src);
	return ret;
}

/* A hugetlb region: each 2 MiB page that [page, page+count) touches, whole, one frame each. */
static int send_units(struct pager_source *src, int fd, struct source_region *r, uint64_t page,
		      uint64_t count, uint64_t request_id, bool skip_sent, uint64_t *pages_out)
{
	uint64_t u = r->unit_pages, end = page + count, sent = 0;
	int ret;

	for (page -= page % u; page < end; page += u) {
		if (test_and_set(r->sent, page) && skip_sent)
			continue;
		mark_unit(r->sent, page, r->unit_pages, true);
		ret = send_run(src, fd, r, page, (uint32_t)u,
			       page_is_zero(r->base + page * src->page_size, u * src->page_size),
			       request_id);
		if (ret)
			return ret;
		sent += u;
	}
	*pages_out += sent;
	return 0;
}

int source_send_pages(struct pager_source *src, int fd, struct source_region *r, uint64_t page,
		      uint64_t count, uint64_t request_id, bool skip_sent, uint64_t *pages_out)
{
	uint64_t end = page + count, sent = 0;
	int ret;

	if (r->unit_pages > 1)
		return send_units(src, fd, r, page, count, request_id, skip_sent, pages_out);

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
