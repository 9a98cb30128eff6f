// SPDX-License-Identifier: GPL-2.0-only
/* The hello: built, and judged against what this end expects, without any I/O. */
#include "hello.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void hello_build(Wire__Hello *hello, const struct hello_expect *x, Wire__Channel channel)
{
	wire__hello__init(hello);
	hello->magic = WIRE_MAGIC;
	hello->version = WIRE_VERSION;
	hello->page_size = x->page_size;
	hello->channel = channel;
	hello->session_id = x->session_id;
	hello->resume = x->resume;
	hello->token.data = (uint8_t *)x->token;
	hello->token.len = x->token_len;
}

bool hello_token_equal(const uint8_t *want, size_t want_len, const uint8_t *got, size_t got_len)
{
	volatile uint8_t diff = want_len != got_len;
	size_t i;

	/* No early exit: every expected byte is compared whatever came before it. */
	for (i = 0; i < want_len; i++)
		diff |= want[i] ^ (i < got_len ? got[i] : 0);
	return !diff;
}

static int check_token(const Wire__Hello *hello, const struct hello_expect *x, char *err,
		       size_t err_len)
{
	if (!x->token_len && !hello->token.len)
		return 0;
	if (!x->token_len)
		snprintf(err, err_len, "the peer sent a session token, but this end was given none");
	else if (!hello->token.len)
		snprintf(err, err_len, "no session token (this end requires one)");
	else if (!hello_token_equal(x->token, x->token_len, hello->token.data, hello->token.len))
		snprintf(err, err_len, "wrong session token");
	else
		return 0;
	return -EACCES;
}

static int check_session(const Wire__Hello *hello, const struct hello_expect *x, char *err,
			 size_t err_len)
{
	if (x->resume && !hello->resume)
		snprintf(err, err_len, "a new session, but this end awaits connections resuming "
			 "session %016" PRIx64, x->session_id);
	else if (!x->resume && hello->resume)
		snprintf(err, err_len, "a resume of session %016" PRIx64 ", but there is no session "
			 "to resume here", hello->session_id);
	else if (x->session_id && hello->session_id != x->session_id)
		snprintf(err, err_len, "session %016" PRIx64 ", this end %s session %016" PRIx64,
			 hello->session_id, x->resume ? "resumes" : "serves", x->session_id);
	else
		return 0;
	return -ESRCH;
}

int hello_check(const Wire__Hello *hello, const struct hello_expect *x, Wire__ErrorCode *code,
		char *err, size_t err_len)
{
	int ret = wire_check_hello(hello, x->page_size, x->channel, err, err_len);

	if (ret) {
		*code = ret == -EPROTONOSUPPORT ? WIRE__ERROR_CODE__ERROR_VERSION
						: WIRE__ERROR_CODE__ERROR_PROTOCOL;
		return ret;
	}
	/* The token before the session: a stranger learns nothing about the sessions here. */
	ret = check_token(hello, x, err, err_len);
	if (ret) {
		*code = WIRE__ERROR_CODE__ERROR_TOKEN;
		return ret;
	}
	ret = check_session(hello, x, err, err_len);
	if (ret)
		*code = WIRE__ERROR_CODE__ERROR_SESSION;
	return ret;
}

long hello_frame_missing(const uint8_t *buf, size_t have, Wire__ErrorCode *code, char *err,
			 size_t err_len)
{
	struct wire_frame_hdr hdr;
	int ret;

	if (have < WIRE_FRAME_HDR_SIZE)
		return (long)(WIRE_FRAME_HDR_SIZE - have);
	*code = WIRE__ERROR_CODE__ERROR_PROTOCOL;
	ret = wire_frame_hdr_decode(buf, &hdr);
	if (ret == -EPROTO) {
		snprintf(err, err_len, "not the pager protocol (a frame header of %02x %02x %02x %02x "
			 "%02x %02x %02x %02x)", buf[0], buf[1], buf[2], buf[3], buf[4], buf[5],
			 buf[6], buf[7]);
		return ret;
	}
	if (hdr.type != WIRE_HELLO) {
		snprintf(err, err_len, "expected a hello, got a %s message", wire_type_name(hdr.type));
		return -EPROTO;
	}
	if (ret) {
		snprintf(err, err_len, "a hello of %u bytes, at most %u", hdr.len, WIRE_MAX_HELLO_BODY);
		return ret;
	}
	return (long)(WIRE_FRAME_HDR_SIZE + hdr.len) - (long)have;
}

int hello_frame_check(const uint8_t *buf, size_t len, struct wire_arena *arena,
		      const struct hello_expect *x, Wire__Hello *out, Wire__ErrorCode *code,
		      char *err, size_t err_len)
{
	long missing = hello_frame_missing(buf, len, code, err, err_len);
	ProtobufCMessage *msg;
	int ret;

	if (missing < 0)
		return (int)missing;
	*code = WIRE__ERROR_CODE__ERROR_PROTOCOL;
	if (missing) {
		snprintf(err, err_len, "not a whole hello frame");
		return -EPROTO;
	}
	ret = wire_decode(arena, WIRE_HELLO, buf + WIRE_FRAME_HDR_SIZE, len - WIRE_FRAME_HDR_SIZE,
			  &msg);
	if (ret) {
		snprintf(err, err_len, "an undecodable hello (%s)", strerror(-ret));
		return -EPROTO;
	}
	ret = hello_check((const Wire__Hello *)msg, x, code, err, err_len);
	if (!ret)
		*out = *(const Wire__Hello *)msg;
	return ret;
}
