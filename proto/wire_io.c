// SPDX-License-Identifier: GPL-2.0-only
/* Blocking frame I/O, for handshakes and the source's request loop (not the pager's fast path). */
#include "wire.h"
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wire_send(int fd, enum wire_type type, const ProtobufCMessage *msg, int timeout_ms)
{
	unsigned char small[WIRE_FRAME_HDR_SIZE + 4096], *buf = small;
	size_t cap = WIRE_FRAME_HDR_SIZE + protobuf_c_message_get_packed_size(msg);
	ssize_t len;
	int ret;

	/* Most messages are small; a bitmap or a discard list may not be. */
	if (cap > sizeof(small)) {
		buf = malloc(cap);
		if (!buf)
			return -ENOMEM;
	} else {
		cap = sizeof(small);
	}
	len = wire_encode(type, msg, buf, cap);
	ret = len < 0 ? (int)len : net_write_full(fd, buf, (size_t)len, timeout_ms);
	if (buf != small)
		free(buf);
	return ret;
}

int wire_send_error_within(int fd, Wire__ErrorCode code, const char *text, int timeout_ms)
{
	Wire__Error msg = WIRE__ERROR__INIT;
	char clipped[WIRE_MAX_ERROR_TEXT + 1];

	snprintf(clipped, sizeof(clipped), "%s", text);
	msg.code = code;
	msg.text = clipped;
	return wire_send(fd, WIRE_ERROR, &msg.base, timeout_ms);
}

Wire__ErrorCode wire_error_code_for(int err)
{
	switch (err) {
	case -ETIMEDOUT: return WIRE__ERROR_CODE__ERROR_TIMEOUT;
	case -ERANGE: return WIRE__ERROR_CODE__ERROR_RANGE;
	case -EPROTONOSUPPORT: return WIRE__ERROR_CODE__ERROR_VERSION;
	default: return WIRE__ERROR_CODE__ERROR_PROTOCOL;
	}
}

int wire_send_error(int fd, Wire__ErrorCode code, const char *text)
{
	/* Best effort, and short: the peer may be gone, and we are failing anyway. */
	return wire_send_error_within(fd, code, text, 1000);
}

int wire_send_raw(int fd, enum wire_type type, const void *body, size_t len, int timeout_ms)
{
	uint64_t deadline = net_deadline(timeout_ms);
	unsigned char hdr[WIRE_FRAME_HDR_SIZE];
	int err;

	if (!wire_type_is_opaque(type))
		return -EINVAL;
	if (len > wire_max_body(type))
		return -EMSGSIZE;
	wire_frame_hdr_encode(hdr, type, (uint32_t)len);
	err = net_write_until(fd, hdr, sizeof(hdr), deadline);
	return err ? err : net_write_until(fd, body, len, deadline);
}

int wire_recv_raw_until(int fd, unsigned int *type, void *buf, size_t cap, size_t *len,
			uint64_t deadline_ns)
{
	unsigned char hdr_buf[WIRE_FRAME_HDR_SIZE];
	struct wire_frame_hdr hdr;
	int err;

	err = net_read_until(fd, hdr_buf, sizeof(hdr_buf), deadline_ns);
	if (err)
		return err;
	err = wire_frame_hdr_decode(hdr_buf, &hdr);
	if (err)
		return err;
	if (hdr.len > cap)
		return -EMSGSIZE;
	err = net_read_until(fd, buf, hdr.len, deadline_ns);
	if (err)
		return err;
	*type = hdr.type;
	*len = hdr.len;
	return 0;
}

int wire_recv_raw(int fd, unsigned int *type, void *buf, size_t cap, size_t *len, int timeout_ms)
{
	return wire_recv_raw_until(fd, type, buf, cap, len, net_deadline(timeout_ms));
}

int wire_recv(int fd, struct wire_arena *arena, unsigned int *type, ProtobufCMessage **msg,
	      int timeout_ms)
{
	unsigned char body[WIRE_ARENA_SIZE];
	size_t len;
	int err;

	err = wire_recv_raw(fd, type, body, sizeof(body), &len, timeout_ms);
	if (err)
		return err;
	return wire_decode(arena, *type, body, len, msg);
}
