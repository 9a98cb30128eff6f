// SPDX-License-Identifier: GPL-2.0-only
/*
 * A parsed rule as a whole: which parameters its kind takes, the defaults that depend on the
 * kind, and the canonical form a run prints as its schedule.
 */
#include "spec_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool acts_on_pages(enum relay_fault kind)
{
	return kind == FAULT_DUP || kind == FAULT_DROP || kind == FAULT_CORRUPT ||
	       kind == FAULT_REORDER;
}

/* Kinds that shape every frame in scope rather than firing on some. */
static bool continuous(enum relay_fault kind)
{
	return kind == FAULT_DELAY || kind == FAULT_THROTTLE || kind == FAULT_REORDER;
}

bool relay_rule_at_phase(const struct relay_rule *r)
{
	return (r->kind == FAULT_CUT || r->kind == FAULT_BLACKHOLE || r->kind == FAULT_STALL) &&
	       r->phase != PHASE_NONE && !r->has_frames && !r->has_p && !r->has_page;
}

/* Parameters that only some kinds take. */
static int check_parameters(struct spec_parser *ps)
{
	struct relay_rule *r = ps->rule;
	const char *name = relay_fault_name(r->kind);

	if (r->has_page && !(r->kind == FAULT_STALL || r->kind == FAULT_DUP ||
			     r->kind == FAULT_DROP || r->kind == FAULT_CORRUPT))
		return spec_refuse(ps, "page= selects a PAGE frame: only stall, dup, drop and "
				   "corrupt take it");
	if (r->duration_ns && r->kind != FAULT_STALL && r->kind != FAULT_BLACKHOLE)
		return spec_refuse(ps, "a duration (ms=, for=) is for stall and blackhole only");
	if (r->window && r->kind != FAULT_REORDER)
		return spec_refuse(ps, "window= is for reorder only");
	if (r->bits && r->kind != FAULT_CORRUPT)
		return spec_refuse(ps, "bits= is for corrupt only");
	if (r->mid_push_pages && r->phase != PHASE_MID_PUSH)
		return spec_refuse(ps, "pages= says when mid-push begins: use it with "
				   "phase=mid-push");
	if (r->has_p && (r->kind == FAULT_REORDER || r->kind == FAULT_THROTTLE))
		return spec_refuse(ps, "%s applies to every frame in scope: p= does not apply",
				   name);
	if (ps->count_given && continuous(r->kind))
		return spec_refuse(ps, "%s applies to every frame in scope: count= does not apply",
				   name);
	return 0;
}

/* The kinds that act on PAGE frames: those travel on demand and push, to the destination. */
static int check_page_scope(struct spec_parser *ps)
{
	struct relay_rule *r = ps->rule;
	const char *name = relay_fault_name(r->kind);

	if (ps->dirs_given && (r->dirs & RELAY_DIR_TO_SOURCE))
		return spec_refuse(ps, "%s acts on PAGE frames, which travel to the destination "
				   "only", name);
	r->dirs = RELAY_DIR_TO_DEST;
	r->channels &= RELAY_CH_DEMAND | RELAY_CH_PUSH;
	if (r->kind == FAULT_DROP) {
		if (ps->channels_given && (r->channels & RELAY_CH_PUSH))
			return spec_refuse(ps, "drop loses a response, which travels on the demand "
					   "channel; a pushed page nobody asked for is lost with "
					   "cut or blackhole");
		r->channels = RELAY_CH_DEMAND;
	}
	if (!r->channels)
		return spec_refuse(ps, "%s: no channel in scope carries PAGE frames", name);
	return 0;
}

int spec_rule_check(struct spec_parser *ps)
{
	struct relay_rule *r = ps->rule;
	int ret = check_parameters(ps);

	if (ret)
		return ret;
	if (acts_on_pages(r->kind) && (ret = check_page_scope(ps)))
		return ret;
	if (r->kind == FAULT_STALL) {
		if (!r->duration_ns)
			return spec_refuse(ps, "stall needs a duration (stall=500ms or @ms=500)");
		if (!r->has_page && r->phase == PHASE_NONE && !r->has_frames && !r->has_p)
			return spec_refuse(ps, "stall needs a target: page=R:OFF, phase=NAME, "
					   "frames=N or p=P");
	}
	if (r->kind == FAULT_REORDER && !r->window)
		r->window = 8;
	if (r->kind == FAULT_CORRUPT && !r->bits)
		r->bits = 1;
	if (r->phase == PHASE_MID_PUSH && !r->mid_push_pages)
		r->mid_push_pages = RELAY_DEFAULT_MID_PUSH_PAGES;
	if (!ps->count_given && (continuous(r->kind) || r->has_p))
		r->count = 0;
	if (r->every && !r->count)
		return spec_refuse(ps, "every repeats a rule with a limited count in each "
				   "connection pair; this one has no limit");
	return 0;
}

static void format_duration(uint64_t ns, char *buf, size_t len)
{
	static const struct { uint64_t scale; const char *unit; } units[] = {
		{ 1000000000ull, "s" }, { 1000000ull, "ms" }, { 1000ull, "us" }, { 1, "ns" },
	};
	unsigned int i = 0;

	if (!ns) {
		snprintf(buf, len, "0");
		return;
	}
	while (ns % units[i].scale)
		i++;
	snprintf(buf, len, "%" PRIu64 "%s", ns / units[i].scale, units[i].unit);
}

static void format_rate(uint64_t bytes, char *buf, size_t len)
{
	static const struct { uint64_t scale; const char *unit; } units[] = {
		{ 1000000000ull, "GB/s" }, { 1000000ull, "MB/s" }, { 1000ull, "KB/s" },
		{ 1, "B/s" },
	};
	unsigned int i = 0;

	while (bytes % units[i].scale)
		i++;
	snprintf(buf, len, "%" PRIu64 "%s", bytes / units[i].scale, units[i].unit);
}

/* Appends to buf at *at, never past len: the canonical text is built in pieces. */
static void __attribute__((format(printf, 4, 5)))
put(char *buf, size_t len, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*at >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *at, len - *at, fmt, ap);
	va_end(ap);
	if (n > 0)
		*at += (size_t)n;
}

static void format_scope(const struct relay_rule *r, char *buf, size_t len, size_t *at)
{
	char sep = ':';

	if (r->channels != RELAY_CH_ALL) {
		if (r->channels & RELAY_CH_DEMAND) {
			put(buf, len, at, "%cdemand", sep);
			sep = ',';
		}
		if (r->channels & RELAY_CH_PUSH) {
			put(buf, len, at, "%cpush", sep);
			sep = ',';
		}
	}
	if (r->dirs != RELAY_DIR_ALL) {
		put(buf, len, at, "%c%s", sep,
		    r->dirs == RELAY_DIR_TO_DEST ? "to-dest" : "to-source");
		sep = ',';
	}
	if (r->has_page)
		put(buf, len, at, "%cpage=%u:0x%" PRIx64, sep, r->page_region, r->page_offset);
}

static void format_params(const struct relay_rule *r, char *buf, size_t len, size_t *at)
{
	char sep = '@', d[32];

	if (r->phase != PHASE_NONE) {
		put(buf, len, at, "%cphase=%s", sep, relay_phase_name(r->phase));
		sep = ',';
		if (r->phase == PHASE_MID_PUSH)
			put(buf, len, at, ",pages=%" PRIu64, r->mid_push_pages);
	}
	if (r->has_frames) {
		put(buf, len, at, "%cframes=%" PRIu64, sep, r->from_frame);
		sep = ',';
	}
	if (r->has_p) {
		put(buf, len, at, "%cp=%g", sep, r->p);
		sep = ',';
	}
	if (r->window) {
		put(buf, len, at, "%cwindow=%u", sep, r->window);
		sep = ',';
	}
	if (r->bits) {
		put(buf, len, at, "%cbits=%u", sep, r->bits);
		sep = ',';
	}
	if (r->duration_ns) {
		format_duration(r->duration_ns, d, sizeof(d));
		put(buf, len, at, "%cfor=%s", sep, d);
		sep = ',';
	}
	if (r->kind != FAULT_DELAY && r->kind != FAULT_THROTTLE && r->kind != FAULT_REORDER) {
		if (r->count)
			put(buf, len, at, "%ccount=%" PRIu64 "%s", sep, r->count,
			    r->every ? ",every" : "");
		else
			put(buf, len, at, "%ccount=any", sep);
	}
}

void relay_rule_format(const struct relay_rule *r, char *buf, size_t len)
{
	char lo[32], hi[32];
	size_t at = 0;

	put(buf, len, &at, "%s", relay_fault_name(r->kind));
	if (r->kind == FAULT_DELAY) {
		format_duration(r->delay_min_ns, lo, sizeof(lo));
		format_duration(r->delay_max_ns, hi, sizeof(hi));
		if (r->delay_min_ns == r->delay_max_ns)
			put(buf, len, &at, "=%s", lo);
		else
			put(buf, len, &at, "=%s..%s", lo, hi);
	} else if (r->kind == FAULT_THROTTLE) {
		format_rate(r->rate_bytes, lo, sizeof(lo));
		put(buf, len, &at, "=%s", lo);
	}
	format_scope(r, buf, len, &at);
	format_params(r, buf, len, &at);
}
