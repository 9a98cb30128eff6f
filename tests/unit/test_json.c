// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for common/json.c: commas, nesting, and escaping of hostile strings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct capture {
	char *buf;
	size_t len;
	FILE *f;
	struct json j;
};

static void capture_open(struct capture *c)
{
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	json_init(&c->j, c->f);
}

static void capture_expect(struct capture *c, const char *want)
{
	assert_int_equal(fclose(c->f), 0);
	assert_string_equal(c->buf, want);
	free(c->buf);
}

static void test_commas_and_nesting(void **state)
{
	struct capture c;

	capture_open(&c);
	json_object_begin(&c.j);
	json_kv_u64(&c.j, "a", 1);
	json_kv_i64(&c.j, "b", -2);
	json_key(&c.j, "list");
	json_array_begin(&c.j);
	json_double(&c.j, 1.25, 2);
	json_bool(&c.j, true);
	json_object_begin(&c.j);
	json_kv_bool(&c.j, "x", false);
	json_object_end(&c.j);
	json_array_begin(&c.j);
	json_array_end(&c.j);
	json_null(&c.j);
	json_array_end(&c.j);
	json_kv_double(&c.j, "nan", NAN, 1);
	json_kv_str(&c.j, "none", NULL);
	json_key(&c.j, "spliced");
	json_value_prepare(&c.j);
	fputs("{\"n\": 3}", c.f);
	json_kv_u64(&c.j, "after", 4);
	json_object_end(&c.j);
	capture_expect(&c, "{\"a\": 1, \"b\": -2, \"list\": [1.25, true, {\"x\": false}, [], null], "
			   "\"nan\": null, \"none\": null, \"spliced\": {\"n\": 3}, \"after\": 4}\n");
}

static void test_escapes_hostile_text(void **state)
{
	struct capture c;

	capture_open(&c);
	json_object_begin(&c.j);
	/* A peer's error text: quotes, a backslash, newline, tab, ESC, DEL. */
	json_kv_str(&c.j, "failure", "he said \"no\\\"\n\t\x1b\x7f}");
	json_object_end(&c.j);
	capture_expect(&c, "{\"failure\": \"he said \\\"no\\\\\\\"\\n\\t\\u001b\\u007f}\"}\n");
}

static void test_utf8_kept_invalid_replaced(void **state)
{
	struct capture c;

	capture_open(&c);
	json_array_begin(&c.j);
	json_str(&c.j, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"); /* valid: kept as is */
	json_str(&c.j, "\xff\xc3(\xc0\xaf\xed\xa0\x80\xe2\x82");   /* invalid: U+FFFD each */
	json_array_end(&c.j);
	capture_expect(&c, "[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\", "
			   "\"\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"]\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commas_and_nesting),
		cmocka_unit_test(test_escapes_hostile_text),
		cmocka_unit_test(test_utf8_kept_invalid_replaced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
