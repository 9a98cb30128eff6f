// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for pager/histogram.c: log-linear bucket mapping and quantiles. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "histogram.h"

#define LAST_BUCKET (HISTOGRAM_BUCKETS - 1)

static const double common_q[] = { 0.50, 0.90, 0.99, 0.999, 1.0 };

static struct histogram *hist_new(void)
{
	struct histogram *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	return h;
}

static void add_n(struct histogram *h, uint64_t value, unsigned int n)
{
	while (n--)
		histogram_add(h, value);
}

static void assert_in_bucket(uint64_t v)
{
	unsigned int b = histogram_bucket_of(v);

	assert_true(b < HISTOGRAM_BUCKETS);
	assert_true(histogram_bucket_low(b) <= v);
	assert_true(v <= histogram_bucket_high(b));
}

static void assert_quantiles(const struct histogram *h, const uint64_t want[5])
{
	size_t i;

	for (i = 0; i < 5; i++)
		assert_int_equal(histogram_quantile(h, common_q[i]), want[i]);
}

static void test_exact_below_eight(void **state)
{
	uint64_t v;

	for (v = 0; v < 8; v++) {
		assert_int_equal(histogram_bucket_of(v), v);
		assert_int_equal(histogram_bucket_low((unsigned int)v), v);
		assert_int_equal(histogram_bucket_high((unsigned int)v), v);
	}
	assert_int_equal(histogram_bucket_of(8), 8);
	assert_int_equal(histogram_bucket_of(15), 15);
	assert_int_equal(histogram_bucket_of(16), 16);
	assert_int_equal(histogram_bucket_of(17), 16);
	assert_int_equal(histogram_bucket_of(18), 17);
}

static void test_bounds(void **state)
{
	assert_int_equal(histogram_bucket_low(0), 0);
	assert_int_equal(histogram_bucket_of(UINT64_MAX), LAST_BUCKET);
	assert_int_equal(histogram_bucket_high(LAST_BUCKET), UINT64_MAX);
	assert_int_equal(histogram_bucket_low(LAST_BUCKET), 15ull << 60);
	assert_int_equal(histogram_bucket_of(15ull << 60), LAST_BUCKET);
	assert_int_equal(histogram_bucket_of((15ull << 60) - 1), LAST_BUCKET - 1);
	assert_int_equal(histogram_bucket_of(1ull << 63), LAST_BUCKET - 7);
}

/* Buckets tile [0, UINT64_MAX]: no gap, no overlap, each maps back onto itself. */
static void test_buckets_contiguous(void **state)
{
	unsigned int b;

	for (b = 0; b < HISTOGRAM_BUCKETS; b++) {
		uint64_t low = histogram_bucket_low(b), high = histogram_bucket_high(b);

		assert_true(low <= high);
		assert_int_equal(histogram_bucket_of(low), b);
		assert_int_equal(histogram_bucket_of(high), b);
		if (b + 1 < HISTOGRAM_BUCKETS)
			assert_int_equal(high + 1, histogram_bucket_low(b + 1));
	}
}

static void test_relative_width(void **state)
{
	unsigned int b;

	/* 8 buckets an octave: width / low <= 1/8, the documented 12.5%. */
	for (b = 8; b < HISTOGRAM_BUCKETS; b++) {
		uint64_t low = histogram_bucket_low(b), high = histogram_bucket_high(b);

		assert_true(high - low < low / 8);
	}
}

static void test_mapping_monotonic(void **state)
{
	unsigned int prev = 0, b;
	uint64_t v;
	int shift;

	for (v = 0; v < (1u << 16); v++) {
		b = histogram_bucket_of(v);
		assert_true(b == prev || b == prev + 1);
		assert_in_bucket(v);
		prev = b;
	}
	for (shift = 3; shift < 64; shift++) {
		v = 1ull << shift;
		assert_int_equal(histogram_bucket_of(v - 1) + 1, histogram_bucket_of(v));
		assert_in_bucket(v - 1);
		assert_in_bucket(v);
		assert_in_bucket(v + 1);
		assert_in_bucket(v | (v - 1));
	}
}

static void test_empty(void **state)
{
	struct histogram *h = hist_new();
	size_t i;

	for (i = 0; i < 5; i++)
		assert_int_equal(histogram_quantile(h, common_q[i]), 0);
	assert_int_equal(histogram_quantile(h, 0.0), 0);
	free(h);
}

static void test_single_value(void **state)
{
	static const uint64_t values[] = { 0, 1, 7, 8, 9, 1000, 123456789, 1ull << 40, UINT64_MAX };
	size_t i, j;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct histogram *h = hist_new();

		histogram_add(h, values[i]);
		assert_int_equal(h->count, 1);
		assert_int_equal(h->max, values[i]);
		assert_int_equal(h->sum, values[i]);
		/* The bucket's upper bound is capped at the largest value seen. */
		for (j = 0; j < 5; j++)
			assert_int_equal(histogram_quantile(h, common_q[j]), values[i]);
		assert_int_equal(histogram_quantile(h, 0.0), values[i]);
		assert_int_equal(histogram_quantile(h, 1e-9), values[i]);
		free(h);
	}
}

static void test_max_cap(void **state)
{
	struct histogram *h = hist_new();

	/* 1000 lives in bucket [960, 1023]. */
	add_n(h, 1000, 10);
	assert_int_equal(histogram_bucket_high(histogram_bucket_of(1000)), 1023);
	assert_int_equal(histogram_quantile(h, 0.5), 1000);
	assert_int_equal(histogram_quantile(h, 1.0), 1000);
	/* A smaller value in the same bucket: the cap is the max, not the latest. */
	histogram_add(h, 970);
	assert_int_equal(histogram_quantile(h, 0.01), 1000);
	/* Below the max's bucket the bucket bound is reported, not the max. */
	add_n(h, 100, 100);
	assert_int_equal(histogram_quantile(h, 0.5), 103);
	assert_int_equal(histogram_quantile(h, 1.0), 1000);
	free(h);
}

static void test_counters(void **state)
{
	struct histogram *h = hist_new();
	uint64_t v, total = 0;

	for (v = 1; v <= 1000; v++) {
		histogram_add(h, v * 3);
		total += v * 3;
	}
	assert_int_equal(h->count, 1000);
	assert_int_equal(h->sum, total);
	assert_int_equal(h->max, 3000);
	for (v = 0, total = 0; v < HISTOGRAM_BUCKETS; v++)
		total += h->buckets[v];
	assert_int_equal(total, 1000);
	free(h);
}

static void test_small_exact(void **state)
{
	struct histogram *h = hist_new();

	add_n(h, 1, 1);
	add_n(h, 2, 1);
	add_n(h, 3, 1);
	add_n(h, 4, 1);
	assert_int_equal(histogram_quantile(h, 0.25), 1);
	assert_int_equal(histogram_quantile(h, 0.26), 2);
	assert_int_equal(histogram_quantile(h, 0.50), 2);
	assert_int_equal(histogram_quantile(h, 0.75), 3);
	assert_int_equal(histogram_quantile(h, 0.99), 4);
	assert_int_equal(histogram_quantile(h, 1.0), 4);
	free(h);
}

static void test_uniform_1_to_1000(void **state)
{
	/* p50: 500 in [480, 511]; p90: 900 in [896, 959]; p99 and up: capped at 1000. */
	static const uint64_t want[5] = { 511, 959, 1000, 1000, 1000 };
	struct histogram *h = hist_new();
	uint64_t v;

	for (v = 1; v <= 1000; v++)
		histogram_add(h, v);
	assert_quantiles(h, want);
	free(h);
}

static void test_bimodal_rank_edge(void **state)
{
	/* Rank 990 of 1000 is the last 100; rank 999 is in the 10^6 tail. */
	static const uint64_t want[5] = { 103, 103, 103, 1000000, 1000000 };
	struct histogram *h = hist_new();

	add_n(h, 100, 990);
	add_n(h, 1000000, 10);
	assert_quantiles(h, want);
	assert_int_equal(histogram_quantile(h, 0.991), 1000000);
	free(h);
}

static void test_latency_tail(void **state)
{
	static const uint64_t want[5] = { 53247, 53247, 212991, 1048575, 10000000 };
	struct histogram *h = hist_new();

	add_n(h, 50000, 900);
	add_n(h, 200000, 90);
	add_n(h, 1000000, 9);
	add_n(h, 10000000, 1);
	assert_quantiles(h, want);
	free(h);
}

static void test_powers_of_two(void **state)
{
	static const uint64_t want[5] = { 575, 147455, 524288, 524288, 524288 };
	struct histogram *h = hist_new();
	unsigned int i;

	for (i = 0; i < 1000; i++)
		histogram_add(h, 1ull << (i % 20));
	assert_quantiles(h, want);
	free(h);
}

static void test_uniform_10000_steps(void **state)
{
	static const uint64_t want[5] = { 5242879, 9437183, 10000000, 10000000, 10000000 };
	struct histogram *h = hist_new();
	uint64_t i;

	for (i = 1; i <= 10000; i++)
		histogram_add(h, i * 1000);
	assert_quantiles(h, want);
	free(h);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Against the sorted sample: never below the true value, at most one bucket (12.5%) above. */
static void test_random_against_sorted(void **state)
{
	enum { N = 4999 };
	static uint64_t vals[N];
	static const double qs[] = { 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0 };
	uint64_t seed = 0x2545f4914f6cdd1dull;
	int round;
	size_t i;

	for (round = 0; round < 8; round++) {
		struct histogram *h = hist_new();

		for (i = 0; i < N; i++) {
			/* Log-uniform over 1 ns .. ~1 s, the range latencies live in. */
			vals[i] = rnd(&seed) >> (34 + rnd(&seed) % 30);
			histogram_add(h, vals[i]);
		}
		qsort(vals, N, sizeof(vals[0]), cmp_u64);
		for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
			uint64_t exact = vals[(size_t)ceil(qs[i] * N) - 1];
			uint64_t got = histogram_quantile(h, qs[i]);

			assert_true(got >= exact);
			assert_true(got - exact <= exact / 8);
			assert_int_equal(histogram_bucket_of(got), histogram_bucket_of(exact));
		}
		assert_int_equal(histogram_quantile(h, 1.0), vals[N - 1]);
		free(h);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_below_eight),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_buckets_contiguous),
		cmocka_unit_test(test_relative_width),
		cmocka_unit_test(test_mapping_monotonic),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_single_value),
		cmocka_unit_test(test_max_cap),
		cmocka_unit_test(test_counters),
		cmocka_unit_test(test_small_exact),
		cmocka_unit_test(test_uniform_1_to_1000),
		cmocka_unit_test(test_bimodal_rank_edge),
		cmocka_unit_test(test_latency_tail),
		cmocka_unit_test(test_powers_of_two),
		cmocka_unit_test(test_uniform_10000_steps),
		cmocka_unit_test(test_random_against_sorted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
