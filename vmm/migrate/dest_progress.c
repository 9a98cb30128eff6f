// SPDX-License-Identifier: GPL-2.0-only
/* Post-copy on the destination: wait for every page, with a progress line on a terminal. */
#include "dest.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

static void draw_progress(struct pager *pager, bool last)
{
	struct pager_stats st;

	pager_get_stats(pager, &st);
	fprintf(stderr, "\rpost-copy: %" PRIu64 "/%" PRIu64 " pages, %" PRIu64 " faults, p50 %.0f us   %s",
		st.pages_present, st.pages_total, st.faults, (double)st.latency_p50_ns / 1e3,
		last ? "\n" : "");
}

int dest_wait_for_memory(struct dest_session *s)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)s->o->timeout_ms * 1000000ull;
	bool tty = isatty(STDERR_FILENO) && log_max_level >= LOG_INFO;
	int ret;

	do {
		ret = pager_wait(s->pager, 200);
		if (tty)
			draw_progress(s->pager, ret != -ETIMEDOUT);
	} while (ret == -ETIMEDOUT && clock_now_ns() < deadline);
	/* End the line before the timeout message. */
	if (tty && ret == -ETIMEDOUT)
		fputc('\n', stderr);
	if (ret == -ETIMEDOUT)
		return dest_fail(s, MIG_EXIT_MIGRATION, ret, "post-copy did not complete in time");
	if (ret)
		return dest_fail(s, MIG_EXIT_MIGRATION, ret, "%s", pager_error(s->pager));
	return 0;
}
