/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Framing, bounded decoding and validation of the wire protocol (wire.proto).
 *
 * A frame is an 8-byte little-endian header { u32 body length; u16 type; u16 reserved = 0 }
 * followed by the protobuf body. A WIRE_PAGE frame's body is a PageHeader, and the raw page
 * bytes follow the body, outside it, so a receiver can install them from where they landed.
 * docs/protocol.md is the full specification.
 */
#ifndef PROTO_WIRE_H
#define PROTO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pb_arena.h"
#include "wire.pb-c.h"

#define WIRE_MAGIC 0x50474d31u /* "PGM1" */
#define WIRE_VERSION 5u
#define WIRE_FRAME_HDR_SIZE 8u
#define WIRE_MAX_REGIONS 64u
#define WIRE_MAX_REQUEST_PAGES 64u
#define WIRE_MAX_PAGE_RUN (256u * 1024u)
/*
 * v4: a HUGETLB region moves in whole 2 MiB pages: each request asks for one, each page
 * frame carries one (its destination installs it with one UFFDIO_COPY, as hugetlbfs needs).
 */
#define WIRE_HUGE_PAGE_SIZE (2u * 1024u * 1024u)
/* The largest page payload of any frame: a receive buffer holds one. */
#define WIRE_MAX_PAYLOAD WIRE_HUGE_PAGE_SIZE
#define WIRE_MAX_ERROR_TEXT 512u
#define WIRE_MAX_DISCARD_RANGES 1024u
#define WIRE_MAX_BITMAP_BYTES (32u * 1024u) /* one PresentBitmap: 262144 pages */
#define WIRE_MAX_TOKEN 128u /* Hello.token */
/* A hello's fixed fields take at most 55 bytes with their tags; then the token's. */
#define WIRE_MAX_HELLO_BODY (64u + 3u + WIRE_MAX_TOKEN)
/*
 * Frames whose body the owner of the connection decodes (VM config and state): the wire layer
 * caps them all at this, and each decoder checks its own tighter cap, declared beside it.
 */
#define WIRE_MAX_OPAQUE_BODY (256u * 1024u)

/* PageHeader.flags */
#define WIRE_PAGE_FLAG_ZERO 0x1u   /* every byte of the range is zero; no payload follows */
#define WIRE_PAGE_FLAG_DEMAND 0x2u /* the answer to a PageRequest */
#define WIRE_PAGE_FLAGS_KNOWN (WIRE_PAGE_FLAG_ZERO | WIRE_PAGE_FLAG_DEMAND)

enum wire_type {
	WIRE_HELLO = 1,
	WIRE_LAYOUT = 2,
	WIRE_PAGE_REQUEST = 3,
	WIRE_PAGE = 4,
	WIRE_PUSH_DONE = 5,
	WIRE_COMPLETE = 6,
	WIRE_ERROR = 7,
	WIRE_VM_CONFIG = 8,  /* body: VmConfig (migration.proto), decoded by vmm/migrate/ */
	WIRE_VM_STATE = 9,   /* body: VmState (vcpu_state.proto), decoded by vmm/state/ */
	WIRE_VCPU_STATE = 10, /* body: VcpuState, likewise */
	WIRE_DISCARD = 11,
	WIRE_SWITCHOVER = 12,
	WIRE_PRESENT_BITMAP = 13,
	WIRE_RESUME_READY = 14,
	WIRE_TYPE_END,
};

/* The memory layout as the protocol carries it (MemoryLayout), checked. */
enum wire_backing {
	WIRE_BACKING_ANON = WIRE__BACKING__BACKING_ANON,
	WIRE_BACKING_SHMEM = WIRE__BACKING__BACKING_SHMEM,
	WIRE_BACKING_HUGETLB = WIRE__BACKING__BACKING_HUGETLB,
};

struct wire_region {
	uint32_t id;
	uint64_t gpa;
	uint64_t size;
	enum wire_backing backing;
};

struct wire_layout {
	uint32_t n_regions;
	struct wire_region regions[WIRE_MAX_REGIONS];
};

/* The bytes a region moves in: its page, or a huge page for HUGETLB (v4). */
static inline uint32_t wire_region_unit(const struct wire_region *r, uint32_t page_size)
{
	return r->backing == WIRE_BACKING_HUGETLB ? WIRE_HUGE_PAGE_SIZE : page_size;
}

struct wire_frame_hdr {
	uint32_t len;
	uint16_t type;
};

const char *wire_type_name(unsigned int type);
/* Largest body a frame of this type may carry (0 for an unknown type). */
size_t wire_max_body(unsigned int type);

void wire_frame_hdr_encode(void *buf, enum wire_type type, uint32_t len);
/* -EPROTO for an unknown type or reserved bits, -EMSGSIZE for a body over the type's cap. */
int wire_frame_hdr_decode(const void *buf, struct wire_frame_hdr *hdr);

/* Header + body into buf. Returns the frame size or -EMSGSIZE. */
ssize_t wire_encode(enum wire_type type, const ProtobufCMessage *msg, void *buf, size_t cap);

/*
 * Bounded decoding: protobuf-c allocates from this arena only, so a hostile body can cost
 * at most its size. One arena holds one decoded message; wire_arena_reset() frees it.
 */
#define WIRE_ARENA_SIZE (64u * 1024u)
struct wire_arena {
	struct pb_arena pb;
	_Alignas(16) unsigned char mem[WIRE_ARENA_SIZE];
};
void wire_arena_init(struct wire_arena *arena);
void wire_arena_reset(struct wire_arena *arena);

/*
 * Frames whose body another module decodes (the VMM's config and state): the wire layer caps
 * their size and passes the bytes through.
 */
bool wire_type_is_opaque(unsigned int type);

/* Unpacks a body of the given type. 0, -EPROTO (malformed), -ENOMEM (over the arena). */
int wire_decode(struct wire_arena *arena, enum wire_type type, const void *body, size_t len,
		ProtobufCMessage **out);

/*
 * Meaning checks after unpacking. Each returns 0, or a negative errno with a sentence in
 * err (for the log and for the Error message sent back).
 */
int wire_check_hello(const Wire__Hello *hello, uint32_t page_size, Wire__Channel channel,
		     char *err, size_t err_len);
int wire_layout_from_msg(const Wire__MemoryLayout *msg, uint32_t page_size,
			 struct wire_layout *layout, char *err, size_t err_len);
void wire_layout_to_msg(const struct wire_layout *layout, Wire__MemoryLayout *msg,
			Wire__Region *region_storage, Wire__Region **region_ptrs);
int wire_check_page_request(const Wire__PageRequest *req, const struct wire_layout *layout,
			    uint32_t page_size, char *err, size_t err_len);
int wire_check_discard(const Wire__Discard *msg, const struct wire_layout *layout,
		       uint32_t page_size, char *err, size_t err_len);
int wire_check_page_header(const Wire__PageHeader *hdr, const struct wire_layout *layout,
			   uint32_t page_size, char *err, size_t err_len);
int wire_check_present_bitmap(const Wire__PresentBitmap *msg, const struct wire_layout *layout,
			      uint32_t page_size, char *err, size_t err_len);

/*
 * The checksum a PageHeader carries: XXH3-64 of the payload (len bytes, NULL and 0 for a zero
 * run) seeded with the header's region, offset, length and flags, so that it binds the bytes
 * to the address they are for.
 */
uint64_t wire_page_checksum(uint32_t region, uint64_t offset, uint32_t length, uint32_t flags,
			    const void *payload, size_t len);

/*
 * Blocking message I/O for handshakes and the source's request loop (timeout -1: none). A
 * timeout bounds the whole frame, header and body under one deadline: a peer that trickles
 * bytes cannot make a frame last longer than it.
 */
int wire_send(int fd, enum wire_type type, const ProtobufCMessage *msg, int timeout_ms);
/* An Error frame, best effort: within 1 s, or timeout_ms (0: only what fits the socket now). */
int wire_send_error(int fd, Wire__ErrorCode code, const char *text);
int wire_send_error_within(int fd, Wire__ErrorCode code, const char *text, int timeout_ms);
/* The Error code for a receiver's failure: TIMEOUT, RANGE, VERSION, else PROTOCOL. */
Wire__ErrorCode wire_error_code_for(int err);
/* Sends a frame whose body is already encoded (an opaque type). */
int wire_send_raw(int fd, enum wire_type type, const void *body, size_t len, int timeout_ms);
/*
 * Receives one frame's raw body into buf (at most cap bytes, else -EMSGSIZE unread): for
 * opaque types. *type and *len are set.
 */
int wire_recv_raw(int fd, unsigned int *type, void *buf, size_t cap, size_t *len, int timeout_ms);
/* The same under a deadline (CLOCK_MONOTONIC ns, 0: none) the caller shares with what follows. */
int wire_recv_raw_until(int fd, unsigned int *type, void *buf, size_t cap, size_t *len,
			uint64_t deadline_ns);
/*
 * Receives one frame. On return *type is set and *msg is decoded from arena (reset first).
 * A WIRE_PAGE frame's payload is left in the socket for the caller. An opaque frame is
 * refused (-EPROTO): use wire_recv_raw() where one may come.
 */
int wire_recv(int fd, struct wire_arena *arena, unsigned int *type, ProtobufCMessage **msg,
	      int timeout_ms);

#endif
