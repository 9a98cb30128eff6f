// SPDX-License-Identifier: GPL-2.0-only
/* Hello on both sockets, then the memory layout: what both ends agree on before any page moves. */
#include "pager.h"
#include "handshake.h"
#include "layout_wire.h"
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static int send_hello(int fd, Wire__Channel channel, uint64_t session_id, bool resume,
		      int timeout_ms)
{
	Wire__Hello hello = WIRE__HELLO__INIT;

	hello.magic = WIRE_MAGIC;
	hello.version = WIRE_VERSION;
	hello.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	hello.channel = channel;
	hello.session_id = session_id;
	hello.resume = resume;
	return wire_send(fd, WIRE_HELLO, &hello.base, timeout_ms);
}

/* Receives a hello; an Error from the peer instead becomes our error text. */
static int recv_hello(int fd, struct wire_arena *arena, Wire__Channel expect, Wire__Hello *out,
		      int timeout_ms, char *err, size_t err_len)
{
	ProtobufCMessage *msg;
	unsigned int type;
	int ret;

	ret = wire_recv(fd, arena, &type, &msg, timeout_ms);
	if (ret) {
		snprintf(err, err_len, "no hello from the peer: %s", strerror(-ret));
		return ret;
	}
	if (type == WIRE_ERROR) {
		const Wire__Error *e = (const Wire__Error *)msg;

		snprintf(err, err_len, "the peer refused the connection: %s", e->text ? e->text : "");
		return -ECONNREFUSED;
	}
	if (type != WIRE_HELLO) {
		snprintf(err, err_len, "expected a hello, got a %s message", wire_type_name(type));
		wire_send_error(fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, err);
		return -EPROTO;
	}
	ret = wire_check_hello((const Wire__Hello *)msg, (uint32_t)sysconf(_SC_PAGESIZE), expect,
			       err, err_len);
	if (ret) {
		char text[WIRE_MAX_ERROR_TEXT];

		snprintf(text, sizeof(text), "hello rejected: %s", err);
		wire_send_error(fd, ret == -EPROTONOSUPPORT ? WIRE__ERROR_CODE__ERROR_VERSION
							    : WIRE__ERROR_CODE__ERROR_PROTOCOL,
				text);
		snprintf(err, err_len, "%s", text);
		return ret;
	}
	*out = *(const Wire__Hello *)msg;
	return 0;
}

/*
 * Both sockets' hellos. The connecting side speaks first and names the channels; the
 * accepting side swaps its sockets to match and echoes.
 */
int handshake_hellos(int *demand_fd, int *push_fd, bool connected, uint64_t *session_id,
		     bool resume, int timeout_ms, char *err, size_t err_len)
{
	struct wire_arena *arena = malloc(sizeof(*arena));
	Wire__Hello first, second;
	int ret, tmp;

	if (!arena)
		return -ENOMEM;
	wire_arena_init(arena);
	if (connected) {
		if (!*session_id && getrandom(session_id, sizeof(*session_id), 0) != sizeof(*session_id))
			*session_id = (uint64_t)getpid() << 32 | (uint64_t)time(NULL);
		ret = send_hello(*demand_fd, WIRE__CHANNEL__CHANNEL_DEMAND, *session_id, resume, timeout_ms);
		if (!ret)
			ret = send_hello(*push_fd, WIRE__CHANNEL__CHANNEL_PUSH, *session_id, resume, timeout_ms);
		if (ret) {
			snprintf(err, err_len, "sending hello: %s", strerror(-ret));
			goto out;
		}
		ret = recv_hello(*demand_fd, arena, WIRE__CHANNEL__CHANNEL_DEMAND, &first, timeout_ms,
				 err, err_len);
		if (!ret)
			ret = recv_hello(*push_fd, arena, WIRE__CHANNEL__CHANNEL_PUSH, &second,
					 timeout_ms, err, err_len);
		if (!ret && (first.session_id != *session_id || second.session_id != *session_id)) {
			snprintf(err, err_len, "the peer answered with another session id");
			ret = -EPROTO;
		}
		goto out;
	}
	ret = recv_hello(*demand_fd, arena, WIRE__CHANNEL__CHANNEL_UNSPECIFIED, &first, timeout_ms,
			 err, err_len);
	if (!ret)
		ret = recv_hello(*push_fd, arena, WIRE__CHANNEL__CHANNEL_UNSPECIFIED, &second,
				 timeout_ms, err, err_len);
	if (ret)
		goto out;
	if (first.resume != resume || second.resume != resume) {
		snprintf(err, err_len, resume ? "expected connections resuming session %llx, got a new "
					       "session" : "no session to resume here",
			 (unsigned long long)*session_id);
		wire_send_error(*demand_fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, err);
		wire_send_error(*push_fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, err);
		ret = -EPROTO;
		goto out;
	}
	if (first.channel == second.channel || first.session_id != second.session_id ||
	    (*session_id && first.session_id != *session_id)) {
		snprintf(err, err_len, "the two connections do not form one session "
			 "(channels %d and %d, sessions %llx and %llx)", first.channel,
			 second.channel, (unsigned long long)first.session_id,
			 (unsigned long long)second.session_id);
		wire_send_error(*demand_fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, err);
		wire_send_error(*push_fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, err);
		ret = -EPROTO;
		goto out;
	}
	if (first.channel == WIRE__CHANNEL__CHANNEL_PUSH) {
		tmp = *demand_fd;
		*demand_fd = *push_fd;
		*push_fd = tmp;
	}
	*session_id = first.session_id;
	ret = send_hello(*demand_fd, WIRE__CHANNEL__CHANNEL_DEMAND, *session_id, resume, timeout_ms);
	if (!ret)
		ret = send_hello(*push_fd, WIRE__CHANNEL__CHANNEL_PUSH, *session_id, resume, timeout_ms);
	if (ret)
		snprintf(err, err_len, "sending hello: %s", strerror(-ret));
out:
	free(arena);
	return ret;
}

int pager_handshake_source(int *demand_fd, int *push_fd, bool connected, uint64_t *session_id,
			   const struct pager_layout *layout, int timeout_ms, char *err,
			   size_t err_len)
{
	Wire__Region storage[WIRE_MAX_REGIONS], *ptrs[WIRE_MAX_REGIONS];
	struct wire_layout wl;
	Wire__MemoryLayout msg;
	uint64_t any_session = 0;
	int ret;

	ret = handshake_hellos(demand_fd, push_fd, connected, session_id ? session_id : &any_session,
			       false, timeout_ms, err, err_len);
	if (ret)
		return ret;
	layout_to_wire(layout, &wl);
	wire_layout_to_msg(&wl, &msg, storage, ptrs);
	ret = wire_send(*demand_fd, WIRE_LAYOUT, &msg.base, timeout_ms);
	if (ret)
		snprintf(err, err_len, "sending the memory layout: %s", strerror(-ret));
	return ret;
}

int pager_handshake_dest(int *demand_fd, int *push_fd, bool connected, uint64_t *session_id,
			 struct pager_layout *layout, int timeout_ms, char *err, size_t err_len)
{
	struct wire_layout wl;
	struct wire_arena *arena;
	ProtobufCMessage *msg;
	unsigned int type;
	uint64_t any_session = 0;
	int ret;

	ret = handshake_hellos(demand_fd, push_fd, connected, session_id ? session_id : &any_session,
			       false, timeout_ms, err, err_len);
	if (ret)
		return ret;
	arena = malloc(sizeof(*arena));
	if (!arena)
		return -ENOMEM;
	wire_arena_init(arena);
	ret = wire_recv(*demand_fd, arena, &type, &msg, timeout_ms);
	if (ret) {
		snprintf(err, err_len, "no memory layout from the source: %s", strerror(-ret));
	} else if (type != WIRE_LAYOUT) {
		snprintf(err, err_len, "expected the memory layout, got a %s message",
			 wire_type_name(type));
		ret = -EPROTO;
	} else {
		ret = wire_layout_from_msg((const Wire__MemoryLayout *)msg,
					   (uint32_t)sysconf(_SC_PAGESIZE), &wl, err, err_len);
		if (!ret)
			layout_from_wire(&wl, layout);
		if (ret) {
			char text[WIRE_MAX_ERROR_TEXT];

			snprintf(text, sizeof(text), "memory layout rejected: %s", err);
			wire_send_error(*demand_fd, WIRE__ERROR_CODE__ERROR_LAYOUT, text);
			snprintf(err, err_len, "%s", text);
		}
	}
	free(arena);
	return ret;
}
