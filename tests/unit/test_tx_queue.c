// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for pager/tx_queue.c: double buffering, partial sends, a full queue. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "tx_queue.h"

static size_t queue_request(struct tx_queue *tx, uint64_t id)
{
	Wire__PageRequest req = WIRE__PAGE_REQUEST__INIT;
	size_t before = tx->fill_len;

	req.offset = id * 4096;
	req.count = 1;
	req.request_id = id;
	assert_int_equal(tx_queue_frame(tx, WIRE_PAGE_REQUEST, &req.base), 0);
	return tx->fill_len - before;
}

static void test_swap_and_partial_send(void **state)
{
	struct tx_queue tx;
	const uint8_t *buf, *first;
	size_t len, n1, n2;

	(void)state;
	assert_int_equal(tx_queue_init(&tx, 4096), 0);
	assert_false(tx_queue_start(&tx, &buf, &len)); /* nothing queued */
	n1 = queue_request(&tx, 1);
	n1 += queue_request(&tx, 2);
	assert_true(tx_queue_start(&tx, &buf, &len));
	assert_int_equal(len, n1);
	first = buf;
	/* A request queued during the send fills the other buffer and waits for it. */
	n2 = queue_request(&tx, 3);
	assert_false(tx_queue_start(&tx, &buf, &len));
	/* A short send: the rest of the same buffer goes next. */
	assert_true(tx_queue_sent(&tx, 5, &buf, &len));
	assert_ptr_equal(buf, first + 5);
	assert_int_equal(len, n1 - 5);
	assert_false(tx_queue_sent(&tx, n1 - 5, &buf, &len));
	/* Then the buffer filled meanwhile. */
	assert_true(tx_queue_start(&tx, &buf, &len));
	assert_int_equal(len, n2);
	assert_ptr_not_equal(buf, first);
	assert_false(tx_queue_sent(&tx, n2, &buf, &len));
	assert_false(tx_queue_start(&tx, &buf, &len));
	tx_queue_free(&tx);
}

static void test_full(void **state)
{
	struct tx_queue tx;
	Wire__PageRequest req = WIRE__PAGE_REQUEST__INIT;
	int ret, frames = 0;

	(void)state;
	assert_int_equal(tx_queue_init(&tx, 64), 0);
	req.request_id = UINT64_MAX; /* the longest encoding */
	while (!(ret = tx_queue_frame(&tx, WIRE_PAGE_REQUEST, &req.base)))
		frames++;
	assert_int_equal(ret, -EMSGSIZE);
	assert_true(frames > 0 && tx.fill_len <= 64);
	tx_queue_free(&tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_and_partial_send),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
