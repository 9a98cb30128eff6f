// SPDX-License-Identifier: GPL-2.0-only
/*
 * pager_state() follows the life cycle without waiting: idle until pager_start(), running
 * while pages are missing, complete once every page is present; failed when the source dies,
 * and it stays failed.
 */
#include "check.h"
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#define SIZE (4u << 20)

static const char *name(enum pager_state s)
{
	static const char *const names[] = { "idle", "running", "complete", "failed",
					     "disconnected" };

	return s <= PAGER_STATE_DISCONNECTED ? names[s] : "?";
}

#define check_state(p, want)                                                              \
	check(pager_state(p) == (want), "state %s, expected %s", name(pager_state(p)),  \
	      name(want))

/* idle -> running -> complete, the source answering demand only (nothing completes alone). */
static void to_complete(void)
{
	struct source_params sp;
	struct source_report report;
	struct test_source ts;
	struct test_dest td;
	uint64_t page;
	int fds[2];

	source_params_init(&sp, SIZE);
	sp.opts.push = false;
	test_source_start(&sp, &ts);
	test_dest_prepare(&td, ts.port, NULL, fds);
	check_state(td.pager, PAGER_STATE_IDLE);
	check(pager_wait(td.pager, 0) == -EINVAL, "pager_wait on an idle pager");
	check(!pager_start(td.pager, fds[0], fds[1]), "pager_start");
	check_state(td.pager, PAGER_STATE_RUNNING);
	check(pager_wait(td.pager, 0) == -ETIMEDOUT, "running, yet pager_wait(0) did not time out");
	/* Every page but the last: still running. */
	for (page = 0; page + 1 < td.pages_total; page++)
		(void)*(volatile uint8_t *)(td.bases[0] + page * td.page_size);
	check_state(td.pager, PAGER_STATE_RUNNING);
	(void)*(volatile uint8_t *)(td.bases[0] + page * td.page_size);
	check(!pager_wait(td.pager, 10000), "not complete: %s", pager_error(td.pager));
	check_state(td.pager, PAGER_STATE_COMPLETE);
	check(!strcmp(pager_error(td.pager), ""), "an error text on success");
	test_source_finish(&ts, &report);
	check(!report.status, "source status %d", report.status);
	pager_destroy(td.pager);
	printf("idle -> running -> complete\n");
}

/* running -> disconnected when the source dies -> failed when it does not come back. */
static void to_failed(void)
{
	struct pager_options opts;
	struct source_params sp;
	struct test_source ts;
	struct test_dest td;
	int ret, status, i;

	source_params_init(&sp, SIZE);
	sp.opts.push = false;
	test_source_start(&sp, &ts);
	pager_options_init(&opts);
	opts.reconnect_timeout_ms = 1000;
	test_dest_start(&td, ts.port, &opts);
	check_state(td.pager, PAGER_STATE_RUNNING);
	check(!kill(ts.pid, SIGKILL), "SIGKILL");
	for (i = 0; i < 500 && pager_state(td.pager) == PAGER_STATE_RUNNING; i++)
		usleep(1000);
	check_state(td.pager, PAGER_STATE_DISCONNECTED);
	check(strstr(pager_disconnect_reason(td.pager), "closed"), "disconnect reason: %s",
	      pager_disconnect_reason(td.pager));
	ret = pager_wait(td.pager, 10000);
	check(ret != 0 && ret != -ETIMEDOUT, "pager_wait returned %d after the source died", ret);
	check_state(td.pager, PAGER_STATE_FAILED);
	check(strstr(pager_error(td.pager), "source"), "error: %s", pager_error(td.pager));
	check(pager_wait(td.pager, 0) == ret, "a second wait changed its answer");
	check_state(td.pager, PAGER_STATE_FAILED);
	check(waitpid(ts.pid, &status, 0) == ts.pid, "waitpid");
	pager_destroy(td.pager);
	printf("running -> failed (%s)\n", strerror(-ret));
}

int main(void)
{
	test_time_bound(60);
	test_require_userfaultfd();
	to_complete();
	to_failed();
	printf("PASS\n");
	return 0;
}
