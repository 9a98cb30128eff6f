// SPDX-License-Identifier: GPL-2.0-only
/*
 * Known failures in pager/page_state.c, kept out of the build (see meson.build) until fixed:
 * both are 64-bit wrap-arounds no current caller reaches (n_pages <= 2^52, count fits the region).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "page_state.h"

const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

/* page_state.c:21: (n_pages + 63) / 64 wraps to 0 words; init succeeds with a 1-word bitmap. */
static void test_init_huge_count_fails(void **state)
{
	struct page_state ps;

	assert_int_equal(page_state_init(&ps, UINT64_MAX), -ENOMEM);
	page_state_free(&ps);
}

/* page_state.c:77: first + count wraps below first; the run is reported empty. */
static void test_run_huge_count_clamps(void **state)
{
	uint64_t run_first = 0;
	struct page_state ps;

	assert_int_equal(page_state_init(&ps, 100), 0);
	assert_int_equal(page_state_next_missing_run(&ps, 10, UINT64_MAX, &run_first), 90);
	assert_int_equal(run_first, 10);
	page_state_free(&ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_huge_count_fails),
		cmocka_unit_test(test_run_huge_count_clamps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
