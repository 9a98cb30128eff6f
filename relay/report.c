// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a run says about itself: the seed and schedule at the start (enough to replay it),
 * each fault as it fires, and the JSON report at the end (rules and how often each fired,
 * connection pairs with their phases and traffic, and every fault event).
 */
#include "relay_internal.h"
#include "json.h"
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PREVIEW_FRAMES 100000u
#define PREVIEW_HITS 12u

const char *relay_channel_name(unsigned int index)
{
	static const char *const names[RELAY_CHANNELS] = { "other", "demand", "push" };

	return index < RELAY_CHANNELS ? names[index] : "unknown";
}

const char *relay_dir_name(unsigned int role_dir)
{
	if (role_dir == RELAY_DIR_TO_DEST)
		return "to-dest";
	return role_dir == RELAY_DIR_TO_SOURCE ? "to-source" : "unknown";
}

void relay_event_add(struct relay *r, uint32_t rule, const struct frame_ctx *c,
		     const char *detail_fmt, ...)
{
	struct relay_event *e, spill;
	va_list ap;

	e = r->n_events < RELAY_MAX_EVENTS ? &r->events[r->n_events++] : &spill;
	if (e == &spill)
		r->events_dropped++;
	*e = (struct relay_event){
		.rule = rule, .kind = r->opts.spec.rules[rule].kind, .pair = c->link->pair->ordinal,
		.channel = c->link->channel, .dir = c->role_dir, .frame = c->index,
		.frame_type = c->frame->type, .page = c->frame->type == WIRE_PAGE,
		.region = c->frame->region, .offset = c->frame->offset,
		.length = c->frame->length, .flags = c->frame->flags,
		.t_us = (relay_now() - r->start_ns) / 1000,
	};
	va_start(ap, detail_fmt);
	vsnprintf(e->detail, sizeof(e->detail), detail_fmt, ap);
	va_end(ap);
	log_msg(r->opts.log_schedule ? LOG_INFO : LOG_DEBUG,
		"rule %u (%s) fired: pair %u %s %s frame %" PRIu64 " (%s%s) at %" PRIu64 " ms: %s",
		rule + 1, relay_fault_name(e->kind), e->pair, relay_channel_name(e->channel),
		relay_dir_name(e->dir), e->frame,
		e->frame_type ? wire_type_name(e->frame_type) : "raw bytes",
		e->page && (e->flags & WIRE_PAGE_FLAG_DEMAND) ? ", a response" : "",
		e->t_us / 1000, e->detail);
}

/* Which frames of pair 0's streams a probabilistic rule will hit: the schedule ahead. */
static void print_preview(const struct relay *r, unsigned int i)
{
	const struct relay_rule *rule = &r->opts.spec.rules[i];
	uint64_t hits[PREVIEW_HITS];
	unsigned int ch, dir;
	char line[512];
	size_t n, k, at;

	for (ch = 1; ch < RELAY_CHANNELS; ch++) {
		for (dir = RELAY_DIR_TO_DEST; dir <= RELAY_DIR_TO_SOURCE; dir <<= 1) {
			struct relay_key key = { .rule = i, .channel = channel_bit(ch),
						 .dir = dir };

			if (!(rule->channels & channel_bit(ch)) || !(rule->dirs & dir))
				continue;
			n = relay_schedule_preview(r->opts.seed, key, rule->p, PREVIEW_FRAMES, hits,
						   PREVIEW_HITS);
			at = 0;
			for (k = 0; k < n && at < sizeof(line); k++)
				at += (size_t)snprintf(line + at, sizeof(line) - at, " %" PRIu64,
						       hits[k]);
			pr_info("rule %u on pair 0, %s %s: rolls pass at frames%s%s", i + 1,
				relay_channel_name(ch), relay_dir_name(dir), n ? line : " (none)",
				n == PREVIEW_HITS ? " ..." : "");
		}
	}
}

void relay_print_schedule(const struct relay *r)
{
	char text[256];
	unsigned int i;

	pr_info("seed %" PRIu64, r->opts.seed);
	if (!r->opts.spec.n_rules)
		pr_info("no faults: frames pass unchanged");
	for (i = 0; i < r->opts.spec.n_rules; i++) {
		relay_rule_format(&r->opts.spec.rules[i], text, sizeof(text));
		pr_info("rule %u: %s", i + 1, text);
		if (r->opts.log_schedule && r->opts.spec.rules[i].has_p)
			print_preview(r, i);
	}
}

static void write_rules(struct json *j, const struct relay *r)
{
	char text[256];
	unsigned int i;

	json_key(j, "rules");
	json_array_begin(j);
	for (i = 0; i < r->opts.spec.n_rules; i++) {
		relay_rule_format(&r->opts.spec.rules[i], text, sizeof(text));
		json_object_begin(j);
		json_kv_u64(j, "rule", i + 1);
		json_kv_str(j, "fault", relay_fault_name(r->opts.spec.rules[i].kind));
		json_kv_str(j, "text", r->opts.spec.rules[i].text);
		json_kv_str(j, "schedule", text);
		json_kv_u64(j, "fired", r->fired[i]);
		json_object_end(j);
	}
	json_array_end(j);
}

static void write_link(struct json *j, const struct relay *r, const struct relay_link *l)
{
	unsigned int i;

	json_key(j, relay_channel_name(l->channel));
	json_object_begin(j);
	json_kv_u64(j, "connection", l->id);
	json_kv_bool(j, "cut", l->cut);
	for (i = 0; i < 2; i++) {
		const struct relay_dir *d = &l->dir[i];
		const char *name = relay_dir_name(relay_role_dir(r, d));

		json_key(j, strcmp(name, "unknown") ? name : i ? "to-client" : "to-server");
		json_object_begin(j);
		json_kv_u64(j, "frames", d->frames);
		json_kv_u64(j, "frames_sent", d->frames_out);
		json_kv_u64(j, "bytes_received", d->bytes_in);
		json_kv_u64(j, "bytes_sent", d->bytes_out);
		json_kv_bool(j, "framed", !frame_tracker_is_raw(&d->tracker));
		if (frame_tracker_is_raw(&d->tracker))
			json_kv_str(j, "unframed_because", d->tracker.why_raw);
		json_object_end(j);
	}
	json_object_end(j);
}

static void write_pairs(struct json *j, const struct relay *r)
{
	const struct relay_pair *p;
	char session[24];
	unsigned int k;

	json_key(j, "pairs");
	json_array_begin(j);
	for (p = r->pairs; p; p = p->next) {
		json_object_begin(j);
		json_kv_u64(j, "pair", p->ordinal);
		snprintf(session, sizeof(session), "%016" PRIx64, p->session_id);
		json_kv_str(j, "session", p->has_session ? session : NULL);
		json_key(j, "phases_ms");
		json_object_begin(j);
		for (k = PHASE_HANDSHAKE; k < PHASE_END; k++)
			if (p->phases.seen[k])
				json_kv_double(j, relay_phase_name(k),
					       (double)(p->phases.at_ns[k] - r->start_ns) / 1e6, 3);
		json_object_end(j);
		json_kv_u64(j, "push_pages", p->phases.push_pages);
		json_key(j, "connections");
		json_object_begin(j);
		for (k = 0; k < RELAY_CHANNELS; k++)
			if (p->links[k])
				write_link(j, r, p->links[k]);
		json_object_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}

static void write_event(struct json *j, const struct relay_event *e)
{
	json_object_begin(j);
	json_kv_u64(j, "rule", e->rule + 1);
	json_kv_str(j, "fault", relay_fault_name(e->kind));
	json_kv_u64(j, "pair", e->pair);
	json_kv_str(j, "channel", relay_channel_name(e->channel));
	json_kv_str(j, "direction", relay_dir_name(e->dir));
	json_kv_u64(j, "frame", e->frame);
	json_kv_str(j, "type", e->frame_type ? wire_type_name(e->frame_type) : "raw");
	if (e->page) {
		json_kv_u64(j, "region", e->region);
		json_kv_u64(j, "offset", e->offset);
		json_kv_u64(j, "length", e->length);
		json_kv_bool(j, "response", e->flags & WIRE_PAGE_FLAG_DEMAND);
	}
	json_kv_double(j, "t_ms", (double)e->t_us / 1e3, 3);
	json_kv_str(j, "detail", e->detail);
	json_object_end(j);
}

void relay_write_json(struct relay *r, FILE *f)
{
	struct json j;
	size_t i;

	pthread_mutex_lock(&r->lock);
	json_init(&j, f);
	json_object_begin(&j);
	json_kv_u64(&j, "seed", r->opts.seed);
	write_rules(&j, r);
	json_kv_u64(&j, "connections", r->n_links);
	json_kv_str(&j, "clients_are", r->client_role > 0 ? "sources" :
				       r->client_role < 0 ? "destinations" : NULL);
	write_pairs(&j, r);
	json_key(&j, "events");
	json_array_begin(&j);
	for (i = 0; i < r->n_events; i++)
		write_event(&j, &r->events[i]);
	json_array_end(&j);
	json_kv_u64(&j, "events_dropped", r->events_dropped);
	json_object_end(&j);
	pthread_mutex_unlock(&r->lock);
}
