// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for pager/counters.c and pager/waiters.c: what a fault, a frame, a wait count. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "counters.h"
#include "waiters.h"

static void test_faults_by_status(void **state)
{
	struct pager_counters *c = calloc(1, sizeof(*c));
	struct pager_stats *s = calloc(1, sizeof(*s));
	struct precopy_counters pc = { 0 };

	(void)state;
	counters_fault(c, 10, PAGE_ABSENT);
	counters_fault(c, 11, PAGE_REQUESTED);
	counters_fault(c, 10, PAGE_PRESENT);
	counters_frame(c, ORIGIN_DEMAND, 4, 3, 1, 4 * 4096);
	counters_frame(c, ORIGIN_ZERO, 2, 2, 0, 0);
	counters_preloaded(&pc, 8, 1, 2, 8 * 4096);
	counters_discarded(&pc, 3);
	counters_snapshot(c, &pc, s);
	assert_int_equal(s->faults, 3);
	assert_int_equal(s->requests_sent, 1);
	assert_int_equal(s->faults_coalesced, 1);
	assert_int_equal(s->faults_present, 1);
	assert_int_equal(s->n_threads, 2);
	assert_int_equal(s->threads[0].tid, 10);
	assert_int_equal(s->threads[0].faults, 2);
	assert_int_equal(s->pages_demand, 3);
	assert_int_equal(s->pages_zero, 2);
	assert_int_equal(s->pages_duplicate, 1);
	assert_int_equal(s->pages_precopy, 8 - 1 - 3);
	assert_int_equal(s->pages_discarded, 3);
	assert_int_equal(s->install_retries, 1 + 2);
	assert_int_equal(s->bytes_received, 12 * 4096);
	free(c);
	free(s);
}

static void test_thread_table_overflow(void **state)
{
	struct pager_counters *c = calloc(1, sizeof(*c));
	pid_t tid;

	(void)state;
	for (tid = 1; tid <= (pid_t)PAGER_MAX_THREAD_STATS + 5; tid++)
		counters_fault(c, tid, PAGE_ABSENT);
	assert_int_equal(c->n_threads, PAGER_MAX_THREAD_STATS);
	assert_int_equal(c->threads_other_faults, 5);
	assert_int_equal(c->faults, PAGER_MAX_THREAD_STATS + 5);
	free(c);
}

static void test_waiters_served_by_range(void **state)
{
	struct pager_counters *c = calloc(1, sizeof(*c));
	struct waiters w = { 0 };
	uint64_t now = clock_now_ns();
	int i;

	(void)state;
	/* Enough to grow the array: 200 waiters on pages 0x1000 apart, the first the oldest. */
	for (i = 0; i < 200; i++)
		assert_int_equal(waiters_add(&w, 0x100000 + (uint64_t)i * 0x1000, 100 + (i % 3),
					     now - 1000000 + (uint64_t)i), 0);
	assert_int_equal(waiters_oldest(&w)->page_addr, 0x100000);
	/* Pages 10..19 installed: exactly their ten waiters leave, their waits counted. */
	waiters_serve(&w, 0x100000 + 10 * 0x1000, 10 * 0x1000, c);
	assert_int_equal(w.n, 190);
	assert_int_equal(c->latency.count, 10);
	assert_true(c->latency.max >= 1000000 - 19);
	for (i = 0; i < (int)w.n; i++)
		assert_true(w.v[i].page_addr < 0x100000 + 10 * 0x1000 ||
			    w.v[i].page_addr >= 0x100000 + 20 * 0x1000);
	waiters_serve(&w, 0, UINT64_MAX, c);
	assert_int_equal(w.n, 0);
	assert_null(waiters_oldest(&w));
	assert_int_equal(c->latency.count, 200);
	waiters_free(&w);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_faults_by_status),
		cmocka_unit_test(test_thread_table_overflow),
		cmocka_unit_test(test_waiters_served_by_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
