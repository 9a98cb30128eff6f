/* SPDX-License-Identifier: GPL-2.0-only */
/* The hellos on a migration's two sockets, for a new session and for resuming one. */
#ifndef PAGER_HANDSHAKE_H
#define PAGER_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The connecting side speaks first, names the channels and the session (*session_id, a
 * random one when 0); the accepting side swaps its sockets to match, learns the session (or
 * checks it, when *session_id is set) and echoes. Both must agree on resume. 0, or -errno
 * with the reason in err (the side that saw a mismatch told the peer with an Error frame).
 */
int handshake_hellos(int *demand_fd, int *push_fd, bool connected, uint64_t *session_id,
		     bool resume, int timeout_ms, char *err, size_t err_len);

#endif
