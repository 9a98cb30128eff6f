// SPDX-License-Identifier: GPL-2.0-only
/*
 * The reorder window of one direction: PAGE frames wait in it until it holds a window's
 * worth, then all of them leave in an order the schedule draws (keyed by the first frame's
 * index, so a replay draws the same), so no frame is more than a window late. Any other
 * frame, a connection-level fault, or a pause in the stream empties it in arrival order: a
 * page is never held back waiting for traffic that may not come.
 */
#include "relay_internal.h"

#include <inttypes.h>

static void record_move(struct relay *r, struct relay_dir *d, const struct frame_ctx *c,
			uint32_t rule, const struct reorder_slot *moved, uint64_t overtaken)
{
	struct relay_frame f = { .type = WIRE_PAGE, .region = moved->region,
				 .length = moved->length, .flags = moved->flags,
				 .offset = moved->offset };
	struct frame_ctx mc = *c;

	mc.frame = &f;
	mc.index = moved->frame;
	pthread_mutex_lock(&r->lock);
	r->fired[rule]++;
	d->link->pair->fired[rule]++;
	relay_event_add(r, rule, &mc, "sent ahead of frame %" PRIu64, overtaken);
	pthread_mutex_unlock(&r->lock);
}

unsigned int relay_reorder_add(struct relay *r, struct relay_dir *d, struct relay_item *item,
			       const struct frame_ctx *c, uint32_t window, uint32_t rule,
			       struct relay_item **out)
{
	struct reorder_window *w = &d->reorder;
	struct reorder_slot tmp, *s = w->slots;
	struct relay_key key;
	unsigned int i, j, n;
	uint64_t oldest;

	s[w->n++] = (struct reorder_slot){
		.item = item, .frame = c->index, .region = c->frame->region,
		.length = c->frame->length, .flags = c->frame->flags, .offset = c->frame->offset,
	};
	if (w->n < window)
		return 0;
	key = (struct relay_key){
		.rule = rule, .pair = d->link->pair->ordinal,
		.channel = channel_bit(d->link->channel),
		.dir = c->role_dir ? c->role_dir : 4u << d->index, .frame = s[0].frame,
	};
	/* Fisher-Yates, every draw from the schedule. */
	for (i = w->n - 1; i > 0; i--) {
		key.salt = SALT_REORDER + i;
		j = (unsigned int)relay_schedule_below(r->opts.seed, &key, i + 1);
		tmp = s[i];
		s[i] = s[j];
		s[j] = tmp;
	}
	n = w->n;
	for (i = 0; i < n; i++) {
		/* A frame sent while an older one (not a copy of itself) waits has overtaken it. */
		for (oldest = s[i].frame, j = i + 1; j < n; j++)
			oldest = s[j].frame < oldest ? s[j].frame : oldest;
		if (oldest < s[i].frame)
			record_move(r, d, c, rule, &s[i], oldest);
		out[i] = s[i].item;
	}
	w->n = 0;
	return n;
}

struct relay_item *relay_reorder_take(struct relay_dir *d)
{
	struct reorder_window *w = &d->reorder;
	struct relay_item *it;
	unsigned int j;

	if (!w->n)
		return NULL;
	it = w->slots[0].item;
	for (j = 0; j + 1 < w->n; j++)
		w->slots[j] = w->slots[j + 1];
	w->n--;
	return it;
}
