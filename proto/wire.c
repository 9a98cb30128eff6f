// SPDX-License-Identifier: GPL-2.0-only
#include "wire.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

static const struct {
	const char *name;
	size_t max_body;
	const ProtobufCMessageDescriptor *desc;
} wire_types[WIRE_TYPE_END] = {
	[WIRE_HELLO] = { "hello", WIRE_MAX_HELLO_BODY, &wire__hello__descriptor },
	[WIRE_LAYOUT] = { "memory-layout", 64 * 48, &wire__memory_layout__descriptor },
	[WIRE_PAGE_REQUEST] = { "page-request", 48, &wire__page_request__descriptor },
	[WIRE_PAGE] = { "page", 64, &wire__page_header__descriptor },
	[WIRE_PUSH_DONE] = { "push-done", 16, &wire__push_done__descriptor },
	[WIRE_COMPLETE] = { "complete", 32, &wire__complete__descriptor },
	[WIRE_ERROR] = { "error", 16 + WIRE_MAX_ERROR_TEXT, &wire__error__descriptor },
	/* The owner's decoders hold their own, tighter caps. */
	[WIRE_VM_CONFIG] = { "vm-config", WIRE_MAX_OPAQUE_BODY, NULL },
	[WIRE_VM_STATE] = { "vm-state", WIRE_MAX_OPAQUE_BODY, NULL },
	[WIRE_VCPU_STATE] = { "vcpu-state", WIRE_MAX_OPAQUE_BODY, NULL },
	/* 1024 ranges of at most 11 + 6 bytes, and framing. */
	[WIRE_DISCARD] = { "discard", 20 * 1024, &wire__discard__descriptor },
	[WIRE_SWITCHOVER] = { "switchover", 32, &wire__switchover__descriptor },
	[WIRE_PRESENT_BITMAP] = { "present-bitmap", 32 + WIRE_MAX_BITMAP_BYTES,
				  &wire__present_bitmap__descriptor },
	[WIRE_RESUME_READY] = { "resume-ready", 16, &wire__resume_ready__descriptor },
};

bool wire_type_is_opaque(unsigned int type)
{
	return wire_max_body(type) && !wire_types[type].desc;
}

const char *wire_type_name(unsigned int type)
{
	if (type == 0 || type >= WIRE_TYPE_END)
		return "unknown";
	return wire_types[type].name;
}

size_t wire_max_body(unsigned int type)
{
	if (type == 0 || type >= WIRE_TYPE_END)
		return 0;
	return wire_types[type].max_body;
}

void wire_frame_hdr_encode(void *buf, enum wire_type type, uint32_t len)
{
	uint32_t le_len = htole32(len);
	uint16_t le_type = htole16((uint16_t)type), reserved = 0;

	memcpy(buf, &le_len, 4);
	memcpy((char *)buf + 4, &le_type, 2);
	memcpy((char *)buf + 6, &reserved, 2);
}

int wire_frame_hdr_decode(const void *buf, struct wire_frame_hdr *hdr)
{
	uint32_t len;
	uint16_t type, reserved;

	memcpy(&len, buf, 4);
	memcpy(&type, (const char *)buf + 4, 2);
	memcpy(&reserved, (const char *)buf + 6, 2);
	hdr->len = le32toh(len);
	hdr->type = le16toh(type);
	if (reserved || !wire_max_body(hdr->type))
		return -EPROTO;
	if (hdr->len > wire_max_body(hdr->type))
		return -EMSGSIZE;
	return 0;
}

ssize_t wire_encode(enum wire_type type, const ProtobufCMessage *msg, void *buf, size_t cap)
{
	size_t len = protobuf_c_message_get_packed_size(msg);

	if (!wire_max_body(type) || wire_type_is_opaque(type) ||
	    msg->descriptor != wire_types[type].desc)
		return -EINVAL;
	if (len > wire_max_body(type) || WIRE_FRAME_HDR_SIZE + len > cap)
		return -EMSGSIZE;
	wire_frame_hdr_encode(buf, type, (uint32_t)len);
	protobuf_c_message_pack(msg, (uint8_t *)buf + WIRE_FRAME_HDR_SIZE);
	return (ssize_t)(WIRE_FRAME_HDR_SIZE + len);
}

void wire_arena_init(struct wire_arena *arena)
{
	pb_arena_init(&arena->pb, arena->mem, sizeof(arena->mem));
}

void wire_arena_reset(struct wire_arena *arena)
{
	pb_arena_reset(&arena->pb);
}

int wire_decode(struct wire_arena *arena, enum wire_type type, const void *body, size_t len,
		ProtobufCMessage **out)
{
	if (!wire_max_body(type) || wire_type_is_opaque(type))
		return -EPROTO;
	if (len > wire_max_body(type))
		return -EMSGSIZE;
	return pb_arena_unpack(&arena->pb, wire_types[type].desc, body, len, out);
}
