// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hello on both sockets, on connections already made: what both ends agree on before any
 * page moves. The layout that follows is in handshake_layout.c; admitting the right pair
 * among the connections to a listening socket, in admission.c.
 */
#include "pager.h"
#include "handshake.h"
#include "net.h"
#include "options.h"
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* The first version of struct pager_handshake ends with log_level: no caller has less. */
#define HANDSHAKE_MIN_SIZE (offsetof(struct pager_handshake, log_level) + sizeof(int))

void pager_handshake_defaults(struct pager_handshake *hs, size_t size)
{
	const struct pager_handshake defaults = {
		.size = (uint32_t)size,
		.timeout_ms = 10000,
		.log_level = PAGER_LOG_WARN,
	};

	options_fill(hs, size, &defaults, sizeof(defaults));
}

static uint64_t host_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);

	return pages > 0 && page_size > 0 ? (uint64_t)pages * (uint64_t)page_size : UINT64_MAX;
}

int handshake_init(struct handshake *h, const struct pager_handshake *hs, bool resume,
		   char *err, size_t err_len)
{
	struct pager_handshake in;
	int ret;

	pager_handshake_init(&in);
	if (hs) {
		ret = options_copy(&in, sizeof(in), hs, hs->size, HANDSHAKE_MIN_SIZE);
		if (ret) {
			snprintf(err, err_len, "handshake parameters of %u bytes: %s", hs->size,
				 ret == -EINVAL ? "too small" : "unknown fields set");
			return ret;
		}
	}
	if (in.token_len > PAGER_MAX_TOKEN || (in.token_len && !in.token)) {
		snprintf(err, err_len, "a session token of %u bytes (at most %u)", in.token_len,
			 PAGER_MAX_TOKEN);
		return -EINVAL;
	}
	memset(h, 0, sizeof(*h));
	if (in.token_len)
		memcpy(h->hello.token, in.token, in.token_len);
	h->hello.token_len = in.token_len;
	h->hello.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	h->hello.resume = resume;
	h->hello.session_id = in.session_id;
	h->timeout_ms = in.timeout_ms;
	h->max_memory = in.max_memory ? in.max_memory : host_memory();
	logger_init(&h->log, in.log_fn, in.log_opaque, in.log_level);
	return 0;
}

void handshake_store_session(const struct handshake *h, struct pager_handshake *hs)
{
	if (hs)
		hs->session_id = h->hello.session_id;
}

void handshake_refuse(int fd, Wire__ErrorCode code, const char *text, int timeout_ms)
{
	wire_send_error_within(fd, code, text, timeout_ms);
}

static int send_hello(int fd, const struct handshake *h, Wire__Channel channel)
{
	Wire__Hello hello;

	hello_build(&hello, &h->hello, channel);
	return wire_send(fd, WIRE_HELLO, &hello.base, h->timeout_ms);
}

/* The peer's Error instead of a hello: its words become ours. */
static int peer_refused(const uint8_t *body, size_t len, char *err, size_t err_len)
{
	struct wire_arena *arena = malloc(sizeof(*arena));
	ProtobufCMessage *msg;

	if (arena) {
		wire_arena_init(arena);
		if (!wire_decode(arena, WIRE_ERROR, body, len, &msg)) {
			const Wire__Error *e = (const Wire__Error *)msg;

			snprintf(err, err_len, "the peer refused the connection: %s",
				 e->text ? e->text : "");
			free(arena);
			return -ECONNREFUSED;
		}
		free(arena);
	}
	snprintf(err, err_len, "the peer refused the connection (an undecodable error message)");
	return -ECONNREFUSED;
}

/*
 * One hello under one deadline. Anything but a good hello is refused with an Error frame
 * naming it (best effort), except a peer that is gone or refused us itself.
 */
static int recv_hello(int fd, struct wire_arena *arena, const struct handshake *h,
		      Wire__Channel expect, Wire__Hello *out, char *err, size_t err_len)
{
	uint8_t frame[WIRE_FRAME_HDR_SIZE + 16 + WIRE_MAX_ERROR_TEXT];
	uint64_t deadline = net_deadline(h->timeout_ms);
	struct hello_expect x = h->hello;
	struct wire_frame_hdr hdr;
	Wire__ErrorCode code;
	size_t have = 0;
	long missing;
	int ret;

	x.channel = expect;
	while ((missing = hello_frame_missing(frame, have, &code, err, err_len)) > 0) {
		ret = net_read_until(fd, frame + have, (size_t)missing, deadline);
		if (ret == -ETIMEDOUT) {
			snprintf(err, err_len, "no hello within %d ms", h->timeout_ms);
			handshake_refuse(fd, WIRE__ERROR_CODE__ERROR_TIMEOUT, err, 1000);
			return ret;
		}
		if (ret) {
			snprintf(err, err_len, "no hello from the peer: %s", strerror(-ret));
			return ret;
		}
		have += (size_t)missing;
	}
	/* A peer that refuses us sends an Error where its hello would be. */
	if (missing < 0 && !wire_frame_hdr_decode(frame, &hdr) && hdr.type == WIRE_ERROR) {
		ret = net_read_until(fd, frame + have, hdr.len, deadline);
		if (ret) {
			snprintf(err, err_len, "the peer refused the connection: %s", strerror(-ret));
			return -ECONNREFUSED;
		}
		return peer_refused(frame + have, hdr.len, err, err_len);
	}
	ret = missing < 0 ? (int)missing
			  : hello_frame_check(frame, have, arena, &x, out, &code, err, err_len);
	if (ret) {
		char text[WIRE_MAX_ERROR_TEXT];

		snprintf(text, sizeof(text), "hello refused: %s", err);
		handshake_refuse(fd, code, text, 1000);
		snprintf(err, err_len, "%s", text);
	}
	return ret;
}

static int refuse_both(int demand_fd, int push_fd, Wire__ErrorCode code, int ret, char *err)
{
	handshake_refuse(demand_fd, code, err, 1000);
	handshake_refuse(push_fd, code, err, 1000);
	return ret;
}

/* The demand socket's channel: DEMAND beside a push socket, BOTH when it is the only one. */
static Wire__Channel demand_channel(int push_fd)
{
	return push_fd < 0 ? WIRE__CHANNEL__CHANNEL_BOTH : WIRE__CHANNEL__CHANNEL_DEMAND;
}

static int hellos_connected(int demand_fd, int push_fd, struct handshake *h,
			    struct wire_arena *arena, char *err, size_t err_len)
{
	struct hello_expect *x = &h->hello;
	Wire__Hello answer;
	int ret;

	if (!x->session_id && getrandom(&x->session_id, sizeof(x->session_id), 0) !=
				      sizeof(x->session_id))
		x->session_id = (uint64_t)getpid() << 32 | (uint64_t)time(NULL);
	ret = send_hello(demand_fd, h, demand_channel(push_fd));
	if (!ret && push_fd >= 0)
		ret = send_hello(push_fd, h, WIRE__CHANNEL__CHANNEL_PUSH);
	if (ret) {
		snprintf(err, err_len, "sending hello: %s", strerror(-ret));
		return ret;
	}
	/* The answers must name our session (hello_check() with it set). */
	ret = recv_hello(demand_fd, arena, h, demand_channel(push_fd), &answer, err, err_len);
	if (!ret && push_fd >= 0)
		ret = recv_hello(push_fd, arena, h, WIRE__CHANNEL__CHANNEL_PUSH, &answer, err,
				 err_len);
	return ret;
}

/* One connection given: its hello must say it is the only one (BOTH). */
static int hello_accepted_single(int demand_fd, struct handshake *h, struct wire_arena *arena,
				 char *err, size_t err_len)
{
	Wire__Hello hello;
	int ret;

	ret = recv_hello(demand_fd, arena, h, WIRE__CHANNEL__CHANNEL_BOTH, &hello, err, err_len);
	if (ret)
		return ret;
	h->hello.session_id = hello.session_id;
	return handshake_answer(demand_fd, -1, h, err, err_len);
}

static int hellos_accepted(int *demand_fd, int *push_fd, struct handshake *h,
			   struct wire_arena *arena, char *err, size_t err_len)
{
	Wire__Hello first, second;
	int ret, tmp;

	if (*push_fd < 0)
		return hello_accepted_single(*demand_fd, h, arena, err, err_len);
	ret = recv_hello(*demand_fd, arena, h, WIRE__CHANNEL__CHANNEL_UNSPECIFIED, &first, err,
			 err_len);
	if (!ret)
		ret = recv_hello(*push_fd, arena, h, WIRE__CHANNEL__CHANNEL_UNSPECIFIED, &second,
				 err, err_len);
	if (ret)
		return ret;
	if (first.channel == second.channel || first.channel == WIRE__CHANNEL__CHANNEL_BOTH ||
	    second.channel == WIRE__CHANNEL__CHANNEL_BOTH || first.session_id != second.session_id) {
		snprintf(err, err_len, "the two connections do not form one session "
			 "(channels %d and %d, sessions %llx and %llx)", first.channel,
			 second.channel, (unsigned long long)first.session_id,
			 (unsigned long long)second.session_id);
		return refuse_both(*demand_fd, *push_fd, WIRE__ERROR_CODE__ERROR_SESSION, -EPROTO,
				   err);
	}
	if (first.channel == WIRE__CHANNEL__CHANNEL_PUSH) {
		tmp = *demand_fd;
		*demand_fd = *push_fd;
		*push_fd = tmp;
	}
	h->hello.session_id = first.session_id;
	return handshake_answer(*demand_fd, *push_fd, h, err, err_len);
}

int handshake_answer(int demand_fd, int push_fd, const struct handshake *h, char *err,
		     size_t err_len)
{
	int ret = send_hello(demand_fd, h, demand_channel(push_fd));

	if (!ret && push_fd >= 0)
		ret = send_hello(push_fd, h, WIRE__CHANNEL__CHANNEL_PUSH);
	if (ret)
		snprintf(err, err_len, "sending hello: %s", strerror(-ret));
	return ret;
}

int handshake_hellos(int *demand_fd, int *push_fd, bool connected, struct handshake *h,
		     char *err, size_t err_len)
{
	struct wire_arena *arena = malloc(sizeof(*arena));
	int ret;

	if (!arena) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	wire_arena_init(arena);
	ret = connected ? hellos_connected(*demand_fd, *push_fd, h, arena, err, err_len)
			: hellos_accepted(demand_fd, push_fd, h, arena, err, err_len);
	free(arena);
	return ret;
}
