/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The library's messages, through the callback its owner gave in the options: libpager keeps
 * no logger state of its own, so a program's -q or -v applies to it too.
 */
#ifndef PAGER_LOGGER_H
#define PAGER_LOGGER_H

#include "pager.h"

struct logger {
	pager_log_fn fn; /* never NULL after logger_init() */
	void *opaque;
	int level;       /* messages above it are dropped before formatting */
};

/* fn NULL: stderr with a "libpager:" prefix. */
void logger_init(struct logger *lg, pager_log_fn fn, void *opaque, int level);
void logger_msg(const struct logger *lg, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define logger_err(lg, ...) logger_msg(lg, PAGER_LOG_ERR, __VA_ARGS__)
#define logger_warn(lg, ...) logger_msg(lg, PAGER_LOG_WARN, __VA_ARGS__)
#define logger_info(lg, ...) logger_msg(lg, PAGER_LOG_INFO, __VA_ARGS__)

#endif
