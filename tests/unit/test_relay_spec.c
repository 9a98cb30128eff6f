// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for relay/spec*.c: the fault spec language, good and bad, and its canonical form. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "spec.h"

static struct relay_spec spec;
static char err[512];

static int setup(void **state)
{
	memset(&spec, 0, sizeof(spec));
	err[0] = '\0';
	return 0;
}

static const struct relay_rule *parse_one(const char *text)
{
	memset(&spec, 0, sizeof(spec));
	if (relay_spec_parse(&spec, text, err, sizeof(err)))
		fail_msg("'%s' refused: %s", text, err);
	assert_int_equal(spec.n_rules, 1);
	return &spec.rules[0];
}

/* The example of the design brief, every rule as it reads. */
static void test_brief_example(void **state)
{
	const struct relay_rule *r = spec.rules;

	assert_int_equal(relay_spec_parse(&spec,
		"delay=100us;cut:push@frames=500;drop:demand@p=0.05;corrupt:push@p=0.001;"
		"reorder:push@window=8;dup@p=0.01;stall:page=0:0x3000@ms=500;"
		"blackhole@phase=restore;throttle=200MB/s", err, sizeof(err)), 0);
	assert_int_equal(spec.n_rules, 9);
	assert_int_equal(r[0].kind, FAULT_DELAY);
	assert_int_equal(r[0].delay_min_ns, 100000);
	assert_int_equal(r[0].delay_max_ns, 100000);
	assert_int_equal(r[1].kind, FAULT_CUT);
	assert_int_equal(r[1].channels, RELAY_CH_PUSH);
	assert_true(r[1].has_frames);
	assert_int_equal(r[1].from_frame, 500);
	assert_int_equal(r[1].count, 1);
	assert_int_equal(r[2].kind, FAULT_DROP);
	assert_int_equal(r[2].channels, RELAY_CH_DEMAND);
	assert_int_equal(r[2].dirs, RELAY_DIR_TO_DEST);
	assert_true(r[2].has_p);
	assert_true(r[2].p > 0.0499 && r[2].p < 0.0501);
	assert_int_equal(r[2].count, 0); /* a probability: no limit unless count= says */
	assert_int_equal(r[3].bits, 1);
	assert_int_equal(r[4].window, 8);
	assert_int_equal(r[5].channels, RELAY_CH_DEMAND | RELAY_CH_PUSH);
	assert_true(r[6].has_page);
	assert_int_equal(r[6].page_region, 0);
	assert_int_equal(r[6].page_offset, 0x3000);
	assert_int_equal(r[6].duration_ns, 500000000ull);
	assert_int_equal(r[7].phase, PHASE_RESTORE);
	assert_int_equal(r[7].duration_ns, 0); /* for good */
	assert_true(relay_rule_at_phase(&r[7]));
	assert_false(relay_rule_at_phase(&r[1]));
	assert_int_equal(r[8].rate_bytes, 200000000ull);
}

static void test_scopes_and_params(void **state)
{
	const struct relay_rule *r;

	r = parse_one("delay=1ms..3ms:demand,to-source@phase=first-fault");
	assert_int_equal(r->delay_min_ns, 1000000);
	assert_int_equal(r->delay_max_ns, 3000000);
	assert_int_equal(r->channels, RELAY_CH_DEMAND);
	assert_int_equal(r->dirs, RELAY_DIR_TO_SOURCE);
	assert_int_equal(r->phase, PHASE_FIRST_FAULT);
	r = parse_one("cut@phase=mid-push,pages=100,count=2,every");
	assert_int_equal(r->mid_push_pages, 100);
	assert_int_equal(r->count, 2);
	assert_true(r->every);
	r = parse_one("cut@phase=mid-push");
	assert_int_equal(r->mid_push_pages, RELAY_DEFAULT_MID_PUSH_PAGES);
	r = parse_one("corrupt@frames=3,bits=7,count=any");
	assert_int_equal(r->bits, 7);
	assert_int_equal(r->count, 0);
	r = parse_one("stall=250ms:push@p=5%");
	assert_int_equal(r->duration_ns, 250000000ull);
	assert_true(r->p > 0.0499 && r->p < 0.0501);
	r = parse_one("blackhole:push@phase=completion,for=1.5s");
	assert_int_equal(r->duration_ns, 1500000000ull);
	r = parse_one("  dup@frames=0x10  ");
	assert_int_equal(r->from_frame, 16);
	r = parse_one("throttle=1GiB/s:to-dest");
	assert_int_equal(r->rate_bytes, 1073741824ull);
	assert_int_equal(parse_one("throttle=8Mbit/s")->rate_bytes, 1000000);
	assert_int_equal(parse_one("delay=0")->delay_max_ns, 0);
}

/* Empty rules are harmless; rules from several calls add up. */
static void test_empty_and_appending(void **state)
{
	assert_int_equal(relay_spec_parse(&spec, "", err, sizeof(err)), 0);
	assert_int_equal(relay_spec_parse(&spec, ";; ;", err, sizeof(err)), 0);
	assert_int_equal(spec.n_rules, 0);
	assert_int_equal(relay_spec_parse(&spec, "cut@frames=1;", err, sizeof(err)), 0);
	assert_int_equal(relay_spec_parse(&spec, "dup", err, sizeof(err)), 0);
	assert_int_equal(spec.n_rules, 2);
	assert_int_equal(spec.rules[1].kind, FAULT_DUP);
}

/* Each bad spec is refused with a sentence that names the rule and the mistake. */
static void test_bad_specs(void **state)
{
	static const struct { const char *text, *error; } cases[] = {
		{ "explode", "rule 1 'explode': unknown fault 'explode' (one of delay," },
		{ "cut;delay", "rule 2 'delay': delay needs a value" },
		{ "throttle", "throttle needs a value (throttle=100MB/s)" },
		{ "delay=100", "bad delay: a duration with its unit" },
		{ "delay=5ms..1ms", "the delay range ends before it starts" },
		{ "delay=-1ms", "bad delay" },
		{ "throttle=fast", "bad rate 'fast'" },
		{ "throttle=0B/s", "bad rate '0B/s'" },
		{ "cut=5", "cut takes no value" },
		{ "cut:sideways", "unknown scope 'sideways'" },
		{ "cut@when=now", "unknown parameter 'when'" },
		{ "cut@phase=lunch", "unknown phase 'lunch' (handshake, config," },
		{ "drop@p=2", "p= takes a probability from 0 to 1" },
		{ "drop@p", "parameter 'p' needs a value" },
		{ "drop:push", "drop loses a response, which travels on the demand channel" },
		{ "drop:to-source", "drop acts on PAGE frames, which travel to the destination only" },
		{ "corrupt:to-source", "corrupt acts on PAGE frames" },
		{ "stall:push", "stall needs a duration" },
		{ "stall@ms=10", "stall needs a target" },
		{ "stall@phase=restore,ms=0", "ms= takes a whole number from 1 to 3600000" },
		{ "cut:page=0:0x1000", "page= selects a PAGE frame: only stall, dup, drop and corrupt" },
		{ "dup:page=zero", "page= takes REGION:OFFSET" },
		{ "cut@ms=10", "a duration (ms=, for=) is for stall and blackhole only" },
		{ "dup@window=4", "window= is for reorder only" },
		{ "reorder@window=1", "window= takes a whole number from 2 to 64" },
		{ "reorder@p=0.5", "reorder applies to every frame in scope: p= does not apply" },
		{ "delay=1ms@count=3", "delay applies to every frame in scope: count= does not apply" },
		{ "drop@bits=3", "bits= is for corrupt only" },
		{ "cut@pages=10", "pages= says when mid-push begins" },
		{ "cut@frames=-1", "frames= takes a whole number" },
		{ "drop@p=0.1,every", "every repeats a rule with a limited count" },
		{ "cut@frames=1,,count=2", "an empty item between ','s" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&spec, 0, sizeof(spec));
		spec.n_rules = 0;
		if (relay_spec_parse(&spec, cases[i].text, err, sizeof(err)) != -22)
			fail_msg("'%s' was accepted", cases[i].text);
		if (!strstr(err, cases[i].error))
			fail_msg("'%s': error '%s' lacks '%s'", cases[i].text, err, cases[i].error);
		assert_int_equal(spec.n_rules, 0); /* a refused spec adds nothing */
	}
}

static void test_too_many_rules(void **state)
{
	char text[RELAY_MAX_RULES * 8 + 16] = "";
	unsigned int i;

	for (i = 0; i <= RELAY_MAX_RULES; i++)
		strcat(text, "dup;");
	assert_int_equal(relay_spec_parse(&spec, text, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "more than 32 rules"));
	assert_int_equal(spec.n_rules, 0);
}

/* The canonical form spells every default out and parses back to itself. */
static void test_canonical_round_trip(void **state)
{
	static const struct { const char *text, *canonical; } cases[] = {
		{ "cut:push@frames=500", "cut:push@frames=500,count=1" },
		{ "drop@p=0.05", "drop:demand,to-dest@p=0.05,count=any" },
		{ "delay=1ms..2500us", "delay=1ms..2500us" },
		{ "delay=0..3ms:demand", "delay=0..3ms:demand" },
		{ "throttle=200MB/s", "throttle=200MB/s" },
		{ "throttle=1500B/s", "throttle=1500B/s" },
		{ "stall:page=1:4096@ms=500", "stall:page=1:0x1000@for=500ms,count=1" },
		{ "blackhole@phase=restore", "blackhole@phase=restore,count=1" },
		{ "reorder:push", "reorder:push,to-dest@window=8" },
		{ "cut@phase=mid-push,count=2,every", "cut@phase=mid-push,pages=256,count=2,every" },
		{ "corrupt@bits=3", "corrupt:demand,push,to-dest@bits=3,count=1" },
	};
	char text[256], again[256];
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		relay_rule_format(parse_one(cases[i].text), text, sizeof(text));
		if (strcmp(text, cases[i].canonical))
			fail_msg("'%s' reads as '%s', not '%s'", cases[i].text, text,
				 cases[i].canonical);
		relay_rule_format(parse_one(text), again, sizeof(again));
		assert_string_equal(text, again);
	}
}

static void test_values(void **state)
{
	uint64_t v;
	double p;

	assert_int_equal(relay_parse_duration("1.5ms", &v), 0);
	assert_int_equal(v, 1500000);
	assert_int_equal(relay_parse_duration("2s", &v), 0);
	assert_int_equal(v, 2000000000ull);
	assert_int_equal(relay_parse_duration("7ns", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(relay_parse_duration("1m", &v), -22);  /* not a unit: refused */
	assert_int_equal(relay_parse_duration("5", &v), -22);
	assert_int_equal(relay_parse_duration("2h", &v), -22);
	assert_int_equal(relay_parse_duration("3601s", &v), -22);
	assert_int_equal(relay_parse_rate("1KB/s", &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(relay_parse_rate("1KiB/s", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(relay_parse_rate("10MB", &v), -22);
	assert_int_equal(relay_parse_probability("0", &p), 0);
	assert_true(p == 0);
	assert_int_equal(relay_parse_probability("1", &p), 0);
	assert_true(p == 1);
	assert_int_equal(relay_parse_probability("100%", &p), 0);
	assert_true(p == 1);
	assert_int_equal(relay_parse_probability("101%", &p), -22);
	assert_int_equal(relay_parse_probability("-0.1", &p), -22);
	assert_int_equal(relay_parse_probability("nan", &p), -22);
	assert_string_equal(relay_fault_name(FAULT_BLACKHOLE), "blackhole");
	assert_string_equal(relay_phase_name(PHASE_FIRST_FAULT), "first-fault");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_brief_example, setup),
		cmocka_unit_test_setup(test_scopes_and_params, setup),
		cmocka_unit_test_setup(test_empty_and_appending, setup),
		cmocka_unit_test_setup(test_bad_specs, setup),
		cmocka_unit_test_setup(test_too_many_rules, setup),
		cmocka_unit_test_setup(test_canonical_round_trip, setup),
		cmocka_unit_test_setup(test_values, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
