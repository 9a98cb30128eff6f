/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The hellos on a migration's two sockets, for a new session and for resuming one: blocking
 * on sockets already connected or accepted (handshake.c), or admitting the right pair among
 * the connections to a listening socket (admission.c).
 */
#ifndef PAGER_HANDSHAKE_H
#define PAGER_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hello.h"
#include "logger.h"
#include "pager.h"

/* struct pager_handshake as the library keeps it: checked, copied, defaults resolved. */
struct handshake {
	struct hello_expect hello; /* token, page size, resume, session; channel unused */
	int timeout_ms;            /* each message */
	uint64_t max_memory;       /* bytes; never 0 */
	struct logger log;         /* admission's refusals */
};

/* From the caller's struct (NULL: defaults). 0, or -EINVAL / -E2BIG with the reason in err. */
int handshake_init(struct handshake *h, const struct pager_handshake *hs, bool resume,
		   char *err, size_t err_len);
/* The session learned back into the caller's struct. */
void handshake_store_session(const struct handshake *h, struct pager_handshake *hs);

/*
 * Both sockets' hellos. The connecting side speaks first, names the channels and the session
 * (h->hello.session_id, a random one when 0); the accepting side swaps its sockets to match,
 * learns the session (or checks it, when set) and answers. Both must agree on the token and
 * on resume. *push_fd < 0: one connection carries both channels (protocol v5, Hello channel
 * BOTH), on both sides. 0, or -errno with the reason in err (the side that saw a mismatch or
 * waited in vain told the peer with an Error frame).
 */
int handshake_hellos(int *demand_fd, int *push_fd, bool connected, struct handshake *h,
		     char *err, size_t err_len);
/*
 * The accepting side's hellos back, once both connections' hellos were admitted (push_fd < 0:
 * the one connection's, BOTH).
 */
int handshake_answer(int demand_fd, int push_fd, const struct handshake *h, char *err,
		     size_t err_len);

/* When the owner no longer needs connections (asked every 100 ms at least): fn true. */
struct admission_stop {
	bool (*fn)(void *opaque);
	void *opaque;
};

/*
 * admission.c: the next pair of connections to listen_fd that forms one session by its
 * hellos (resume and session as h says), before timeout_ms (-1: none); connections taken by
 * then go on to their own deadlines, so it returns within twice h->timeout_ms past it.
 * Strangers are refused and closed. The hellos are checked, not answered: handshake_answer()
 * does that. 0 with fds[0] demand, fds[1] push (-1 for a session of one connection, whose
 * hello said BOTH) and h->hello.session_id set; -ETIMEDOUT;
 * -ECANCELED (stop said so; stop may be NULL); -errno with err.
 */
int admission_accept(int listen_fd, struct handshake *h, const struct admission_stop *stop,
		     int fds[2], int timeout_ms, char *err, size_t err_len);

/* An Error frame to a peer being refused: best effort, bounded by timeout_ms. */
void handshake_refuse(int fd, Wire__ErrorCode code, const char *text, int timeout_ms);

#endif
