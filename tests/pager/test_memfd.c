// SPDX-License-Identifier: GPL-2.0-only
/*
 * memfd (shmem) regions, MISSING + MINOR: each page is written into the file through the
 * pager's own mapping and mapped with UFFDIO_CONTINUE. Pages pre-copied with wrong data and
 * then discarded are punched out of the file and fetched again; an installed page whose
 * mapping the kernel dropped (MADV_DONTNEED: the page stays in the file) is mapped again on
 * its next fault; two threads and the kernel (read(2) into a missing page) fault while the
 * push runs; at the end the mapping, the file itself (pread) and the source agree.
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

#define THREADS 2
#define WRONG_PAGES 64

static int warnings;

static void count_log(void *opaque, int level, const char *msg)
{
	if (level <= PAGER_LOG_WARN) {
		__atomic_add_fetch(&warnings, 1, __ATOMIC_RELAXED);
		fprintf(stderr, "libpager: %s\n", msg);
	}
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
	uint64_t page;

	test_time_bound(120);
	test_require_userfaultfd();
	source_params_init(&sp, 16ull << 20);
	test_source_start(&sp, &ts);
	pager_options_init(&opts);
	opts.log_fn = count_log;
	opts.hold_push = true;
	test_dest_prepare_memfd(&td, ts.port, &opts, fds);

	/* Pre-copy of wrong data, then its discard: those pages must be fetched again. */
	wrong = malloc((size_t)WRONG_PAGES * td.page_size);
	check(wrong != NULL, "malloc");
	memset(wrong, 0xa5, (size_t)WRONG_PAGES * td.page_size);
	ret = pager_preload(td.pager, 0, 100 * td.page_size, wrong, WRONG_PAGES * td.page_size);
	check(ret == 0, "pager_preload: %s", strerror(-ret));
	ret = pager_discard(td.pager, 0, 100 * td.page_size, WRONG_PAGES * td.page_size);
	check(ret == 0, "pager_discard: %s", strerror(-ret));
	free(wrong);
	/* Punched out of the file, not only unmapped: the file has a hole there. */
	check(lseek(td.memfds[0], 100 * td.page_size, SEEK_DATA) >= (off_t)((100 + WRONG_PAGES) *
									  td.page_size) ||
		      errno == ENXIO, "the discarded pages are still in the file");
	ret = pager_start(td.pager, fds[0], fds[1]);
	check(ret == 0, "pager_start: %s", strerror(-ret));

	/*
	 * The push held: a page comes on demand; then its mapping is dropped while the page stays
	 * in the file, and the next touch takes a minor fault on a page the pager has. It must be
	 * mapped again (a wake alone would have the thread fault forever: the alarm catches it).
	 */
	page_buf = malloc(td.page_size);
	check(page_buf != NULL, "malloc");
	pattern_fill_page(&sp.pattern, 0, 10, page_buf, td.page_size);
	check(!memcmp(td.bases[0] + 10 * td.page_size, page_buf, td.page_size), "page 10 on demand");
	check(!madvise(td.bases[0] + 10 * td.page_size, td.page_size, MADV_DONTNEED), "madvise");
	check(!memcmp(td.bases[0] + 10 * td.page_size, page_buf, td.page_size),
	      "page 10 after its mapping was dropped");
	pager_get_stats(td.pager, &st);
	check(st.faults == 2 && st.faults_present == 1, "faults %llu (present %llu), expected 2 "
	      "(1)", (unsigned long long)st.faults, (unsigned long long)st.faults_present);
	pager_release_push(td.pager);

	/* The kernel's own access to a missing page: read(2) writes into it. */
	check(!pipe(pipefd), "pipe");
	into = td.bases[0] + 3000 * td.page_size;
	check(write(pipefd[1], message, sizeof(message)) == sizeof(message), "pipe write");
	check(read(pipefd[0], into, sizeof(message)) == sizeof(message),
	      "read(2) into a missing memfd page: %s", strerror(errno));

	for (i = 0; i < THREADS; i++) {
		walkers[i] = (struct test_walker){ .td = &td, .pattern = &sp.pattern,
					      .start = (uint64_t)i * 1031, .stride = 2 * (uint64_t)i + 1 };
		check(!pthread_create(&walkers[i].thread, NULL, test_walker_main, &walkers[i]), "thread");
	}
	ret = pager_wait(td.pager, 90000);
	check(ret == 0, "pager_wait: %d (%s)", ret, pager_error(td.pager));
	for (i = 0; i < THREADS; i++) {
		pthread_join(walkers[i].thread, NULL);
		/* Page 3000 holds the kernel's message: the one page each walk sees differ. */
		check(walkers[i].bad == 1 && walkers[i].bad_page == 3000,
		      "walker %d saw %llu pages that were not the source's (the last %llu)", i,
		      (unsigned long long)walkers[i].bad, (unsigned long long)walkers[i].bad_page);
	}
	test_source_finish(&ts, &report);
	check(report.status == 0, "source failed: %d", report.status);

	/* The page the kernel wrote into: its message on the source's bytes, which go back. */
	pattern_fill_page(&sp.pattern, 0, 3000, page_buf, td.page_size);
	check(!memcmp(into, message, sizeof(message)) &&
		      !memcmp(into + sizeof(message), page_buf + sizeof(message),
			      td.page_size - sizeof(message)),
	      "read(2) did not land on the source's page");
	memcpy(into, page_buf, sizeof(message));
	/* Now every page must be the source's, in the mapping... */
	check(test_dest_digest(&td) == report.digest, "digest of the mapping differs");
	/* ...in the file as well: the pages are the memfd's, not private copies. */
	for (page = 0; page < td.pages_total; page++) {
		uint8_t expected[4096];

		check(td.page_size <= sizeof(expected), "page size");
		pattern_fill_page(&sp.pattern, 0, page, expected, td.page_size);
		check(pread(td.memfds[0], page_buf, td.page_size, (off_t)(page * td.page_size)) ==
			      (ssize_t)td.page_size, "pread");
		check(!memcmp(page_buf, expected, td.page_size),
		      "file page %llu differs from the source's", (unsigned long long)page);
	}
	free(page_buf);
	pager_get_stats(td.pager, &st);
	pager_stats_write_json(&st, stdout);
	check(st.pages_discarded == WRONG_PAGES, "%llu pages discarded",
	      (unsigned long long)st.pages_discarded);
	check(st.pages_demand + st.pages_push + st.pages_zero == td.pages_total,
	      "origins %llu + %llu + %llu != %llu pages", (unsigned long long)st.pages_demand,
	      (unsigned long long)st.pages_push, (unsigned long long)st.pages_zero,
	      (unsigned long long)td.pages_total);
	check(st.faults > 0 && st.pages_demand > 0, "no demand faults (faults %llu)",
	      (unsigned long long)st.faults);
	check(__atomic_load_n(&warnings, __ATOMIC_RELAXED) == 0,
	      "libpager warned %d times (a page populated behind its back?)", warnings);
	pager_destroy(td.pager);
	printf("PASS: memfd regions filled through UFFDIO_CONTINUE, file and mapping agree\n");
	return 0;
}
