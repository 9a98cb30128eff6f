// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: what a connection sends to a listening end before it is admitted, read as the
 * admission loop reads it (pager/admission.c): the bytes a few at a time, exactly what the
 * hello still lacks (hello_frame_missing()), then decoded and judged (hello_frame_check():
 * protocol, page size, the session token, resume and session). The first input byte chooses
 * what this end expects (a token or none, a resume or a new session, a session id or any)
 * and the size of the pieces. An admitted hello carries exactly this end's token and
 * session; hello_token_equal() agrees with memcmp() on any two byte strings.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN "fuzz-session-token-0123456789"
#define SESSION 0x1234abcdull

static struct hello_expect expectation(uint8_t flags)
{
	struct hello_expect x = { .page_size = 4096 };

	if (flags & 1) {
		memcpy(x.token, TOKEN, sizeof(TOKEN) - 1);
		x.token_len = sizeof(TOKEN) - 1;
	}
	x.resume = flags & 2;
	x.session_id = flags & 4 ? SESSION : 0;
	return x;
}

/* The stream in pieces of at most `piece` bytes: the hello's length, or 0 if none came whole. */
static size_t read_hello(const uint8_t *stream, size_t size, size_t piece, uint8_t *frame)
{
	char err[WIRE_MAX_ERROR_TEXT];
	Wire__ErrorCode code;
	size_t have = 0;
	long missing;

	while ((missing = hello_frame_missing(frame, have, &code, err, sizeof(err))) > 0) {
		size_t take = (size_t)missing < piece ? (size_t)missing : piece;

		if (have + take > size)
			return 0;
		assert(have + take <= HELLO_FRAME_MAX);
		memcpy(frame + have, stream + have, take);
		have += take;
	}
	return missing == 0 ? have : 0;
}

static void tokens_compare_as_memcmp(const uint8_t *data, size_t size)
{
	size_t half = size / 2;

	assert(hello_token_equal(data, half, data + half, size - half) ==
	       (half == size - half && !memcmp(data, data + half, half)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wire_arena *arena;
	uint8_t frame[HELLO_FRAME_MAX];
	struct hello_expect x;
	char err[WIRE_MAX_ERROR_TEXT];
	Wire__ErrorCode code;
	Wire__Hello hello;
	size_t len;

	if (!arena) {
		arena = malloc(sizeof(*arena));
		assert(arena);
		wire_arena_init(arena);
	}
	if (size < 1)
		return 0;
	tokens_compare_as_memcmp(data + 1, size - 1);
	x = expectation(data[0]);
	len = read_hello(data + 1, size - 1, 1 + (data[0] >> 3), frame);
	if (!len)
		return 0;
	wire_arena_reset(arena);
	if (hello_frame_check(frame, len, arena, &x, &hello, &code, err, sizeof(err)) != 0) {
		assert(code != WIRE__ERROR_CODE__ERROR_UNSPECIFIED && err[0]);
		return 0;
	}
	assert(hello.magic == WIRE_MAGIC && hello.version == WIRE_VERSION);
	assert(hello.channel == WIRE__CHANNEL__CHANNEL_DEMAND ||
	       hello.channel == WIRE__CHANNEL__CHANNEL_PUSH);
	assert(hello.token.len == x.token_len &&
	       (!x.token_len || !memcmp(hello.token.data, x.token, x.token_len)));
	assert(hello.resume == x.resume);
	assert(!x.session_id || hello.session_id == x.session_id);
	return 0;
}
