// SPDX-License-Identifier: GPL-2.0-only
/*
 * Which rules fire on a frame, and what that means for it: the verdict pipe.c acts on.
 * Called by the reader of the frame's direction with relay->lock held, once per frame, in
 * stream order; every random draw comes from the seeded schedule keyed by the frame.
 */
#include "relay_internal.h"

#include <inttypes.h>

static const struct relay_rule *rule_at(const struct relay *r, unsigned int i)
{
	return &r->opts.spec.rules[i];
}

static bool budget_left(const struct relay *r, const struct relay_pair *p, unsigned int i)
{
	const struct relay_rule *rule = rule_at(r, i);

	if (!rule->count)
		return true;
	return (rule->every ? p->fired[i] : r->fired[i]) < rule->count;
}

static void spend(struct relay *r, struct relay_pair *p, unsigned int i)
{
	r->fired[i]++;
	p->fired[i]++;
}

static bool in_scope(const struct relay_rule *rule, const struct frame_ctx *c)
{
	if (!(rule->channels & channel_bit(c->link->channel)))
		return false;
	/* A rule for one direction waits until the frames have said which end is which. */
	return rule->dirs == RELAY_DIR_ALL || (rule->dirs & c->role_dir);
}

static bool covers_page(const struct relay_rule *rule, const struct relay_frame *f)
{
	uint64_t len = f->length ? f->length : 1;

	return f->type == WIRE_PAGE && f->region == rule->page_region &&
	       rule->page_offset >= f->offset && rule->page_offset - f->offset < len;
}

static bool eligible(const struct relay_rule *rule, const struct relay_frame *f)
{
	if (rule->has_page && !covers_page(rule, f))
		return false;
	switch (rule->kind) {
	case FAULT_DUP:
	case FAULT_REORDER:
		return f->type == WIRE_PAGE;
	case FAULT_DROP:
		return f->type == WIRE_PAGE && (f->flags & WIRE_PAGE_FLAG_DEMAND);
	case FAULT_CORRUPT:
		return f->type == WIRE_PAGE && f->payload_len;
	default:
		return true;
	}
}

static bool phase_reached(const struct relay_rule *rule, const struct relay_pair *p,
			  const struct phase_step *s)
{
	if (rule->phase == PHASE_NONE)
		return true;
	if (rule->phase == PHASE_MID_PUSH)
		return s->push_pages_before >= rule->mid_push_pages;
	/* A phase that begins once this frame has passed does not cover the frame itself. */
	return p->phases.seen[rule->phase] && s->after != rule->phase;
}

static struct relay_key key_for(const struct frame_ctx *c, unsigned int rule)
{
	return (struct relay_key){
		.rule = rule,
		.pair = c->link->pair->ordinal,
		.channel = channel_bit(c->link->channel),
		/* Before the roles are known, the direction relative to the relay. */
		.dir = c->role_dir ? c->role_dir : 4u << c->dir->index,
		.frame = c->index,
	};
}

static void add_action(struct relay_action *list, unsigned int *n, const struct relay_action *a)
{
	if (*n < RELAY_MAX_ACTIONS)
		list[(*n)++] = *a;
}

static void flip_bits(struct relay *r, const struct frame_ctx *c, unsigned int i,
		      struct relay_key *key, struct relay_verdict *v)
{
	uint64_t bits = (uint64_t)c->frame->payload_len * 8, pos;
	unsigned int k, j, first = v->n_flips;

	for (k = 0; k < rule_at(r, i)->bits && v->n_flips < RELAY_MAX_FLIPS; k++) {
		/* Distinct bits: two flips of one bit would cancel out. */
		for (key->salt = SALT_FLIP + k;; key->salt += RELAY_MAX_FLIPS) {
			pos = relay_schedule_below(r->opts.seed, key, bits);
			for (j = 0; j < v->n_flips && v->flips[j] != pos; j++)
				;
			if (j == v->n_flips || v->n_flips >= bits)
				break;
		}
		v->flips[v->n_flips++] = pos;
	}
	relay_event_add(r, i, c, "%u bits flipped, the first at payload byte %" PRIu64,
			v->n_flips - first, v->flips[first] / 8);
}

/* A rule fires on this frame: its effect on the verdict, and its event. */
static void fire(struct relay *r, const struct frame_ctx *c, unsigned int i,
		 struct relay_key *key, struct relay_verdict *v)
{
	const struct relay_rule *rule = rule_at(r, i);
	struct relay_action a = { .kind = rule->kind, .channels = rule->channels,
				  .dirs = rule->dirs, .duration_ns = rule->duration_ns };

	switch (rule->kind) {
	case FAULT_DELAY:
		key->salt = SALT_DELAY;
		v->delay_ns += rule->delay_min_ns +
			       relay_schedule_below(r->opts.seed, key,
						    rule->delay_max_ns - rule->delay_min_ns + 1);
		return;
	case FAULT_THROTTLE:
		if (!v->rate || rule->rate_bytes < v->rate)
			v->rate = rule->rate_bytes;
		return;
	case FAULT_REORDER:
		v->reorder = true;
		v->window = rule->window;
		v->reorder_rule = i;
		return;
	case FAULT_DUP:
		v->dup = true;
		relay_event_add(r, i, c, "sent twice");
		return;
	case FAULT_DROP:
		v->drop = true;
		relay_event_add(r, i, c, "request %" PRIu64 " never answered",
				c->frame->request_id);
		return;
	case FAULT_CORRUPT:
		flip_bits(r, c, i, key, v);
		return;
	case FAULT_STALL:
		a.own_stream = true;
		relay_event_add(r, i, c, "stream held %" PRIu64 " ms", rule->duration_ns / 1000000);
		break;
	default:
		relay_event_add(r, i, c, "%s", rule->kind == FAULT_CUT ? "connections closed"
								       : "forwarding stopped");
		break;
	}
	add_action(v->before, &v->n_before, &a);
}

/* Rules that fire when their phase begins, wherever the frame that begins it travels. */
static void eval_phase_points(struct relay *r, const struct frame_ctx *c, struct relay_verdict *v)
{
	const struct phase_step *s = c->step;
	struct relay_pair *p = c->link->pair;
	unsigned int i;
	bool after;

	for (i = 0; i < r->opts.spec.n_rules; i++) {
		const struct relay_rule *rule = rule_at(r, i);
		struct relay_action a = { .kind = rule->kind, .channels = rule->channels,
					  .dirs = rule->dirs, .duration_ns = rule->duration_ns };

		if (!relay_rule_at_phase(rule) || !budget_left(r, p, i))
			continue;
		if (rule->phase == PHASE_MID_PUSH) {
			/* After the push PAGE frame that brings the pushed pages to the count. */
			if (s->push_pages_before >= rule->mid_push_pages ||
			    s->push_pages_after < rule->mid_push_pages)
				continue;
			after = true;
		} else if (s->before == rule->phase) {
			after = false;
		} else if (s->after == rule->phase) {
			after = true;
		} else {
			continue;
		}
		spend(r, p, i);
		relay_event_add(r, i, c, "phase %s %s this frame", relay_phase_name(rule->phase),
				after ? "began after" : "begins with");
		if (after)
			add_action(v->after, &v->n_after, &a);
		else
			add_action(v->before, &v->n_before, &a);
	}
}

void relay_faults_eval(struct relay *r, const struct frame_ctx *c, struct relay_verdict *v)
{
	struct relay_pair *p = c->link->pair;
	struct relay_key key;
	unsigned int i;

	*v = (struct relay_verdict){ 0 };
	eval_phase_points(r, c, v);
	for (i = 0; i < r->opts.spec.n_rules; i++) {
		const struct relay_rule *rule = rule_at(r, i);

		if (relay_rule_at_phase(rule) || !in_scope(rule, c) || !eligible(rule, c->frame) ||
		    !phase_reached(rule, p, c->step) ||
		    (rule->has_frames && c->index < rule->from_frame) || !budget_left(r, p, i))
			continue;
		key = key_for(c, i);
		if (rule->has_p && !relay_schedule_roll(r->opts.seed, &key, rule->p))
			continue;
		/* A reorder fires when a frame actually overtakes another (reorder.c). */
		if (rule->kind != FAULT_REORDER)
			spend(r, p, i);
		fire(r, c, i, &key, v);
	}
}
