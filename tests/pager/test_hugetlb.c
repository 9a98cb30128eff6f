// SPDX-License-Identifier: GPL-2.0-only
/*
 * hugetlb regions: private 2 MiB hugetlb memory, each huge page faulted, requested and
 * installed whole (one UFFDIO_COPY; zeros copied, hugetlb has no UFFDIO_ZEROPAGE), against a
 * source that serves the region in 2 MiB pages. Pre-copied wrong data and a pre-copied zero
 * page are discarded and fetched again; one demand fault brings a whole huge page; the kernel
 * (read(2)) and two threads fault while the push runs; the image ends equal to the source's.
 * Memory of the wrong kind is refused with a reason.
 */
#include "check.h"
#include "harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE (2ull << 20)
#define IMAGE (32ull << 20)
#define THREADS 2

static char last_error[512];

static void keep_log(void *opaque, int level, const char *msg)
{
	(void)opaque;
	if (level <= PAGER_LOG_WARN) {
		snprintf(last_error, sizeof(last_error), "%s", msg);
		fprintf(stderr, "libpager: %s\n", msg);
	}
}

/* Memory of the wrong kind: refused, and the log says why. */
static void check_refusals(void)
{
	struct pager_options opts;
	struct pager *p;
	void *plain, *huge;
	int ret;

	pager_options_init(&opts);
	opts.log_fn = keep_log;
	check(!pager_create(&opts, &p), "pager_create");
	plain = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	huge = mmap(NULL, HUGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	check(plain != MAP_FAILED && huge != MAP_FAILED, "mmap: %s", strerror(errno));
	ret = pager_add_region_hugetlb(p, 0, plain, HUGE);
	check(ret == -EINVAL && strstr(last_error, "not 2 MiB hugetlb pages"),
	      "base pages as a hugetlb region: %d (%s)", ret, last_error);
	ret = pager_add_region(p, 0, huge, HUGE);
	check(ret == -EOPNOTSUPP && strstr(last_error, "pager_add_region_hugetlb()"),
	      "hugetlb memory as a plain region: %d (%s)", ret, last_error);
	ret = pager_add_region_hugetlb(p, 0, (uint8_t *)huge + 4096, HUGE - 4096);
	check(ret == -EINVAL, "an unaligned hugetlb region: %d", ret);
	pager_destroy(p);
	munmap(plain, HUGE);
	munmap(huge, HUGE);
	last_error[0] = '\0';
}

int main(void)
{
	static const char message[] = "the kernel writes here";
	struct source_params sp;
	struct test_source ts;
	struct test_dest td;
	struct source_report report;
	struct test_walker walkers[THREADS];
	struct pager_options opts;
	struct pager_stats st;
	uint8_t *wrong, *page_buf, *into;
	int fds[2], pipefd[2], i, ret;

	test_time_bound(120);
	test_require_userfaultfd();
	/* The image, the refusals' page, and a spare. */
	test_require_huge_pages(IMAGE / HUGE + 2);
	check_refusals();

	source_params_init(&sp, IMAGE);
	sp.hugetlb = true;
	test_source_start(&sp, &ts);
	pager_options_init(&opts);
	opts.log_fn = keep_log;
	opts.hold_push = true;
	test_dest_prepare_hugetlb(&td, ts.port, &opts, fds);
	check(td.layout.regions[0].backing == PAGER_BACKING_HUGETLB, "layout backing %d",
	      td.layout.regions[0].backing);

	/* Pre-copy: wrong data at huge page 1, zeros at 2; both discarded, so fetched again. */
	wrong = malloc(HUGE);
	check(wrong != NULL, "malloc");
	memset(wrong, 0xa5, HUGE);
	check(pager_preload(td.pager, 0, HUGE, wrong, HUGE / 2) == -EINVAL,
	      "a preload of half a huge page was taken");
	ret = pager_preload(td.pager, 0, HUGE, wrong, HUGE);
	check(ret == 0, "pager_preload: %s", strerror(-ret));
	ret = pager_preload(td.pager, 0, 2 * HUGE, NULL, HUGE);
	check(ret == 0, "pager_preload of zeros: %s", strerror(-ret));
	check(td.bases[0][2 * HUGE + 77] == 0 && td.bases[0][HUGE + 5] == 0xa5,
	      "pre-copied huge pages not in place");
	check(pager_discard(td.pager, 0, HUGE, 4096) == -EINVAL,
	      "a discard of one 4 KiB page of a huge page was taken");
	ret = pager_discard(td.pager, 0, HUGE, 2 * HUGE);
	check(ret == 0, "pager_discard: %s", strerror(-ret));
	free(wrong);
	ret = pager_start(td.pager, fds[0], fds[1]);
	check(ret == 0, "pager_start: %s", strerror(-ret));

	/* The push held: one fault brings huge page 3 whole; a touch elsewhere in it is free. */
	page_buf = malloc(td.page_size);
	check(page_buf != NULL, "malloc");
	pattern_fill_page(&sp.pattern, 0, 3 * 512 + 7, page_buf, td.page_size);
	check(!memcmp(td.bases[0] + (3 * 512 + 7) * td.page_size, page_buf, td.page_size),
	      "page 7 of huge page 3 on demand");
	pattern_fill_page(&sp.pattern, 0, 3 * 512 + 511, page_buf, td.page_size);
	check(!memcmp(td.bases[0] + (3 * 512 + 511) * td.page_size, page_buf, td.page_size),
	      "page 511 of huge page 3");
	/* The frame is counted just after its pages are woken: wait for it (bounded). */
	for (i = 0; i < 5000; i++) {
		pager_get_stats(td.pager, &st);
		if (st.pages_demand)
			break;
		usleep(1000);
	}
	check(st.faults == 1 && st.pages_demand == 512,
	      "one fault bringing 512 pages expected: %llu faults, %llu pages on demand",
	      (unsigned long long)st.faults, (unsigned long long)st.pages_demand);
	check(pager_pages_missing(td.pager) == td.pages_total - 512, "%llu pages missing",
	      (unsigned long long)pager_pages_missing(td.pager));
	pager_release_push(td.pager);

	/* The kernel's own access to a missing huge page: read(2) writes into it. */
	check(!pipe(pipefd), "pipe");
	into = td.bases[0] + 9 * HUGE + 3 * td.page_size;
	check(write(pipefd[1], message, sizeof(message)) == sizeof(message), "pipe write");
	check(read(pipefd[0], into, sizeof(message)) == sizeof(message),
	      "read(2) into a missing hugetlb page: %s", strerror(errno));

	for (i = 0; i < THREADS; i++) {
		walkers[i] = (struct test_walker){ .td = &td, .pattern = &sp.pattern,
					      .start = (uint64_t)i * 4099,
					      .stride = 2 * (uint64_t)i + 1 };
		check(!pthread_create(&walkers[i].thread, NULL, test_walker_main, &walkers[i]), "thread");
	}
	ret = pager_wait(td.pager, 90000);
	check(ret == 0, "pager_wait: %d (%s)", ret, pager_error(td.pager));
	for (i = 0; i < THREADS; i++) {
		pthread_join(walkers[i].thread, NULL);
		check(walkers[i].bad == 1 && walkers[i].bad_page == 9 * 512 + 3,
		      "walker %d saw %llu pages that were not the source's (the last %llu)", i,
		      (unsigned long long)walkers[i].bad, (unsigned long long)walkers[i].bad_page);
	}
	test_source_finish(&ts, &report);
	check(report.status == 0, "source failed: %d", report.status);
	pattern_fill_page(&sp.pattern, 0, 9 * 512 + 3, page_buf, td.page_size);
	check(!memcmp(into, message, sizeof(message)) &&
		      !memcmp(into + sizeof(message), page_buf + sizeof(message),
			      td.page_size - sizeof(message)),
	      "read(2) did not land on the source's page");
	memcpy(into, page_buf, sizeof(message));
	check(test_dest_digest(&td) == report.digest, "digest of the image differs");
	free(page_buf);

	pager_get_stats(td.pager, &st);
	pager_stats_write_json(&st, stdout);
	check(st.pages_discarded == 1024, "%llu pages discarded (two huge pages: 1024)",
	      (unsigned long long)st.pages_discarded);
	check(st.pages_demand + st.pages_push + st.pages_zero == td.pages_total,
	      "origins %llu + %llu + %llu != %llu pages", (unsigned long long)st.pages_demand,
	      (unsigned long long)st.pages_push, (unsigned long long)st.pages_zero,
	      (unsigned long long)td.pages_total);
	check(st.pages_demand % 512 == 0 && st.pages_push % 512 == 0,
	      "pages came in parts of huge pages: %llu on demand, %llu pushed",
	      (unsigned long long)st.pages_demand, (unsigned long long)st.pages_push);
	check(report.stats.pages_push % 512 == 0 && report.stats.pages_demand % 512 == 0,
	      "the source sent parts of huge pages");
	check(!last_error[0], "libpager warned: %s", last_error);
	pager_destroy(td.pager);
	printf("PASS: hugetlb regions filled in whole 2 MiB pages, image equal to the source's\n");
	return 0;
}
