// SPDX-License-Identifier: GPL-2.0-only
/*
 * Public API, recovery on the destination: after a lost connection, the owner brings new
 * sockets (two, or one carrying both channels); the hellos name the session with the resume flag, the source learns which pages
 * are here (PresentBitmap frames, then ResumeReady), and the listener takes the sockets over.
 */
#include "pager_internal.h"
#include "handshake.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"

/* Bytes of one region's present bitmap from first_page on, as the protocol orders its bits. */
static size_t bitmap_bytes(const struct page_state *ps, uint64_t first_page, uint8_t *out,
			   uint64_t *set)
{
	uint64_t pages = ps->n_pages - first_page, w, word;
	size_t len;

	if (pages > (uint64_t)WIRE_MAX_BITMAP_BYTES * 8)
		pages = (uint64_t)WIRE_MAX_BITMAP_BYTES * 8;
	len = (size_t)((pages + 7) / 8);
	/* first_page is a multiple of a whole bitmap frame's pages, so of 64. */
	for (w = 0; w * 8 < len; w++) {
		/* The listener installs nothing while disconnected; atomic all the same. */
		word = __atomic_load_n(&ps->present[first_page / 64 + w], __ATOMIC_ACQUIRE);
		if ((w + 1) * 64 > pages)
			word &= (1ull << (pages % 64)) - 1;
		*set += (uint64_t)__builtin_popcountll(word);
		word = htole64(word);
		memcpy(out + w * 8, &word, len - w * 8 < 8 ? len - w * 8 : 8);
	}
	return len;
}

static int send_present(struct pager *p, int fd, int timeout_ms)
{
	Wire__ResumeReady ready = WIRE__RESUME_READY__INIT;
	uint8_t *bits = malloc(WIRE_MAX_BITMAP_BYTES);
	uint64_t first, set = 0;
	uint32_t i;
	int ret = 0;

	if (!bits)
		return -ENOMEM;
	for (i = 0; i < p->regions.n && !ret; i++) {
		const struct page_state *ps = &p->regions.r[i].pages;

		for (first = 0; first < ps->n_pages && !ret;
		     first += (uint64_t)WIRE_MAX_BITMAP_BYTES * 8) {
			Wire__PresentBitmap msg = WIRE__PRESENT_BITMAP__INIT;

			msg.region = i;
			msg.first_page = first;
			msg.bits.len = bitmap_bytes(ps, first, bits, &set);
			msg.bits.data = bits;
			ret = wire_send(fd, WIRE_PRESENT_BITMAP, &msg.base, timeout_ms);
		}
	}
	free(bits);
	if (ret)
		return ret;
	ready.pages_present = set;
	return wire_send(fd, WIRE_RESUME_READY, &ready.base, timeout_ms);
}

/* After the hellos: which pages are here, then the sockets go to the listener. */
static int hand_over(struct pager *p, int demand_fd, int push_fd, const struct handshake *h,
		     char *err, size_t err_len)
{
	bool handed;
	int ret;

	ret = send_present(p, demand_fd, h->timeout_ms);
	if (ret) {
		snprintf(err, err_len, "sending the pages present here: %s", strerror(-ret));
		return ret;
	}
	pthread_mutex_lock(&p->lock);
	handed = p->run.state == PAGER_STATE_DISCONNECTED;
	if (handed) {
		p->resume_fds[0] = demand_fd;
		p->resume_fds[1] = push_fd;
		p->resume_pending = true;
	}
	pthread_mutex_unlock(&p->lock);
	if (!handed) {
		/* The reconnect deadline passed meanwhile. */
		snprintf(err, err_len, "the pager gave up waiting for a connection: %s",
			 run_state_error(p));
		return -ETIMEDOUT;
	}
	pager_signal_listener(p);
	return 0;
}

/*
 * The source may see the loss first: give the pager the same bound to notice it. 1: the pager
 * is complete but the source never heard it (the loss took the Complete).
 */
static int check_disconnected(struct pager *p, const struct handshake *h, char *err,
			      size_t err_len)
{
	if (run_state_wait_disconnected(p, h->timeout_ms))
		return 0;
	if (run_state_get(p) == PAGER_STATE_COMPLETE && !run_state_confirmed(p))
		return 1;
	snprintf(err, err_len, "nothing to resume: the pager is not disconnected");
	return -EBUSY;
}

/*
 * Every page is here: the resumed session only tells the source so. Every page present, then
 * the Complete (with the owner's digest), and the source's acknowledgement. The sockets are
 * closed after, as the listener would have.
 */
static int confirm_completion(struct pager *p, int demand_fd, int push_fd,
			      const struct handshake *h, char *err, size_t err_len)
{
	Wire__Complete done = WIRE__COMPLETE__INIT;
	struct wire_arena *arena = malloc(sizeof(*arena));
	ProtobufCMessage *msg;
	unsigned int type;
	int ret;

	if (!arena)
		return -ENOMEM;
	wire_arena_init(arena);
	done.pages_received = p->regions.pages_total;
	if (p->opts.completion_digest)
		done.has_digest = p->opts.completion_digest(p->opts.completion_digest_opaque,
							    &done.memory_digest);
	ret = send_present(p, demand_fd, h->timeout_ms);
	if (!ret)
		ret = wire_send(demand_fd, WIRE_COMPLETE, &done.base, h->timeout_ms);
	/*
	 * On one connection the source's push says it has nothing left (PushDone) on the same
	 * stream, before or after its answer: passed over, as a second connection's would be.
	 */
	do {
		if (!ret)
			ret = wire_recv(demand_fd, arena, &type, &msg, h->timeout_ms);
	} while (!ret && push_fd < 0 && type == WIRE_PUSH_DONE);
	if (!ret && type != WIRE_COMPLETE)
		ret = -EPROTO;
	free(arena);
	if (ret) {
		snprintf(err, err_len, "telling the source the migration is complete: %s",
			 strerror(-ret));
		return ret;
	}
	run_state_confirm(p);
	close(demand_fd);
	if (push_fd >= 0)
		close(push_fd);
	return 0;
}

int pager_resume(struct pager *p, int demand_fd, int push_fd, bool connected,
		 const struct pager_handshake *hs, char *err, size_t err_len)
{
	struct handshake h;
	int ret, complete;

	ret = handshake_init(&h, hs, true, err, err_len);
	if (!ret && !h.hello.session_id) {
		snprintf(err, err_len, "no session to resume (session id 0)");
		ret = -EINVAL;
	}
	if (!ret)
		ret = check_disconnected(p, &h, err, err_len);
	if (ret < 0)
		return ret;
	complete = ret;
	ret = handshake_hellos(&demand_fd, &push_fd, connected, &h, err, err_len);
	if (ret)
		return ret;
	if (complete)
		return confirm_completion(p, demand_fd, push_fd, &h, err, err_len);
	return hand_over(p, demand_fd, push_fd, &h, err, err_len);
}

int pager_resume_admitted(struct pager *p, const int fds[2], const struct handshake *h,
			  char *err, size_t err_len)
{
	int complete = check_disconnected(p, h, err, err_len), ret;

	if (complete < 0)
		return complete;
	ret = handshake_answer(fds[0], fds[1], h, err, err_len);
	if (ret)
		return ret;
	if (complete)
		return confirm_completion(p, fds[0], fds[1], h, err, err_len);
	return hand_over(p, fds[0], fds[1], h, err, err_len);
}
