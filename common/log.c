// SPDX-License-Identifier: GPL-2.0-only
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum log_level log_max_level = LOG_INFO;
static const char *log_prefix = "";

void log_set_prefix(const char *prefix)
{
	log_prefix = prefix ? prefix : "";
}

void log_init_from_env(void)
{
	const char *v = getenv("PAGER_LOG_LEVEL");

	if (!v)
		return;
	if (!strcmp(v, "debug"))
		log_max_level = LOG_DEBUG;
	else if (!strcmp(v, "info"))
		log_max_level = LOG_INFO;
	else if (!strcmp(v, "warn"))
		log_max_level = LOG_WARN;
	else if (!strcmp(v, "error"))
		log_max_level = LOG_ERR;
}

__attribute__((format(printf, 2, 0)))
static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "%s%s%s: ", log_prefix,
		     *log_prefix ? " " : "", names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	/* One write per line so concurrent processes do not interleave. */
	fprintf(stderr, "%s\n", line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_max_level)
		return;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void log_forward(void *opaque, int level, const char *msg)
{
	const char *name = opaque;

	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	if (name)
		log_msg((enum log_level)level, "%s: %s", name, msg);
	else
		log_msg((enum log_level)level, "%s", msg);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
