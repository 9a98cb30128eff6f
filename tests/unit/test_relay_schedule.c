// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for relay/schedule.c and relay/faults.c: the same seed gives the same decisions
 * on the same frames, in any order the frames are asked about; another seed gives others;
 * budgets, frame gates, phases and `every` fire where the spec says.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "relay_internal.h"

#define N_FRAMES 2000u

static void test_draws_are_pure(void **state)
{
	struct relay_key a = { .rule = 1, .pair = 0, .channel = RELAY_CH_PUSH,
			       .dir = RELAY_DIR_TO_DEST, .frame = 77 }, b = a;
	uint64_t x = relay_schedule_draw(42, &a);

	assert_int_equal(relay_schedule_draw(42, &b), x);
	assert_int_not_equal(relay_schedule_draw(43, &a), x);
	b.frame++;
	assert_int_not_equal(relay_schedule_draw(42, &b), x);
	b = a;
	b.channel = RELAY_CH_DEMAND;
	assert_int_not_equal(relay_schedule_draw(42, &b), x);
	b = a;
	b.dir = RELAY_DIR_TO_SOURCE;
	assert_int_not_equal(relay_schedule_draw(42, &b), x);
	b = a;
	b.pair = 1;
	assert_int_not_equal(relay_schedule_draw(42, &b), x);
	b = a;
	b.rule = 2;
	assert_int_not_equal(relay_schedule_draw(42, &b), x);
	b = a;
	b.salt = SALT_DELAY;
	assert_int_not_equal(relay_schedule_draw(42, &b), x);
}

static void test_rolls_and_ranges(void **state)
{
	struct relay_key k = { .channel = RELAY_CH_DEMAND };
	unsigned int hits = 0, i;
	uint64_t v;

	for (k.frame = 0; k.frame < 100000; k.frame++) {
		hits += relay_schedule_roll(7, &k, 0.05);
		v = relay_schedule_below(7, &k, 10);
		assert_true(v < 10);
	}
	/* 5000 expected; 5 sigma is about 345. */
	assert_true(hits > 4650 && hits < 5350);
	for (k.frame = 0; k.frame < 1000; k.frame++) {
		assert_false(relay_schedule_roll(7, &k, 0));
		assert_true(relay_schedule_roll(7, &k, 1));
	}
	/* The preview is the same rolls, computed ahead. */
	{
		uint64_t out[50];
		size_t n = relay_schedule_preview(9, k, 0.1, 1000, out, 50);

		assert_int_equal(n, 50);
		for (i = 0; i < n; i++) {
			k.frame = out[i];
			k.salt = SALT_ROLL;
			assert_true(relay_schedule_roll(9, &k, 0.1));
		}
	}
}

/* A relay with no sockets: the objects faults.c reads, one push link and its pair. */
struct bench {
	struct relay r;
	struct relay_pair pair;
	struct relay_link link;
};

static struct bench *bench_new(const char *spec, uint64_t seed)
{
	struct bench *b = calloc(1, sizeof(*b));
	char err[256];

	assert_non_null(b);
	if (relay_spec_parse(&b->r.opts.spec, spec, err, sizeof(err)))
		fail_msg("%s", err);
	b->r.opts.seed = seed;
	b->r.events = calloc(RELAY_MAX_EVENTS, sizeof(*b->r.events));
	b->r.client_role = 1;
	pthread_mutex_init(&b->r.lock, NULL);
	relay_phases_init(&b->pair.phases);
	b->link = (struct relay_link){ .relay = &b->r, .pair = &b->pair, .channel = 2 };
	b->link.dir[0] = (struct relay_dir){ .link = &b->link, .index = 0 };
	b->pair.links[2] = &b->link;
	return b;
}

static void bench_free(struct bench *b)
{
	free(b->r.events);
	free(b);
}

/* The verdict on push frame `index`, a 16-page payload. */
static void decide(struct bench *b, uint64_t index, const struct phase_step *step,
		   struct relay_verdict *v)
{
	struct relay_frame f = { .type = WIRE_PAGE, .offset = index * 65536, .length = 65536,
				 .payload_off = 20, .payload_len = 65536 };
	struct phase_step none = { 0 };
	struct frame_ctx c = { .link = &b->link, .dir = &b->link.dir[0], .frame = &f,
			       .step = step ? step : &none, .role_dir = RELAY_DIR_TO_DEST,
			       .index = index };

	relay_faults_eval(&b->r, &c, v);
}

#define MIXED "delay=0..2ms;dup@p=0.05;corrupt@p=0.03,bits=3;stall@p=0.01,ms=5"

/* Every decision of a run, as one comparable record per frame. */
struct decision {
	uint64_t delay;
	bool dup, stall;
	uint32_t n_flips;
	uint64_t flips[3];
};

static void run_schedule(uint64_t seed, bool backwards, struct decision *out)
{
	struct bench *b = bench_new(MIXED, seed);
	struct relay_verdict v;
	unsigned int i, idx;

	for (i = 0; i < N_FRAMES; i++) {
		idx = backwards ? N_FRAMES - 1 - i : i;
		decide(b, idx, NULL, &v);
		out[idx] = (struct decision){ .delay = v.delay_ns, .dup = v.dup,
					      .stall = v.n_before, .n_flips = v.n_flips };
		memcpy(out[idx].flips, v.flips, sizeof(out[idx].flips));
	}
	bench_free(b);
}

static void test_same_seed_same_decisions(void **state)
{
	static struct decision a[N_FRAMES], b[N_FRAMES], c[N_FRAMES];
	unsigned int i, dups = 0, corrupt = 0, differ = 0;

	run_schedule(1234, false, a);
	run_schedule(1234, true, b); /* asked in another order: decided the same */
	assert_memory_equal(a, b, sizeof(a));
	for (i = 0; i < N_FRAMES; i++) {
		dups += a[i].dup;
		corrupt += a[i].n_flips == 3;
		assert_true(a[i].delay <= 2000000);
	}
	assert_true(dups > 50 && dups < 160);
	assert_true(corrupt > 25 && corrupt < 110);
	run_schedule(1235, false, c);
	for (i = 0; i < N_FRAMES; i++)
		differ += a[i].dup != c[i].dup || a[i].n_flips != c[i].n_flips;
	assert_true(differ > 50);
}

/* A frame gate and the default budget of one: exactly the frame asked for, once. */
static void test_frames_gate_and_budget(void **state)
{
	struct bench *b = bench_new("cut:push@frames=10;drop@frames=0", 1);
	struct relay_verdict v;
	unsigned int i, fired = 0;

	for (i = 0; i < 30; i++) {
		decide(b, i, NULL, &v);
		if (v.n_before) {
			assert_int_equal(i, 10);
			assert_int_equal(v.before[0].kind, FAULT_CUT);
			assert_int_equal(v.before[0].channels, RELAY_CH_PUSH);
			fired++;
		}
		assert_false(v.drop); /* push pages are no responses */
	}
	assert_int_equal(fired, 1);
	assert_int_equal(b->r.fired[0], 1);
	assert_int_equal(b->r.n_events, 1);
	assert_int_equal(b->r.events[0].frame, 10);
	/* A new pair: without `every` the cut stays spent. */
	memset(b->pair.fired, 0, sizeof(b->pair.fired));
	b->pair.ordinal = 1;
	decide(b, 10, NULL, &v);
	assert_int_equal(v.n_before, 0);
	bench_free(b);
}

static void test_every_fires_once_per_pair(void **state)
{
	struct bench *b = bench_new("cut:push@frames=3,every", 1);
	struct relay_verdict v;

	decide(b, 3, NULL, &v);
	assert_int_equal(v.n_before, 1);
	decide(b, 4, NULL, &v);
	assert_int_equal(v.n_before, 0);
	memset(b->pair.fired, 0, sizeof(b->pair.fired));
	b->pair.ordinal = 1;
	decide(b, 3, NULL, &v);
	assert_int_equal(v.n_before, 1);
	assert_int_equal(b->r.fired[0], 2);
	bench_free(b);
}

/* Rules at a phase act where it begins; a phase gate holds frame faults until it. */
static void test_phases(void **state)
{
	struct bench *b = bench_new("blackhole@phase=first-fault,ms=50;cut@phase=restore;"
				    "dup@phase=completion;cut:push@phase=mid-push,pages=32", 1);
	struct phase_step ff = { .before = PHASE_FIRST_FAULT }, rs = { .after = PHASE_RESTORE };
	struct phase_step mid = { .push_pages_before = 16, .push_pages_after = 32 };
	struct relay_verdict v;

	decide(b, 0, NULL, &v);
	assert_int_equal(v.n_before + v.n_after, 0);
	assert_false(v.dup);
	decide(b, 1, &ff, &v);
	assert_int_equal(v.n_before, 1);
	assert_int_equal(v.before[0].kind, FAULT_BLACKHOLE);
	assert_int_equal(v.before[0].duration_ns, 50000000);
	decide(b, 2, &rs, &v);
	assert_int_equal(v.n_after, 1); /* after the frame that completes the vCPU states */
	assert_int_equal(v.after[0].kind, FAULT_CUT);
	decide(b, 3, &mid, &v);
	assert_int_equal(v.n_after, 1);
	assert_int_equal(v.after[0].channels, RELAY_CH_PUSH);
	b->pair.phases.seen[PHASE_COMPLETION] = true;
	decide(b, 4, NULL, &v);
	assert_true(v.dup);
	bench_free(b);
}

/* A rule for one direction waits until the roles are known. */
static void test_direction_needs_roles(void **state)
{
	struct bench *b = bench_new("delay=1ms:to-dest", 1);
	struct relay_verdict v;

	b->r.client_role = 0;
	{
		struct relay_frame f = { .type = WIRE_HELLO };
		struct phase_step none = { 0 };
		struct frame_ctx c = { .link = &b->link, .dir = &b->link.dir[0], .frame = &f,
				       .step = &none, .role_dir = 0 };

		relay_faults_eval(&b->r, &c, &v);
		assert_int_equal(v.delay_ns, 0);
		c.role_dir = RELAY_DIR_TO_DEST;
		relay_faults_eval(&b->r, &c, &v);
		assert_int_equal(v.delay_ns, 1000000);
	}
	bench_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_draws_are_pure),
		cmocka_unit_test(test_rolls_and_ranges),
		cmocka_unit_test(test_same_seed_same_decisions),
		cmocka_unit_test(test_frames_gate_and_budget),
		cmocka_unit_test(test_every_fires_once_per_pair),
		cmocka_unit_test(test_phases),
		cmocka_unit_test(test_direction_needs_roles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
