// SPDX-License-Identifier: GPL-2.0-only
#include "logger.h"

#include <stdarg.h>
#include <stdio.h>

static void log_to_stderr(void *opaque, int level, const char *msg)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	/* One call per line so concurrent threads and processes do not interleave. */
	fprintf(stderr, "libpager: %s: %s\n",
		level >= PAGER_LOG_ERR && level <= PAGER_LOG_DEBUG ? names[level] : "log", msg);
}

void logger_init(struct logger *lg, pager_log_fn fn, void *opaque, int level)
{
	lg->fn = fn ? fn : log_to_stderr;
	lg->opaque = fn ? opaque : NULL;
	lg->level = level;
}

void logger_msg(const struct logger *lg, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > lg->level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lg->fn(lg->opaque, level, msg);
}
