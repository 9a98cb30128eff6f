// SPDX-License-Identifier: GPL-2.0-only
/*
 * Public API, recovery on the source: the hellos resuming the session, then the destination's
 * list of the pages it has. The sent marks become exactly that list: a page it lacks is sent
 * again by the push (or on demand), a page it has never is.
 */
#include "source_internal.h"
#include "handshake.h"
#include "layout_wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t count_bits(const uint64_t *map, uint64_t n_bits)
{
	uint64_t w, set = 0;

	for (w = 0; w < (n_bits + 63) / 64; w++)
		set += (uint64_t)__builtin_popcountll(__atomic_load_n(&map[w], __ATOMIC_RELAXED));
	return set;
}

/* The bits of one PresentBitmap into the region's sent marks; returns how many are set. */
static uint64_t apply_bitmap(struct source_region *r, const Wire__PresentBitmap *msg)
{
	uint64_t i, page, set = 0;

	for (i = 0; i < (uint64_t)msg->bits.len * 8; i++) {
		page = msg->first_page + i;
		if (page >= r->n_pages)
			break; /* the spare bits of the last byte */
		if (msg->bits.data[i / 8] & (1u << (i % 8))) {
			test_and_set(r->sent, page);
			set++;
		}
	}
	return set;
}

/*
 * A hugetlb region's pages come and go in whole 2 MiB pages: one the bitmaps gave in part (no
 * destination that follows the protocol says so) is taken as absent, and sent again whole.
 */
static void whole_units_only(struct source_region *r)
{
	uint64_t page, w;

	if (r->unit_pages == 1)
		return;
	for (page = 0; page < r->n_pages; page += r->unit_pages)
		for (w = page / 64; w < (page + r->unit_pages) / 64; w++)
			if (__atomic_load_n(&r->sent[w], __ATOMIC_RELAXED) != ~0ull) {
				mark_unit(r->sent, page, r->unit_pages, false);
				break;
			}
}

/* PresentBitmap frames up to ResumeReady, whose count must be what they said. */
static int receive_present(struct pager_source *src, int fd, int timeout_ms, char *err,
			   size_t err_len)
{
	struct wire_arena *arena = malloc(sizeof(*arena));
	struct pager_layout public_layout;
	struct wire_layout layout;
	ProtobufCMessage *msg;
	uint64_t set = 0;
	unsigned int type;
	int ret;

	if (!arena)
		return -ENOMEM;
	wire_arena_init(arena);
	pager_source_layout(src, &public_layout);
	layout_to_wire(&public_layout, &layout);
	for (;;) {
		ret = wire_recv(fd, arena, &type, &msg, timeout_ms);
		if (ret) {
			snprintf(err, err_len, "receiving the pages the destination has: %s",
				 strerror(-ret));
			break;
		}
		if (type == WIRE_RESUME_READY) {
			const Wire__ResumeReady *ready = (const Wire__ResumeReady *)msg;

			if (ready->pages_present != set) {
				snprintf(err, err_len, "the destination says it has %llu pages, its "
					 "bitmaps say %llu", (unsigned long long)ready->pages_present,
					 (unsigned long long)set);
				ret = -EPROTO;
			}
			break;
		}
		if (type != WIRE_PRESENT_BITMAP) {
			snprintf(err, err_len, "expected the pages the destination has, got a %s "
				 "message", wire_type_name(type));
			ret = -EPROTO;
			break;
		}
		ret = wire_check_present_bitmap((const Wire__PresentBitmap *)msg, &layout,
						src->page_size, err, err_len);
		if (ret)
			break;
		set += apply_bitmap(&src->regions[((const Wire__PresentBitmap *)msg)->region],
				    (const Wire__PresentBitmap *)msg);
	}
	if (ret == -EPROTO || ret == -EINVAL || ret == -ERANGE || ret == -EMSGSIZE)
		wire_send_error(fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, err);
	else if (ret == -ETIMEDOUT)
		wire_send_error(fd, WIRE__ERROR_CODE__ERROR_TIMEOUT, err);
	free(arena);
	return ret;
}

int pager_source_resume(struct pager_source *src, int *demand_fd, int *push_fd, bool connected,
			const struct pager_handshake *hs, char *err, size_t err_len)
{
	uint64_t was_sent = 0, now_sent = 0, words;
	struct handshake h;
	uint32_t i;
	int ret;

	ret = handshake_init(&h, hs, true, err, err_len);
	if (!ret && !h.hello.session_id) {
		snprintf(err, err_len, "no session to resume (session id 0)");
		ret = -EINVAL;
	}
	if (!ret)
		ret = handshake_hellos(demand_fd, push_fd, connected, &h, err, err_len);
	if (ret)
		return ret;
	/* What the destination has is all that counts now: requests and sends start afresh. */
	for (i = 0; i < src->n_regions; i++) {
		struct source_region *r = &src->regions[i];

		words = (r->n_pages + 63) / 64;
		was_sent += count_bits(r->sent, r->n_pages);
		memset(r->sent, 0, words * sizeof(uint64_t));
		memset(r->requested, 0, words * sizeof(uint64_t));
	}
	ret = receive_present(src, *demand_fd, h.timeout_ms, err, err_len);
	if (ret)
		return ret;
	for (i = 0; i < src->n_regions; i++) {
		whole_units_only(&src->regions[i]);
		now_sent += count_bits(src->regions[i].sent, src->regions[i].n_pages);
	}
	stat_add(&src->stats.reconnects, 1);
	if (was_sent > now_sent)
		stat_add(&src->stats.pages_resent, was_sent - now_sent);
	return 0;
}
