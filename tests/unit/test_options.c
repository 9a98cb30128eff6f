// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for the sized public options (pager/options.c) and the library's log
 * (pager/logger.c). pager_create() and pager_source_create() check the size before anything
 * else, so no userfaultfd is needed here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "logger.h"
#include "options.h"
#include "pager.h"

static void test_defaults(void **state)
{
	struct pager_source_options so;
	struct pager_options o;

	(void)state;
	pager_options_init(&o);
	assert_int_equal(o.size, sizeof(o));
	assert_int_equal(o.listener_cpu, -1);
	assert_int_equal(o.dead_peer_ms, 10000);
	assert_int_equal(o.log_level, PAGER_LOG_WARN);
	assert_null(o.log_fn);
	pager_source_options_init(&so);
	assert_int_equal(so.size, sizeof(so));
	assert_true(so.push);
	assert_int_equal(o.listener_nice, -5);
	assert_int_equal(o.push_nice, 0);
	assert_int_equal(so.push_run_pages, 64);
	assert_int_equal(so.push_nice, 10);
	assert_int_equal(so.log_level, PAGER_LOG_WARN);
}

static void test_create_checks_size(void **state)
{
	struct {
		struct pager_source_options o;
		uint64_t unknown;
	} newer;
	struct pager_source *src;
	struct pager_options o;
	struct pager *p;

	(void)state;
	pager_options_init(&o);
	o.size = 0; /* a caller that never called pager_options_init() */
	assert_int_equal(pager_create(&o, &p), -EINVAL);
	/* A newer caller: its longer struct is fine while the fields we lack are zero. */
	newer.unknown = 5;
	pager_source_options_defaults(&newer.o, sizeof(newer));
	assert_int_equal(newer.o.size, sizeof(newer));
	assert_int_equal(newer.unknown, 0);
	newer.o.push_run_pages = 32;
	assert_int_equal(pager_source_create(&newer.o, &src), 0);
	pager_source_destroy(src);
	newer.unknown = 1;
	assert_int_equal(pager_source_create(&newer.o, &src), -E2BIG);
}

static void test_copy_older_caller(void **state)
{
	struct pager_source_options dst, src;

	(void)state;
	/* An older caller's struct ends before `push_nice`: that field keeps its default. */
	pager_source_options_init(&dst);
	memset(&src, 0xff, sizeof(src));
	assert_int_equal(options_copy(&dst, sizeof(dst), &src,
				      offsetof(struct pager_source_options, push_nice),
				      offsetof(struct pager_source_options, push_run_pages)), 0);
	assert_int_equal(dst.push_nice, 10);
	assert_int_equal(dst.log_level, PAGER_LOG_WARN);
	assert_int_equal(dst.push_run_pages, UINT32_MAX);
	assert_int_equal(options_copy(&dst, sizeof(dst), &src, 4, 8), -EINVAL);
}

struct seen {
	int count, level;
	char msg[64];
};

static void capture(void *opaque, int level, const char *msg)
{
	struct seen *s = opaque;

	s->count++;
	s->level = level;
	strncpy(s->msg, msg, sizeof(s->msg) - 1);
}

static void test_logger_level(void **state)
{
	struct seen seen = { 0 };
	struct logger lg;

	(void)state;
	logger_init(&lg, capture, &seen, PAGER_LOG_WARN);
	logger_info(&lg, "dropped %d", 1);
	assert_int_equal(seen.count, 0);
	logger_warn(&lg, "kept %d", 2);
	assert_int_equal(seen.count, 1);
	assert_int_equal(seen.level, PAGER_LOG_WARN);
	assert_string_equal(seen.msg, "kept 2");
	logger_err(&lg, "kept %s", "too");
	assert_int_equal(seen.count, 2);
	assert_int_equal(seen.level, PAGER_LOG_ERR);
	/* No callback: the library's own stderr writer, never a NULL call. */
	logger_init(&lg, NULL, &seen, PAGER_LOG_ERR);
	assert_non_null(lg.fn);
	assert_null(lg.opaque);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_create_checks_size),
		cmocka_unit_test(test_copy_older_caller),
		cmocka_unit_test(test_logger_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
