/* SPDX-License-Identifier: GPL-2.0-only */
/* Logging for the daemons, tools and library: one line per event, on stderr. */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped; set from -v/-q or $PAGER_LOG_LEVEL. */
extern enum log_level log_max_level;

void log_set_prefix(const char *prefix);
void log_init_from_env(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/*
 * A library's log callback (libpager's pager_log_fn): one message at level (LOG_ERR..LOG_DEBUG)
 * through this program's logger, so -q and -v apply to it. opaque: a name to prefix, or NULL.
 */
void log_forward(void *opaque, int level, const char *msg);

/* Only for main() and tests: print and exit(1). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
