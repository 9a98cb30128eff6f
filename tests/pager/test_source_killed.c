// SPDX-License-Identifier: GPL-2.0-only
/*
 * The source dies while a thread waits for a page. The pager must report the failure within a
 * bounded time, with the number of pages missing, and must not wake the thread with wrong or
 * zero data: it stays blocked. Pages received before the failure stay correct.
 */
#include "check.h"
#include "clock.h"
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static uint8_t *blocked_page;
static volatile int blocked_done;

static void *blocked_main(void *arg)
{
	(void)arg;
	(void)*(volatile uint8_t *)blocked_page;
	blocked_done = 1;
	return NULL;
}

int main(void)
{
	struct pager_options opts;
	struct source_params sp;
	struct test_source ts;
	struct test_dest td;
	uint8_t expected[4096];
	pthread_t thread;
	uint64_t page, t0, elapsed_ms, checked = 0;
	const char *error;
	int ret, status;

	test_time_bound(60);
	test_require_userfaultfd();
	source_params_init(&sp, 16ull << 20);
	sp.opts.push = false;
	test_source_start(&sp, &ts);
	/* A source that never comes back: the pager waits this long for it, then fails. */
	pager_options_init(&opts);
	opts.reconnect_timeout_ms = 500;
	test_dest_start(&td, ts.port, &opts);

	for (page = 0; page < 64; page++)
		(void)*(volatile uint8_t *)(td.bases[0] + page * td.page_size);

	/* A stopped source leaves the next request unanswered: the thread blocks. */
	check(!kill(ts.pid, SIGSTOP), "SIGSTOP");
	blocked_page = td.bases[0] + 3000 * td.page_size;
	check(!pthread_create(&thread, NULL, blocked_main, NULL), "thread");
	usleep(200 * 1000);
	check(!blocked_done, "the thread got its page from a stopped source");

	check(!kill(ts.pid, SIGKILL), "SIGKILL");
	t0 = clock_now_ns();
	ret = pager_wait(td.pager, 10000);
	elapsed_ms = (clock_now_ns() - t0) / 1000000;
	check(ret != 0 && ret != -ETIMEDOUT, "pager_wait returned %d: the death went unnoticed", ret);
	check(strstr(pager_error(td.pager), "did not come back within 500 ms"),
	      "the failure does not name the lost connection: %s", pager_error(td.pager));
	check(elapsed_ms < 5000, "the failure took %llu ms to report", (unsigned long long)elapsed_ms);
	error = pager_error(td.pager);
	printf("pager error after %llu ms: %s\n", (unsigned long long)elapsed_ms, error);
	check(strstr(error, "source") && strstr(error, "missing"), "error does not say what happened: %s", error);
	check(pager_pages_missing(td.pager) == td.pages_total - 64, "missing %llu pages",
	      (unsigned long long)pager_pages_missing(td.pager));

	usleep(300 * 1000);
	check(!blocked_done, "the blocked thread was released after the failure");
	check(!pager_page_present(td.pager, blocked_page), "the unanswered page is marked present");
	for (page = 0; page < td.pages_total; page++) {
		const uint8_t *addr = td.bases[0] + page * td.page_size;

		if (!pager_page_present(td.pager, addr))
			continue;
		pattern_fill_page(&sp.pattern, 0, page, expected, td.page_size);
		check(!memcmp(addr, expected, td.page_size), "received page %llu corrupted",
		      (unsigned long long)page);
		checked++;
	}
	check(checked == 64, "%llu pages present, 64 were received", (unsigned long long)checked);
	check(waitpid(ts.pid, &status, 0) == ts.pid && WIFSIGNALED(status), "source reaped");
	printf("PASS: failure reported in %llu ms, blocked thread still blocked, %llu pages intact\n",
	       (unsigned long long)elapsed_ms, (unsigned long long)checked);
	fflush(NULL);
	/* The blocked thread can never finish: leave without unwinding it. */
	_exit(0);
}
