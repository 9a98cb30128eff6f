/* SPDX-License-Identifier: GPL-2.0-only */
/* Between the spec parser (spec.c) and its checks and canonical form (spec_check.c). */
#ifndef RELAY_SPEC_INTERNAL_H
#define RELAY_SPEC_INTERNAL_H

#include "spec.h"

struct spec_parser {
	struct relay_rule *rule;
	unsigned int index;
	/* What the text said, as opposed to the defaults the checks fill in. */
	bool channels_given, dirs_given, count_given;
	char *err;
	size_t err_len;
};

/* Writes "rule N 'TEXT': <sentence>" into the parser's err; returns -EINVAL. */
int spec_refuse(struct spec_parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Whether the parsed rule makes sense as a whole; fills in the defaults that depend on it. */
int spec_rule_check(struct spec_parser *ps);

#endif
