// SPDX-License-Identifier: GPL-2.0-only
/* Blocking frame I/O, for handshakes and the source's request loop (not the pager's fast path). */
#include "wire.h"
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int wire_send(int fd, enum wire_type type, const ProtobufCMessage *msg, int timeout_ms)
{
	unsigned char buf[WIRE_FRAME_HDR_SIZE + 4096];
	ssize_t len = wire_encode(type, msg, buf, sizeof(buf));

	if (len < 0)
		return (int)len;
	return net_write_full(fd, buf, (size_t)len, timeout_ms);
}

int wire_send_error(int fd, Wire__ErrorCode code, const char *text)
{
	Wire__Error msg = WIRE__ERROR__INIT;
	char clipped[WIRE_MAX_ERROR_TEXT + 1];

	/* Best effort, and short: the peer may be gone, and we are failing anyway. */
	snprintf(clipped, sizeof(clipped), "%s", text);
	msg.code = code;
	msg.text = clipped;
	return wire_send(fd, WIRE_ERROR, &msg.base, 1000);
}

int wire_recv(int fd, struct wire_arena *arena, unsigned int *type, ProtobufCMessage **msg,
	      int timeout_ms)
{
	unsigned char hdr_buf[WIRE_FRAME_HDR_SIZE], body[WIRE_ARENA_SIZE];
	struct wire_frame_hdr hdr;
	int err;

	err = net_read_full(fd, hdr_buf, sizeof(hdr_buf), timeout_ms);
	if (err)
		return err;
	err = wire_frame_hdr_decode(hdr_buf, &hdr);
	if (err)
		return err;
	err = net_read_full(fd, body, hdr.len, timeout_ms);
	if (err)
		return err;
	*type = hdr.type;
	return wire_decode(arena, hdr.type, body, hdr.len, msg);
}
