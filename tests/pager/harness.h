/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Integration harness: a real source process (fork of this test, serving a pattern image over
 * real TCP on loopback) and a real destination pager in the test process.
 */
#ifndef TESTS_PAGER_HARNESS_H
#define TESTS_PAGER_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pager.h"
#include "pattern.h"

struct source_params {
	uint64_t size;
	uint32_t regions;
	struct pattern pattern;
	struct pager_source_options opts;
	bool hugetlb; /* serve every region in 2 MiB pages (pager_source_add_region_hugetlb()) */
};

struct source_report {
	int status; /* pager_source_serve()'s result */
	uint64_t digest;
	struct pager_source_stats stats;
};

struct test_source {
	pid_t pid;
	int port;
	int report_fd;
};

void source_params_init(struct source_params *sp, uint64_t size);
/* Forks the source; returns once it listens. */
void test_source_start(const struct source_params *sp, struct test_source *ts);
/* Reads the source's report and reaps it (bounded). */
void test_source_finish(struct test_source *ts, struct source_report *report);

struct test_dest {
	struct pager *pager;
	int memfds[PAGER_MAX_REGIONS]; /* the memfd behind each region, or -1 */
	struct pager_layout layout;
	uint8_t *bases[PAGER_MAX_REGIONS];
	uint64_t pages_total;
	uint32_t page_size;
};

/* Connects, handshakes, maps and registers memory; the pager is created, not started. */
void test_dest_prepare(struct test_dest *td, int port, const struct pager_options *opts,
		       int fds[2]);
/* The same with each region a MAP_SHARED mapping of a memfd (pager_add_region_memfd()). */
void test_dest_prepare_memfd(struct test_dest *td, int port, const struct pager_options *opts,
			     int fds[2]);
/*
 * The same with each region private 2 MiB hugetlb memory (pager_add_region_hugetlb()): the
 * source must serve hugetlb (source_params.hugetlb) and the pool have the pages
 * (test_require_huge_pages()).
 */
void test_dest_prepare_hugetlb(struct test_dest *td, int port, const struct pager_options *opts,
			       int fds[2]);
/* test_dest_prepare(), then pager_start(). */
void test_dest_start(struct test_dest *td, int port, const struct pager_options *opts);
uint64_t test_dest_digest(const struct test_dest *td);
/*
 * The page frame of the present page at addr, through fd, an open /proc/self/pagemap (0 when
 * PFNs are hidden: no CAP_SYS_ADMIN); a page not present fails the test.
 */
uint64_t test_pfn_of(int fd, const void *addr, uint32_t page_size);
/*
 * Checks through /proc/self/pagemap that every page the pattern makes zero is mapped to the
 * kernel's zero page and no data page is. Returns the number of zero pages checked, or -1 when
 * PFNs are hidden (no CAP_SYS_ADMIN).
 */
int64_t test_dest_check_zero_pages(const struct test_dest *td, const struct pattern *pattern);

/*
 * A thread reading every page of region 0 once, in the order start + i * stride (mod pages),
 * each against the source's pattern: from its first access a page must be whole and final.
 */
struct test_walker {
	pthread_t thread;
	const struct test_dest *td;
	const struct pattern *pattern;
	uint64_t start, stride;
	uint64_t bad, bad_page; /* pages that did not read as the source's, and the last one */
};
/* pthread start routine, arg a struct test_walker. */
void *test_walker_main(void *arg);

#endif
