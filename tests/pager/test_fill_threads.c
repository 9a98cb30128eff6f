// SPDX-License-Identifier: GPL-2.0-only
/*
 * 256 MiB in two regions, four threads reading pages in random, overlapping order while the
 * source pushes the rest: the demand and push streams race on the same pages. Every byte read
 * must be the source's; the filled memory must hash like the source's; zero pages must be the
 * kernel's zero page; no page may be requested twice.
 */
#include "check.h"
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 4
#define TOUCHES_PER_THREAD 3000

struct reader {
	pthread_t thread;
	const struct test_dest *td;
	const struct pattern *pattern;
	uint64_t seed, mismatches;
};

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	const struct test_dest *td = rd->td;
	uint8_t expected[4096];
	uint64_t s = rd->seed, i;

	for (i = 0; i < TOUCHES_PER_THREAD; i++) {
		uint32_t r = (uint32_t)(next_random(&s) % td->layout.n_regions);
		/* A small hot set makes threads collide on the same pages. */
		uint64_t pages = td->layout.regions[r].size / td->page_size;
		uint64_t page = (i % 3 ? next_random(&s) % pages : next_random(&s) % 256);
		const uint8_t *addr = td->bases[r] + page * td->page_size;

		pattern_fill_page(rd->pattern, r, page, expected, td->page_size);
		if (memcmp(addr, expected, td->page_size))
			rd->mismatches++;
	}
	return NULL;
}

int main(void)
{
	struct source_params sp;
	struct test_source ts;
	struct test_dest td;
	struct source_report report;
	struct reader readers[THREADS];
	struct pager_stats st;
	uint64_t expected_zero, digest, dest_frames_pages;
	int64_t zero_checked;
	int i, ret;

	test_time_bound(120);
	test_require_userfaultfd();
	source_params_init(&sp, 256ull << 20);
	sp.regions = 2;
	test_source_start(&sp, &ts);
	test_dest_start(&td, ts.port, NULL);

	for (i = 0; i < THREADS; i++) {
		readers[i] = (struct reader){ .td = &td, .pattern = &sp.pattern, .seed = 0x9e37u + (uint64_t)i };
		check(!pthread_create(&readers[i].thread, NULL, reader_main, &readers[i]), "thread");
	}
	ret = pager_wait(td.pager, 60000);
	check(ret == 0, "pager_wait: %d (%s)", ret, pager_error(td.pager));
	for (i = 0; i < THREADS; i++) {
		pthread_join(readers[i].thread, NULL);
		check(readers[i].mismatches == 0, "thread %d read %llu pages that differ from the source",
		      i, (unsigned long long)readers[i].mismatches);
	}
	pager_get_stats(td.pager, &st);
	pager_stats_write_json(&st, stdout);
	test_source_finish(&ts, &report);
	printf("source: ");
	pager_source_stats_write_json(&report.stats, stdout);

	check(report.status == 0, "source failed: %d", report.status);
	digest = test_dest_digest(&td);
	check(digest == report.digest, "destination digest %016llx, source %016llx",
	      (unsigned long long)digest, (unsigned long long)report.digest);
	check(st.pages_present == td.pages_total, "%llu of %llu pages present",
	      (unsigned long long)st.pages_present, (unsigned long long)td.pages_total);
	check(st.pages_demand + st.pages_push + st.pages_zero == td.pages_total,
	      "origins do not add up: %llu + %llu + %llu != %llu", (unsigned long long)st.pages_demand,
	      (unsigned long long)st.pages_push, (unsigned long long)st.pages_zero,
	      (unsigned long long)td.pages_total);
	check(report.stats.duplicate_requests == 0, "%llu pages requested twice",
	      (unsigned long long)report.stats.duplicate_requests);
	check(st.requests_sent == report.stats.requests, "sent %llu requests, source saw %llu",
	      (unsigned long long)st.requests_sent, (unsigned long long)report.stats.requests);
	check(st.faults > 0 && st.requests_sent > 0, "no demand faults happened: the test tested nothing");
	check(st.pages_push > 0, "the push delivered nothing");
	dest_frames_pages = st.pages_demand + st.pages_push + st.pages_zero + st.pages_duplicate;
	check(dest_frames_pages <= report.stats.pages_demand + report.stats.pages_push,
	      "destination handled %llu pages, source sent only %llu",
	      (unsigned long long)dest_frames_pages,
	      (unsigned long long)(report.stats.pages_demand + report.stats.pages_push));

	expected_zero = pattern_count_zero(&sp.pattern, 0, td.layout.regions[0].size / td.page_size) +
			pattern_count_zero(&sp.pattern, 1, td.layout.regions[1].size / td.page_size);
	check(st.pages_zero == expected_zero, "%llu zero installs, the image has %llu zero pages",
	      (unsigned long long)st.pages_zero, (unsigned long long)expected_zero);
	zero_checked = test_dest_check_zero_pages(&td, &sp.pattern);
	check(zero_checked == -1 || (uint64_t)zero_checked == expected_zero, "pagemap saw %lld zero pages",
	      (long long)zero_checked);
	if (zero_checked < 0)
		printf("note: PFNs hidden from this process; zero pages counted, not mapped-checked\n");
	pager_destroy(td.pager);
	printf("PASS: %llu pages, digest %016llx\n", (unsigned long long)td.pages_total,
	       (unsigned long long)digest);
	return 0;
}
