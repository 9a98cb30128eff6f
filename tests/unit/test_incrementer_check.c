// SPDX-License-Identifier: GPL-2.0-only
/* guest_incrementer_check() on synthetic slices: one edge passes, anything else fails. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "guest.h"
#include "log.h"

#define PAGES 64
static uint8_t slice[PAGES * GUEST_PAGE_SIZE];

/* Pages [0, edge) read hi, the rest lo. */
static void fill(uint64_t edge, uint8_t hi, uint8_t lo)
{
	uint64_t p;

	memset(slice, 0xaa, sizeof(slice)); /* the other bytes of a page do not matter */
	for (p = 0; p < PAGES; p++)
		slice[p * GUEST_PAGE_SIZE] = p < edge ? hi : lo;
}

static void no_edge(void **unused)
{
	uint64_t edge = 99;
	uint8_t low;

	fill(0, 0, 7);
	assert_int_equal(guest_incrementer_check(slice, sizeof(slice), 7, &low, &edge), 0);
	assert_int_equal(low, 7);
	assert_int_equal(edge, 0);
	assert_int_equal(guest_incrementer_check(slice, sizeof(slice), -1, NULL, NULL), 0);
}

static void one_edge(void **unused)
{
	uint64_t edge;
	uint8_t low;

	fill(10, 8, 7);
	assert_int_equal(guest_incrementer_check(slice, sizeof(slice), 7, &low, &edge), 0);
	assert_int_equal(low, 7);
	assert_int_equal(edge, 10);
	fill(PAGES - 1, 8, 7); /* the edge just before the last page */
	assert_int_equal(guest_incrementer_check(slice, sizeof(slice), 7, &low, &edge), 0);
	assert_int_equal(edge, PAGES - 1);
}

static void wrap_edge(void **unused)
{
	uint64_t edge;
	uint8_t low;

	/* Pass 256 wrapped the first pages to 0 while the rest still read 255. */
	fill(5, 0, 255);
	assert_int_equal(guest_incrementer_check(slice, sizeof(slice), 255, &low, &edge), 0);
	assert_int_equal(low, 255);
	assert_int_equal(edge, 5);
	/* 511 whole passes: 511 mod 256 = 255. */
	assert_int_equal(guest_incrementer_check(slice, sizeof(slice), 511, &low, &edge), 0);
}

static void bad_slices(void **unused)
{
	fill(10, 9, 7); /* a step of two */
	assert_int_equal(guest_incrementer_check(slice, sizeof(slice), -1, NULL, NULL), -EINVAL);
	fill(10, 6, 7); /* the later pages ahead */
	assert_int_equal(guest_incrementer_check(slice, sizeof(slice), -1, NULL, NULL), -EINVAL);
	fill(10, 8, 7);
	slice[40 * GUEST_PAGE_SIZE] = 8; /* a second edge */
	assert_int_equal(guest_incrementer_check(slice, sizeof(slice), -1, NULL, NULL), -EINVAL);
	fill(10, 8, 7); /* right shape, wrong pass count */
	assert_int_equal(guest_incrementer_check(slice, sizeof(slice), 6, NULL, NULL), -EINVAL);
	assert_int_equal(guest_incrementer_check(slice, 0, -1, NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_edge),
		cmocka_unit_test(one_edge),
		cmocka_unit_test(wrap_edge),
		cmocka_unit_test(bad_slices),
	};

	log_set_prefix("test_incrementer_check");
	log_max_level = LOG_ERR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
