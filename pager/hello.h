/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The hello both ends send first on every connection: what it must say to be admitted here
 * (protocol, page size, channel, the session token, the session), built and checked without
 * any I/O, so that the admission loop, the blocking handshakes and the fuzzer share one
 * judgement.
 */
#ifndef PAGER_HELLO_H
#define PAGER_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* What this end expects of a peer's hello, and says in its own. */
struct hello_expect {
	uint8_t token[WIRE_MAX_TOKEN];
	uint32_t token_len;    /* 0: this end was given no token, and accepts none */
	uint32_t page_size;
	bool resume;           /* resuming a session after a lost connection */
	uint64_t session_id;   /* 0: any (a new session, learned from the peer) */
	Wire__Channel channel; /* UNSPECIFIED: either */
};

/* The largest hello frame, header included. */
#define HELLO_FRAME_MAX (WIRE_FRAME_HDR_SIZE + WIRE_MAX_HELLO_BODY)

/* The hello this end sends on a channel. token points into x. */
void hello_build(Wire__Hello *hello, const struct hello_expect *x, Wire__Channel channel);

/*
 * Equal tokens, in a time that depends on the expected length only, never on where the bytes
 * differ: a stranger cannot find the token a byte at a time by timing refusals.
 */
bool hello_token_equal(const uint8_t *want, size_t want_len, const uint8_t *got, size_t got_len);

/*
 * A hello's meaning against what this end expects. 0, or -errno with the reason in err and
 * the Error code to answer with in *code (VERSION, TOKEN, SESSION or PROTOCOL).
 */
int hello_check(const Wire__Hello *hello, const struct hello_expect *x, Wire__ErrorCode *code,
		char *err, size_t err_len);

/*
 * A hello arriving a few bytes at a time: given the first `have` bytes of the stream, how
 * many more it needs (> 0), 0 when the frame is whole, or -errno when these bytes can never
 * be a hello (not this protocol, another message, too long; reason and code as above).
 */
long hello_frame_missing(const uint8_t *buf, size_t have, Wire__ErrorCode *code, char *err,
			 size_t err_len);

/*
 * Decodes and checks a whole hello frame of len bytes (hello_frame_missing() said 0): 0 with
 * *out set (its token points into the arena), or -errno, reason and code as above.
 */
int hello_frame_check(const uint8_t *buf, size_t len, struct wire_arena *arena,
		      const struct hello_expect *x, Wire__Hello *out, Wire__ErrorCode *code,
		      char *err, size_t err_len);

#endif
