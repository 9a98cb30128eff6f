/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the vCPU and VM state codecs (state_codec.c, vm_state_codec.c); internal to them. */
#ifndef VMM_STATE_CODEC_INT_H
#define VMM_STATE_CODEC_INT_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pb_arena.h"
#include "state_codec.h"
#include "vcpu_state.pb-c.h"

/*
 * Unpacks one message of desc from buf (at most max bytes) into a fresh bounded arena; the caller
 * checks and copies it, then state_codec_release()s it. 0, or -EMSGSIZE, -ENOMEM, -EPROTO
 * with the reason in err (nothing to release then).
 */
int state_codec_unpack(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
		       size_t max, struct pb_arena *arena, ProtobufCMessage **out, char *err,
		       size_t err_len);
void state_codec_release(ProtobufCMessage *msg, struct pb_arena *arena);

static inline ProtobufCBinaryData bin(const void *data, size_t len)
{
	return (ProtobufCBinaryData){ .len = len, .data = (uint8_t *)data };
}

__attribute__((format(printf, 3, 4)))
static inline int reject(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	return -EPROTO;
}

/* A bytes field: exactly size bytes when its part is present, empty when not. */
static inline int check_bin(const ProtobufCBinaryData *b, bool present, size_t size,
			    const char *name, char *err, size_t err_len)
{
	if (present && b->len != size)
		return reject(err, err_len, "%s is %zu bytes, must be %zu", name, b->len, size);
	if (!present && b->len)
		return reject(err, err_len, "%s has %zu bytes but is not marked present", name,
			      b->len);
	return 0;
}

/* protobuf-c leaves an empty bytes field with data NULL: never memcpy from that. */
static inline void copy_bin(void *dst, const ProtobufCBinaryData *b)
{
	if (b->len)
		memcpy(dst, b->data, b->len);
}

#endif
