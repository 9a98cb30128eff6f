// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pre-copy on the destination against a real source: pages preloaded before pager_start()
 * are kept; pages preloaded and then discarded (the guest wrote them again on the source)
 * are fetched afresh when touched, even though stale data had been installed; a later copy
 * of a page replaces an earlier one. A pager whose every page was preloaded completes at once.
 */
#include "check.h"
#include "digest.h"
#include "harness.h"
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define DISCARD_EVERY 7

int main(void)
{
	uint8_t page[4096], stale[4096];
	struct source_params sp;
	struct test_source ts;
	struct source_report report;
	struct pager_stats st;
	uint64_t size, pages, n, discarded = 0, digest;
	uint8_t *mem;
	struct pager *p;
	int ret;

	test_time_bound(60);
	test_require_userfaultfd();
	source_params_init(&sp, 8ull << 20);
	sp.opts.push = false; /* discarded pages can only come back through a fault */
	test_source_start(&sp, &ts);
	{
		struct pager_layout layout;
		struct net_addr addr;
		char text[64], err[512];
		int fds[2], i;

		snprintf(text, sizeof(text), "127.0.0.1:%d", ts.port);
		check(!net_parse_addr(text, NULL, &addr), "addr");
		for (i = 0; i < 2; i++) {
			fds[i] = net_connect(&addr, 10000);
			check(fds[i] >= 0, "connect");
		}
		check(!pager_handshake_dest(&fds[0], &fds[1], true, NULL, &layout, err,
					    sizeof(err)), "handshake: %s", err);
		size = layout.regions[0].size;
		pages = size / sizeof(page);
		check(!pager_create(NULL, &p), "pager_create");
		mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		check(mem != MAP_FAILED, "mmap");
		check(!pager_add_region(p, 0, mem, size), "add region");

		/* Every page once with stale bytes, then again with the source's (a later round). */
		memset(stale, 0xa5, sizeof(stale));
		for (n = 0; n < pages; n++)
			check(!pager_preload(p, 0, n * sizeof(page), stale, sizeof(page)), "preload stale");
		for (n = 0; n < pages; n++) {
			pattern_fill_page(&sp.pattern, 0, n, page, sizeof(page));
			check(!pager_preload(p, 0, n * sizeof(page), page, sizeof(page)), "preload");
		}
		/* The guest wrote these again on the source after they were sent. */
		for (n = 0; n < pages; n += DISCARD_EVERY, discarded++)
			check(!pager_discard(p, 0, n * sizeof(page), sizeof(page)), "discard");
		check(pager_pages_missing(p) == discarded, "%llu missing after discarding %llu",
		      (unsigned long long)pager_pages_missing(p), (unsigned long long)discarded);
		ret = pager_preload(p, 0, size, page, sizeof(page));
		check(ret == -EINVAL, "a preload past the region's end gave %d", ret);
		check(!pager_start(p, fds[0], fds[1]), "start");
		check(pager_preload(p, 0, 0, page, sizeof(page)) == -EINVAL,
		      "pager_preload accepted after pager_start");
	}
	/* Touch the discarded pages: each must come from the source, not from the stale copy. */
	for (n = 0; n < pages; n += DISCARD_EVERY) {
		pattern_fill_page(&sp.pattern, 0, n, page, sizeof(page));
		check(!memcmp(mem + n * sizeof(page), page, sizeof(page)),
		      "discarded page %llu did not come back from the source", (unsigned long long)n);
	}
	ret = pager_wait(p, 30000);
	check(ret == 0, "pager_wait %d: %s", ret, pager_error(p));
	pager_get_stats(p, &st);
	pager_stats_write_json(&st, stdout);
	test_source_finish(&ts, &report);
	check(report.status == 0, "source status %d", report.status);
	digest = digest_range(mem, size, sizeof(page));
	check(digest == report.digest, "digest after pre-copy differs from the source's");
	check(st.pages_precopy == pages - discarded && st.pages_discarded == discarded,
	      "pre-copy %llu kept, %llu discarded", (unsigned long long)st.pages_precopy,
	      (unsigned long long)st.pages_discarded);
	check(st.requests_sent == discarded && st.pages_demand + st.pages_zero == discarded,
	      "%llu requests for %llu discarded pages", (unsigned long long)st.requests_sent,
	      (unsigned long long)discarded);
	pager_destroy(p);
	printf("PASS: %llu pages pre-copied, %llu discarded and fetched again, digest matches\n",
	       (unsigned long long)pages, (unsigned long long)discarded);
	return 0;
}
