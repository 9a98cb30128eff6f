// SPDX-License-Identifier: GPL-2.0-only
/*
 * Parser of the fault spec language (spec.h). Every refusal is one sentence that quotes the
 * rule, so that a mistyped soak schedule says what to fix instead of running something else.
 */
#include "spec_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fault_names[FAULT_KIND_END] = {
	[FAULT_DELAY] = "delay", [FAULT_THROTTLE] = "throttle", [FAULT_STALL] = "stall",
	[FAULT_REORDER] = "reorder", [FAULT_DUP] = "dup", [FAULT_DROP] = "drop",
	[FAULT_CORRUPT] = "corrupt", [FAULT_CUT] = "cut", [FAULT_BLACKHOLE] = "blackhole",
};

static const char *const phase_names[PHASE_END] = {
	[PHASE_NONE] = "none", [PHASE_HANDSHAKE] = "handshake", [PHASE_CONFIG] = "config",
	[PHASE_SWITCHOVER] = "switchover", [PHASE_STATE] = "state", [PHASE_RESTORE] = "restore",
	[PHASE_FIRST_FAULT] = "first-fault", [PHASE_MID_PUSH] = "mid-push",
	[PHASE_COMPLETION] = "completion",
};

const char *relay_fault_name(enum relay_fault kind)
{
	return kind < FAULT_KIND_END ? fault_names[kind] : "unknown";
}

const char *relay_phase_name(enum relay_phase phase)
{
	return phase < PHASE_END ? phase_names[phase] : "unknown";
}

int spec_refuse(struct spec_parser *ps, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->err_len, "rule %u '%s': %s", ps->index + 1, ps->rule->text, what);
	return -EINVAL;
}

static int parse_kind_value(struct spec_parser *ps, char *head)
{
	struct relay_rule *r = ps->rule;
	char *value = strchr(head, '='), *dots;
	unsigned int k;

	if (value)
		*value++ = '\0';
	for (k = 0; k < FAULT_KIND_END && strcmp(head, fault_names[k]); k++)
		;
	if (k == FAULT_KIND_END)
		return spec_refuse(ps, "unknown fault '%s' (one of delay, throttle, stall, "
				   "reorder, dup, drop, corrupt, cut, blackhole)", head);
	r->kind = (enum relay_fault)k;
	if (!value) {
		if (k == FAULT_DELAY || k == FAULT_THROTTLE)
			return spec_refuse(ps, "%s needs a value (%s)", head,
				      k == FAULT_DELAY ? "delay=1ms or delay=1ms..5ms"
						       : "throttle=100MB/s");
		return 0;
	}
	switch (r->kind) {
	case FAULT_DELAY:
		dots = strstr(value, "..");
		if (dots)
			*dots = '\0';
		if (relay_parse_duration(value, &r->delay_min_ns) ||
		    relay_parse_duration(dots ? dots + 2 : value, &r->delay_max_ns))
			return spec_refuse(ps, "bad delay: a duration with its unit (ns, us, ms, "
					   "s), or a range MIN..MAX");
		if (r->delay_max_ns < r->delay_min_ns)
			return spec_refuse(ps, "the delay range ends before it starts");
		return 0;
	case FAULT_THROTTLE:
		if (relay_parse_rate(value, &r->rate_bytes))
			return spec_refuse(ps, "bad rate '%s': e.g. 500KB/s, 200MB/s, 1GiB/s, "
					   "100Mbit/s", value);
		return 0;
	case FAULT_STALL:
	case FAULT_BLACKHOLE:
		if (relay_parse_duration(value, &r->duration_ns) || !r->duration_ns)
			return spec_refuse(ps, "bad duration '%s': e.g. 500ms, 2s", value);
		return 0;
	default:
		return spec_refuse(ps, "%s takes no value", head);
	}
}

static int parse_page(struct spec_parser *ps, const char *text)
{
	struct relay_rule *r = ps->rule;
	unsigned long long region, offset;
	char *end;

	errno = 0;
	region = strtoull(text, &end, 0);
	if (errno || end == text || *end != ':' || region > UINT32_MAX)
		return spec_refuse(ps, "page= takes REGION:OFFSET, e.g. page=0:0x3000");
	text = end + 1;
	offset = strtoull(text, &end, 0);
	if (errno || end == text || *end)
		return spec_refuse(ps, "page= takes REGION:OFFSET, e.g. page=0:0x3000");
	r->has_page = true;
	r->page_region = (uint32_t)region;
	r->page_offset = offset;
	return 0;
}

static int parse_scope_item(struct spec_parser *ps, char *item)
{
	struct relay_rule *r = ps->rule;

	if (!strncmp(item, "page=", 5))
		return parse_page(ps, item + 5);
	if (!strcmp(item, "any")) {
		ps->channels_given = ps->dirs_given = true;
		r->channels = RELAY_CH_ALL;
		r->dirs = RELAY_DIR_ALL;
	} else if (!strcmp(item, "demand") || !strcmp(item, "push")) {
		if (!ps->channels_given)
			r->channels = 0;
		ps->channels_given = true;
		r->channels |= item[0] == 'd' ? RELAY_CH_DEMAND : RELAY_CH_PUSH;
	} else if (!strcmp(item, "to-dest") || !strcmp(item, "to-source")) {
		if (!ps->dirs_given)
			r->dirs = 0;
		ps->dirs_given = true;
		r->dirs |= item[3] == 'd' ? RELAY_DIR_TO_DEST : RELAY_DIR_TO_SOURCE;
	} else {
		return spec_refuse(ps, "unknown scope '%s' (demand, push, any, to-dest, to-source, "
			      "page=REGION:OFFSET)", item);
	}
	return 0;
}

static int parse_phase(struct spec_parser *ps, const char *text)
{
	unsigned int k;

	for (k = PHASE_HANDSHAKE; k < PHASE_END; k++) {
		if (!strcmp(text, phase_names[k])) {
			ps->rule->phase = (enum relay_phase)k;
			return 0;
		}
	}
	return spec_refuse(ps, "unknown phase '%s' (handshake, config, switchover, state, restore, "
		      "first-fault, mid-push, completion)", text);
}

static int parse_uint(struct spec_parser *ps, const char *key, const char *text, uint64_t min,
		      uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(text, &end, 0);
	if (errno || end == text || *end || *text == '-' || v < min || v > max)
		return spec_refuse(ps, "%s= takes a whole number from %llu to %llu", key,
			      (unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

static int parse_param(struct spec_parser *ps, char *item)
{
	struct relay_rule *r = ps->rule;
	char *value = strchr(item, '=');
	uint64_t v;
	int ret;

	if (!strcmp(item, "every")) {
		r->every = true;
		return 0;
	}
	if (!value)
		return spec_refuse(ps, "parameter '%s' needs a value (KEY=VALUE)", item);
	*value++ = '\0';
	if (!strcmp(item, "p")) {
		if (relay_parse_probability(value, &r->p))
			return spec_refuse(ps, "p= takes a probability from 0 to 1 (0.05 or 5%%)");
		r->has_p = true;
	} else if (!strcmp(item, "frames")) {
		r->has_frames = true;
		return parse_uint(ps, item, value, 0, UINT64_MAX - 1, &r->from_frame);
	} else if (!strcmp(item, "phase")) {
		return parse_phase(ps, value);
	} else if (!strcmp(item, "pages")) {
		return parse_uint(ps, item, value, 1, UINT32_MAX, &r->mid_push_pages);
	} else if (!strcmp(item, "count")) {
		ps->count_given = true;
		if (!strcmp(value, "any")) {
			r->count = 0;
			return 0;
		}
		return parse_uint(ps, item, value, 1, UINT32_MAX, &r->count);
	} else if (!strcmp(item, "ms") || !strcmp(item, "for")) {
		if (item[0] == 'm') {
			ret = parse_uint(ps, item, value, 1, 3600000, &v);
			r->duration_ns = v * 1000000ull;
			return ret;
		}
		if (relay_parse_duration(value, &r->duration_ns) || !r->duration_ns)
			return spec_refuse(ps, "bad duration '%s': e.g. 500ms, 2s", value);
	} else if (!strcmp(item, "window")) {
		ret = parse_uint(ps, item, value, 2, RELAY_MAX_WINDOW, &v);
		r->window = (uint32_t)v;
		return ret;
	} else if (!strcmp(item, "bits")) {
		ret = parse_uint(ps, item, value, 1, RELAY_MAX_FLIPS, &v);
		r->bits = (uint32_t)v;
		return ret;
	} else {
		return spec_refuse(ps, "unknown parameter '%s' (p, frames, phase, pages, count, "
				   "every, ms, for, window, bits)", item);
	}
	return 0;
}

/* Splits s at each sep and hands every non-empty piece to fn; stops at the first error. */
static int for_each_item(struct spec_parser *ps, char *s, char sep,
			 int (*fn)(struct spec_parser *, char *))
{
	char *next;
	int ret;

	for (; s; s = next) {
		next = strchr(s, sep);
		if (next)
			*next++ = '\0';
		if (!*s)
			return spec_refuse(ps, "an empty item between '%c's", sep);
		ret = fn(ps, s);
		if (ret)
			return ret;
	}
	return 0;
}

static int parse_rule(struct spec_parser *ps, char *text)
{
	struct relay_rule *r = ps->rule;
	char *scope, *params;
	int ret;

	*r = (struct relay_rule){ .channels = RELAY_CH_ALL, .dirs = RELAY_DIR_ALL, .count = 1 };
	snprintf(r->text, sizeof(r->text), "%s", text);
	params = strchr(text, '@');
	if (params)
		*params++ = '\0';
	scope = strchr(text, ':');
	if (scope)
		*scope++ = '\0';
	ret = parse_kind_value(ps, text);
	if (!ret && scope)
		ret = for_each_item(ps, scope, ',', parse_scope_item);
	if (!ret && params)
		ret = for_each_item(ps, params, ',', parse_param);
	return ret ? ret : spec_rule_check(ps);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

int relay_spec_parse(struct relay_spec *spec, const char *text, char *err, size_t err_len)
{
	struct relay_spec *out = malloc(sizeof(*out));
	char *copy = strdup(text ? text : ""), *s, *next;
	struct spec_parser ps = { .err = err, .err_len = err_len };
	int ret = 0;

	if (!out || !copy) {
		snprintf(err, err_len, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	*out = *spec;
	for (s = copy; s && !ret; s = next) {
		next = strchr(s, ';');
		if (next)
			*next++ = '\0';
		s = trim(s);
		if (!*s)
			continue; /* "a;;b" and a trailing ';' are harmless */
		if (out->n_rules == RELAY_MAX_RULES) {
			snprintf(err, err_len, "more than %d rules", RELAY_MAX_RULES);
			ret = -EINVAL;
			break;
		}
		ps.index = out->n_rules;
		ps.rule = &out->rules[out->n_rules];
		ps.channels_given = ps.dirs_given = ps.count_given = false;
		ret = parse_rule(&ps, s);
		if (!ret)
			out->n_rules++;
	}
	if (!ret)
		*spec = *out;
out:
	free(copy);
	free(out);
	return ret;
}
