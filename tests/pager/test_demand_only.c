// SPDX-License-Identifier: GPL-2.0-only
/*
 * No push: every page arrives because some thread faulted on it. Four threads each read every
 * page, in different orders, so most faults land on a page another thread already asked for.
 * Exactly one request per page must reach the source.
 */
#include "check.h"
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 4

struct walker {
	pthread_t thread;
	const struct test_dest *td;
	uint64_t stride, start, sum;
};

static void *walker_main(void *arg)
{
	struct walker *w = arg;
	uint64_t pages = w->td->pages_total, i;

	/* stride is odd and pages a power of two: the walk visits every page once. */
	for (i = 0; i < pages; i++) {
		uint64_t page = (w->start + i * w->stride) % pages;

		w->sum += *(volatile const uint8_t *)(w->td->bases[0] + page * w->td->page_size + 8);
	}
	return NULL;
}

int main(void)
{
	struct source_params sp;
	struct test_source ts;
	struct test_dest td;
	struct source_report report;
	struct walker walkers[THREADS];
	struct pager_stats st;
	uint64_t digest;
	int64_t zero_checked;
	int i, ret;

	test_time_bound(120);
	test_require_userfaultfd();
	source_params_init(&sp, 32ull << 20);
	sp.opts.push = false;
	test_source_start(&sp, &ts);
	test_dest_start(&td, ts.port, NULL);

	for (i = 0; i < THREADS; i++) {
		walkers[i] = (struct walker){ .td = &td, .stride = 2 * (uint64_t)i + 1,
					      .start = (uint64_t)i * 97 };
		check(!pthread_create(&walkers[i].thread, NULL, walker_main, &walkers[i]), "thread");
	}
	ret = pager_wait(td.pager, 90000);
	check(ret == 0, "pager_wait: %d (%s)", ret, pager_error(td.pager));
	for (i = 0; i < THREADS; i++)
		pthread_join(walkers[i].thread, NULL);
	pager_get_stats(td.pager, &st);
	pager_stats_write_json(&st, stdout);
	test_source_finish(&ts, &report);

	check(report.status == 0, "source failed: %d", report.status);
	digest = test_dest_digest(&td);
	check(digest == report.digest, "digest mismatch");
	check(st.pages_push == 0, "pages pushed with the push off");
	check(st.pages_demand + st.pages_zero == td.pages_total, "origins do not add up");
	check(st.requests_sent == td.pages_total, "%llu requests for %llu pages",
	      (unsigned long long)st.requests_sent, (unsigned long long)td.pages_total);
	check(report.stats.requests == td.pages_total && report.stats.duplicate_requests == 0,
	      "source saw %llu requests, %llu duplicates", (unsigned long long)report.stats.requests,
	      (unsigned long long)report.stats.duplicate_requests);
	check(st.faults == st.requests_sent + st.faults_coalesced + st.faults_present,
	      "faults %llu != requests + coalesced + present", (unsigned long long)st.faults);
	check(st.pages_duplicate == 0, "duplicates without a push");
	check(st.latency_count == st.faults - st.faults_present, "latency samples %llu for %llu waits",
	      (unsigned long long)st.latency_count, (unsigned long long)(st.faults - st.faults_present));
	zero_checked = test_dest_check_zero_pages(&td, &sp.pattern);
	check(zero_checked == -1 || (uint64_t)zero_checked == st.pages_zero,
	      "pagemap shows %lld zero pages, %llu were installed as zero", (long long)zero_checked,
	      (unsigned long long)st.pages_zero);
	check(st.pages_zero > 0, "the image's zero pages did not travel as zero pages");
	if (zero_checked < 0)
		printf("note: PFNs hidden from this process; zero pages counted, not mapped-checked\n");
	pager_destroy(td.pager);
	printf("PASS: %llu pages, %llu faults, %llu coalesced\n", (unsigned long long)td.pages_total,
	       (unsigned long long)st.faults, (unsigned long long)st.faults_coalesced);
	return 0;
}
