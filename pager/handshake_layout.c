// SPDX-License-Identifier: GPL-2.0-only
/*
 * Public API, the handshake's second part: the memory layout, from the source on the demand
 * socket. The destination checks it before anything is allocated for it, against the
 * protocol's rules and against the memory it accepts (pager_handshake.max_memory).
 */
#include "pager.h"
#include "handshake.h"
#include "layout_wire.h"
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pager_send_layout(int demand_fd, const struct pager_handshake *hs,
		      const struct pager_layout *layout, char *err, size_t err_len)
{
	Wire__Region storage[WIRE_MAX_REGIONS], *ptrs[WIRE_MAX_REGIONS];
	struct handshake h;
	struct wire_layout wl;
	Wire__MemoryLayout msg;
	int ret;

	ret = handshake_init(&h, hs, false, err, err_len);
	if (ret)
		return ret;
	layout_to_wire(layout, &wl);
	wire_layout_to_msg(&wl, &msg, storage, ptrs);
	ret = wire_send(demand_fd, WIRE_LAYOUT, &msg.base, h.timeout_ms);
	if (ret)
		snprintf(err, err_len, "sending the memory layout: %s", strerror(-ret));
	return ret;
}

/* "32 GiB", "1.5 MiB": sizes an operator reads at a glance (exact bytes go alongside). */
static void format_size(uint64_t bytes, char *out, size_t len)
{
	static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(out, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* A layout within the protocol's rules may still claim more memory than this end gives. */
static int check_memory(const struct wire_layout *wl, uint64_t max_memory, char *err,
			size_t err_len)
{
	char total_text[32], max_text[32];
	uint64_t total = 0;
	uint32_t i;

	for (i = 0; i < wl->n_regions; i++)
		if (__builtin_add_overflow(total, wl->regions[i].size, &total))
			total = UINT64_MAX;
	if (total <= max_memory)
		return 0;
	format_size(total, total_text, sizeof(total_text));
	format_size(max_memory, max_text, sizeof(max_text));
	snprintf(err, err_len, "%s (%" PRIu64 " bytes) in %u region%s, more than the %s (%" PRIu64
		 " bytes) this destination accepts", total_text, total, wl->n_regions,
		 wl->n_regions == 1 ? "" : "s", max_text, max_memory);
	return -E2BIG;
}

/* One message where the layout should be; what comes instead is refused and named. */
static int recv_layout_msg(int fd, const struct handshake *h, struct wire_arena *arena,
			   const Wire__MemoryLayout **out, char *err, size_t err_len)
{
	uint8_t body[WIRE_FRAME_HDR_SIZE + 64 * 48];
	ProtobufCMessage *msg;
	unsigned int type;
	size_t len;
	int ret;

	ret = wire_recv_raw(fd, &type, body, sizeof(body), &len, h->timeout_ms);
	if (ret == -ETIMEDOUT) {
		snprintf(err, err_len, "no memory layout within %d ms", h->timeout_ms);
		handshake_refuse(fd, WIRE__ERROR_CODE__ERROR_TIMEOUT, err, 1000);
		return ret;
	}
	if (ret == -EPROTO || ret == -EMSGSIZE) {
		snprintf(err, err_len, "expected the memory layout, got an undecodable frame (%s)",
			 strerror(-ret));
		handshake_refuse(fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, err, 1000);
		return -EPROTO;
	}
	if (ret) {
		snprintf(err, err_len, "no memory layout from the source: %s", strerror(-ret));
		return ret;
	}
	if (type != WIRE_LAYOUT && type != WIRE_ERROR) {
		snprintf(err, err_len, "expected the memory layout, got a %s message",
			 wire_type_name(type));
		handshake_refuse(fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, err, 1000);
		return -EPROTO;
	}
	if (wire_decode(arena, type, body, len, &msg)) {
		snprintf(err, err_len, "an undecodable %s message where the memory layout was "
			 "expected", wire_type_name(type));
		handshake_refuse(fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, err, 1000);
		return -EPROTO;
	}
	if (type == WIRE_ERROR) {
		const Wire__Error *e = (const Wire__Error *)msg;

		snprintf(err, err_len, "the source failed: %s", e->text ? e->text : "");
		return -ECONNABORTED;
	}
	*out = (const Wire__MemoryLayout *)msg;
	return 0;
}

int pager_receive_layout(int demand_fd, const struct pager_handshake *hs,
			 struct pager_layout *layout, char *err, size_t err_len)
{
	const Wire__MemoryLayout *msg;
	struct wire_arena *arena;
	struct handshake h;
	struct wire_layout wl;
	char why[WIRE_MAX_ERROR_TEXT];
	int ret;

	ret = handshake_init(&h, hs, false, err, err_len);
	if (ret)
		return ret;
	arena = malloc(sizeof(*arena));
	if (!arena) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	wire_arena_init(arena);
	ret = recv_layout_msg(demand_fd, &h, arena, &msg, err, err_len);
	if (!ret) {
		ret = wire_layout_from_msg(msg, h.hello.page_size, &wl, why, sizeof(why));
		if (!ret)
			ret = check_memory(&wl, h.max_memory, why, sizeof(why));
		if (ret) {
			snprintf(err, err_len, "memory layout refused: %s", why);
			handshake_refuse(demand_fd, WIRE__ERROR_CODE__ERROR_LAYOUT, err, 1000);
		} else {
			layout_from_wire(&wl, layout);
		}
	}
	free(arena);
	return ret;
}

int pager_handshake_source(int *demand_fd, int *push_fd, bool connected,
			   struct pager_handshake *hs, const struct pager_layout *layout, char *err,
			   size_t err_len)
{
	struct handshake h;
	int ret;

	ret = handshake_init(&h, hs, false, err, err_len);
	if (!ret)
		ret = handshake_hellos(demand_fd, push_fd, connected, &h, err, err_len);
	if (ret)
		return ret;
	handshake_store_session(&h, hs);
	return pager_send_layout(*demand_fd, hs, layout, err, err_len);
}

int pager_handshake_dest(int *demand_fd, int *push_fd, bool connected,
			 struct pager_handshake *hs, struct pager_layout *layout, char *err,
			 size_t err_len)
{
	struct handshake h;
	int ret;

	ret = handshake_init(&h, hs, false, err, err_len);
	if (!ret)
		ret = handshake_hellos(demand_fd, push_fd, connected, &h, err, err_len);
	if (ret)
		return ret;
	handshake_store_session(&h, hs);
	return pager_receive_layout(*demand_fd, hs, layout, err, err_len);
}
