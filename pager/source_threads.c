// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the two serving threads share: the outcome (the first error wins and stops both, but
 * the destination's own Error, read after, names the cause better than the reset that
 * followed it), placement.
 */
#include "source_internal.h"
#include "cpu.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 4, 0)))
static void record(struct pager_source *src, int error, bool lost, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&src->lock);
	/*
	 * A destination that refuses sends an Error, then closes: the push may hit the reset
	 * before the demand loop reads the Error queued ahead of it. The Error is the cause.
	 */
	if (!src->error || (src->lost && !lost && error == -EREMOTEIO)) {
		src->error = error < 0 ? error : -EIO;
		src->lost = lost;
		vsnprintf(src->error_text, sizeof(src->error_text), fmt, ap);
		if (lost)
			logger_warn(&src->log, "source: connection lost: %s", src->error_text);
		else
			logger_err(&src->log, "source: %s", src->error_text);
	}
	pthread_mutex_unlock(&src->lock);
	__atomic_store_n(&src->stop, true, __ATOMIC_RELEASE);
}

void source_fail(struct pager_source *src, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(src, error, false, fmt, ap);
	va_end(ap);
}

void source_lost(struct pager_source *src, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(src, error, true, fmt, ap);
	va_end(ap);
}

void source_pin_self(struct pager_source *src, int cpu, const char *what)
{
	int ret;

	if (cpu < 0)
		return;
	ret = cpu_pin(pthread_self(), cpu);
	if (ret)
		logger_warn(&src->log, "source: cannot pin the %s thread to CPU %d: %s", what, cpu,
			    strerror(-ret));
}
