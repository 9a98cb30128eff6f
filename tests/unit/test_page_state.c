// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for pager/page_state.c: per-page absent/requested/present bitmaps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "page_state.h"

/* The -ENOMEM test asks for an impossible calloc; ASan must return NULL, not abort. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static void ps_init(struct page_state *ps, uint64_t n)
{
	assert_int_equal(page_state_init(ps, n), 0);
	assert_non_null(ps->requested);
	assert_non_null(ps->present);
}

static void assert_run(const struct page_state *ps, uint64_t first, uint64_t count,
		       uint64_t want_first, uint64_t want_len)
{
	uint64_t run_first = UINT64_MAX, len;

	len = page_state_next_missing_run(ps, first, count, &run_first);
	assert_int_equal(len, want_len);
	if (want_len)
		assert_int_equal(run_first, want_first);
}

static void test_init_all_absent(void **state)
{
	struct page_state ps;
	uint64_t p;

	ps_init(&ps, 130);
	assert_int_equal(ps.n_pages, 130);
	assert_int_equal(ps.n_present, 0);
	assert_int_equal(page_state_missing(&ps), 130);
	assert_int_equal(page_state_count_requested(&ps), 0);
	for (p = 0; p < 130; p++)
		assert_int_equal(page_state_get(&ps, p), PAGE_ABSENT);
	page_state_free(&ps);
	assert_null(ps.requested);
	assert_null(ps.present);
	/* A second free (error paths do it) must be harmless. */
	page_state_free(&ps);
}

static void test_init_zero_pages(void **state)
{
	struct page_state ps;

	ps_init(&ps, 0);
	assert_int_equal(page_state_missing(&ps), 0);
	assert_int_equal(page_state_count_requested(&ps), 0);
	assert_run(&ps, 0, 10, 0, 0);
	page_state_free(&ps);
}

static void test_init_enomem(void **state)
{
	struct page_state ps;

	/* 2^62 pages: 2^59 bytes a bitmap, never satisfiable. */
	assert_int_equal(page_state_init(&ps, 1ull << 62), -ENOMEM);
	assert_null(ps.requested);
	assert_null(ps.present);
	page_state_free(&ps);
}

static void test_request_then_present(void **state)
{
	struct page_state ps;

	ps_init(&ps, 64);
	assert_true(page_state_request(&ps, 5));
	assert_int_equal(page_state_get(&ps, 5), PAGE_REQUESTED);
	assert_int_equal(page_state_count_requested(&ps), 1);
	/* Later faults on a requested page send nothing. */
	assert_false(page_state_request(&ps, 5));
	assert_int_equal(page_state_count_requested(&ps), 1);
	assert_int_equal(page_state_missing(&ps), 64);

	assert_true(page_state_set_present(&ps, 5));
	assert_int_equal(page_state_get(&ps, 5), PAGE_PRESENT);
	assert_int_equal(page_state_count_requested(&ps), 0);
	assert_int_equal(page_state_missing(&ps), 63);

	assert_false(page_state_set_present(&ps, 5));
	assert_false(page_state_request(&ps, 5));
	assert_int_equal(page_state_get(&ps, 5), PAGE_PRESENT);
	assert_int_equal(page_state_missing(&ps), 63);
	assert_int_equal(page_state_count_requested(&ps), 0);
	page_state_free(&ps);
}

static void test_pushed_page_lands_first(void **state)
{
	struct page_state ps;

	ps_init(&ps, 8);
	assert_true(page_state_set_present(&ps, 7));
	assert_int_equal(page_state_get(&ps, 7), PAGE_PRESENT);
	assert_false(page_state_request(&ps, 7));
	assert_int_equal(page_state_count_requested(&ps), 0);
	assert_int_equal(page_state_missing(&ps), 7);
	page_state_free(&ps);
}

/* A pre-copied page the guest wrote again on the source is dropped back to absent. */
static void test_precopied_page_dropped(void **state)
{
	struct page_state ps;
	uint64_t first = 0;

	ps_init(&ps, 70);
	assert_true(page_state_set_present(&ps, 64));
	assert_true(page_state_set_present(&ps, 65));
	assert_true(page_state_set_absent(&ps, 64));
	assert_false(page_state_set_absent(&ps, 64));
	assert_false(page_state_set_absent(&ps, 3));
	assert_int_equal(page_state_get(&ps, 64), PAGE_ABSENT);
	assert_int_equal(page_state_get(&ps, 65), PAGE_PRESENT);
	assert_int_equal(page_state_missing(&ps), 69);
	assert_int_equal(page_state_next_missing_run(&ps, 64, 2, &first), 1);
	assert_int_equal(first, 64);
	assert_true(page_state_request(&ps, 64));
	page_state_free(&ps);
}

static void test_word_boundaries(void **state)
{
	static const uint64_t pages[] = { 0, 1, 62, 63, 64, 65, 127, 128, 129 };
	struct page_state ps;
	size_t i;
	uint64_t p;

	ps_init(&ps, 130);
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
		assert_true(page_state_request(&ps, pages[i]));
	assert_int_equal(page_state_count_requested(&ps), 9);
	for (p = 0; p < 130; p++) {
		bool listed = false;

		for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
			listed |= pages[i] == p;
		assert_int_equal(page_state_get(&ps, p), listed ? PAGE_REQUESTED : PAGE_ABSENT);
	}
	assert_true(page_state_set_present(&ps, 129));
	assert_true(page_state_set_present(&ps, 64));
	assert_int_equal(page_state_count_requested(&ps), 7);
	assert_int_equal(page_state_get(&ps, 63), PAGE_REQUESTED);
	assert_int_equal(page_state_get(&ps, 65), PAGE_REQUESTED);
	assert_int_equal(page_state_get(&ps, 128), PAGE_REQUESTED);
	assert_int_equal(page_state_missing(&ps), 128);
	page_state_free(&ps);
}

static void test_fill_every_page(void **state)
{
	struct page_state ps;
	uint64_t p;

	ps_init(&ps, 200);
	for (p = 0; p < 200; p++) {
		if (p % 3)
			assert_true(page_state_request(&ps, p));
		assert_true(page_state_set_present(&ps, p));
		assert_int_equal(page_state_missing(&ps), 199 - p);
	}
	assert_int_equal(page_state_count_requested(&ps), 0);
	assert_run(&ps, 0, 200, 0, 0);
	page_state_free(&ps);
}

static void test_run_all_missing(void **state)
{
	struct page_state ps;

	ps_init(&ps, 100);
	assert_run(&ps, 0, 100, 0, 100);
	assert_run(&ps, 10, 5, 10, 5);
	assert_run(&ps, 99, 1, 99, 1);
	assert_run(&ps, 10, 0, 0, 0);
	page_state_free(&ps);
}

static void test_run_clamped_to_region(void **state)
{
	struct page_state ps;

	ps_init(&ps, 100);
	assert_run(&ps, 90, 50, 90, 10);
	assert_run(&ps, 100, 5, 0, 0);
	assert_run(&ps, 150, 5, 0, 0);
	page_state_free(&ps);
}

static void test_run_skips_present(void **state)
{
	struct page_state ps;
	uint64_t p;

	ps_init(&ps, 256);
	/* Present: 0..69, 72, 130..255; missing: 70, 71, 73..129. */
	for (p = 0; p < 70; p++)
		page_state_set_present(&ps, p);
	page_state_set_present(&ps, 72);
	for (p = 130; p < 256; p++)
		page_state_set_present(&ps, p);

	assert_run(&ps, 0, 256, 70, 2);
	assert_run(&ps, 72, 184, 73, 57); /* crosses the 64..127 word */
	assert_run(&ps, 0, 70, 0, 0);
	assert_run(&ps, 130, 126, 0, 0);
	assert_run(&ps, 100, 10, 100, 10);
	page_state_free(&ps);
}

static void test_run_counts_requested_as_missing(void **state)
{
	struct page_state ps;

	ps_init(&ps, 16);
	page_state_request(&ps, 3);
	page_state_request(&ps, 4);
	page_state_set_present(&ps, 5);
	assert_run(&ps, 0, 16, 0, 5);
	assert_run(&ps, 3, 13, 3, 2);
	assert_run(&ps, 5, 11, 6, 10);
	page_state_free(&ps);
}

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void test_random_against_model(void **state)
{
	enum { N = 517 };
	enum page_status model[N] = { 0 };
	uint64_t seed = 0x9e3779b97f4a7c15ull, i, p, n_present = 0, n_req;
	struct page_state ps;

	ps_init(&ps, N);
	for (i = 0; i < 4000; i++) {
		p = rnd(&seed) % N;
		if (rnd(&seed) & 1) {
			assert_int_equal(page_state_request(&ps, p), model[p] == PAGE_ABSENT);
			if (model[p] == PAGE_ABSENT)
				model[p] = PAGE_REQUESTED;
		} else {
			assert_int_equal(page_state_set_present(&ps, p), model[p] != PAGE_PRESENT);
			if (model[p] != PAGE_PRESENT)
				n_present++;
			model[p] = PAGE_PRESENT;
		}
		if (i % 97)
			continue;
		n_req = 0;
		for (p = 0; p < N; p++) {
			assert_int_equal(page_state_get(&ps, p), model[p]);
			n_req += model[p] == PAGE_REQUESTED;
		}
		assert_int_equal(page_state_count_requested(&ps), n_req);
		assert_int_equal(page_state_missing(&ps), N - n_present);

		/* Every window: the first maximal non-present run, as a scan finds it. */
		for (p = 0; p < N; p += 37) {
			uint64_t count = rnd(&seed) % 200, end = p + count < N ? p + count : N;
			uint64_t s = p, e;

			while (s < end && model[s] == PAGE_PRESENT)
				s++;
			for (e = s; e < end && model[e] != PAGE_PRESENT; e++)
				;
			assert_run(&ps, p, count, s, e - s);
		}
	}
	page_state_free(&ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_all_absent),
		cmocka_unit_test(test_init_zero_pages),
		cmocka_unit_test(test_init_enomem),
		cmocka_unit_test(test_request_then_present),
		cmocka_unit_test(test_pushed_page_lands_first),
		cmocka_unit_test(test_precopied_page_dropped),
		cmocka_unit_test(test_word_boundaries),
		cmocka_unit_test(test_fill_every_page),
		cmocka_unit_test(test_run_all_missing),
		cmocka_unit_test(test_run_clamped_to_region),
		cmocka_unit_test(test_run_skips_present),
		cmocka_unit_test(test_run_counts_requested_as_missing),
		cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
