// SPDX-License-Identifier: GPL-2.0-only
/*
 * The two installers racing: the push receiver installs pushed runs on its own thread while
 * the listener installs demand answers, and touching threads walk the pages in the push's own
 * order (the pages they demand are often already on their way in the push) or hammer a small
 * hot set. Several rounds, each a fresh source and pager. Each round must end with:
 * - every page shown to the observer exactly once, with the source's bytes, and before any
 *   thread could run on it (the observer's count is read right after each touch, and the
 *   observer is slow on some pages);
 * - every byte read and the whole memory's digest equal to the source's;
 * - no page requested twice, each page counted once by origin, and every fault that waited
 *   accounted (one latency sample per fault not found present).
 * The last rounds install the push with UFFDIO_MOVE (pager_options.install_move): the same
 * must hold, and pushed pages keep the page frame they were received into (a copy never
 * does: seen through /proc/self/pagemap).
 */
#include "check.h"
#include "clock.h"
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE (1 << 16) /* Linux 6.8; Debian 12's headers predate it */
#endif

#define ROUNDS 6
#define COPY_ROUNDS 4 /* the rounds after these move */
/* Pages whose received frame is recorded: one in this many. */
#define PFN_SAMPLE 16
#define SIZE (32ull << 20)
#define WALKERS 2
#define HAMMERS 2
#define SLOW_OBSERVER_NS 30000u

struct observer {
	const struct pattern *pattern;
	uint32_t page_size;
	uint32_t *seen;      /* per page: observer calls */
	uint64_t bad_data;   /* pages whose installed bytes were not the source's */
	int pagemap_fd;      /* /proc/self/pagemap */
	uint64_t *data_pfn;  /* per sampled page: the frame of the bytes shown (0: none) */
};

struct toucher {
	pthread_t thread;
	const struct test_dest *td;
	struct observer *obs;
	unsigned int index;
	uint64_t mismatches, unseen;
};

static void on_install(void *opaque, uint32_t region, uint64_t first, uint64_t n,
		       const void *data)
{
	struct observer *obs = opaque;
	uint8_t *expected = malloc(obs->page_size);
	uint64_t i;

	check(expected && region == 0, "observer: region %u", region);
	for (i = 0; i < n; i++) {
		pattern_fill_page(obs->pattern, region, first + i, expected, obs->page_size);
		if (data ? memcmp((const uint8_t *)data + i * obs->page_size, expected,
				  obs->page_size)
			 : !pattern_page_is_zero(obs->pattern, region, first + i))
			__atomic_fetch_add(&obs->bad_data, 1, __ATOMIC_RELAXED);
		/*
		 * A slow observer on some pages: a thread woken on its page before the observer
		 * returned (the ordering broken) would find no mark there.
		 */
		if ((first + i) % 8 == 0)
			for (uint64_t t0 = clock_now_ns(); clock_now_ns() - t0 < SLOW_OBSERVER_NS;)
				;
		if (data && (first + i) % PFN_SAMPLE == 0)
			obs->data_pfn[(first + i) / PFN_SAMPLE] =
				test_pfn_of(obs->pagemap_fd,
					    (const uint8_t *)data + i * obs->page_size, obs->page_size);
		__atomic_fetch_add(&obs->seen[first + i], 1, __ATOMIC_RELEASE);
	}
	free(expected);
}

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Reads a page and checks it, and that the observer saw it before this thread went on. */
static void touch(struct toucher *t, uint64_t page, uint8_t *expected)
{
	const struct test_dest *td = t->td;

	const volatile uint8_t *addr = td->bases[0] + page * td->page_size;

	/* Whether it faulted or the page was just mapped, the observer came first. */
	(void)*addr;
	if (!__atomic_load_n(&t->obs->seen[page], __ATOMIC_ACQUIRE))
		t->unseen++;
	pattern_fill_page(t->obs->pattern, 0, page, expected, td->page_size);
	if (memcmp(td->bases[0] + page * td->page_size, expected, td->page_size))
		t->mismatches++;
}

static void *toucher_main(void *arg)
{
	struct toucher *t = arg;
	uint64_t pages = t->td->pages_total, s = 0x9e3779b97f4a7c15ull ^ t->index, i;
	uint8_t *expected = malloc(t->td->page_size);

	check(expected != NULL, "malloc");
	if (t->index < WALKERS) {
		/* The push's order, interleaved between walkers: demand and push cross. */
		for (i = t->index; i < pages; i += WALKERS)
			touch(t, i, expected);
	} else {
		/* A hot set of 128 pages and the rest at random: threads collide on pages. */
		for (i = 0; i < pages / 4; i++)
			touch(t, i % 2 ? next_random(&s) % 128 : next_random(&s) % pages, expected);
	}
	free(expected);
	return NULL;
}

/* Sampled pages now in the frame their bytes were received into: moved, not copied. */
static uint64_t pages_moved(const struct test_dest *td, const struct observer *obs)
{
	uint64_t i, moved = 0;

	for (i = 0; i < td->pages_total / PFN_SAMPLE; i++)
		moved += obs->data_pfn[i] &&
			 test_pfn_of(obs->pagemap_fd, td->bases[0] + i * PFN_SAMPLE * td->page_size,
				     td->page_size) == obs->data_pfn[i];
	return moved;
}

static void run_round(unsigned int round)
{
	bool move = round >= COPY_ROUNDS;
	struct toucher touchers[WALKERS + HAMMERS];
	struct pager_options opts;
	struct source_report report;
	struct source_params sp;
	struct test_source ts;
	struct observer obs;
	struct test_dest td;
	struct pager_stats st;
	uint64_t page, once = 0, moved;
	unsigned int i;
	int ret;

	source_params_init(&sp, SIZE);
	sp.pattern.seed = 1000 + round;
	sp.opts.push_run_pages = round % 2 ? 64 : 8; /* long and short runs to cross */
	test_source_start(&sp, &ts);
	obs = (struct observer){ .pattern = &sp.pattern, .page_size = 4096 };
	obs.seen = calloc(SIZE / 4096, sizeof(*obs.seen));
	obs.data_pfn = calloc(SIZE / 4096 / PFN_SAMPLE, sizeof(*obs.data_pfn));
	check(obs.seen && obs.data_pfn, "calloc");
	obs.pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	check(obs.pagemap_fd >= 0, "pagemap: %s", strerror(errno));
	pager_options_init(&opts);
	opts.install_move = move;
	opts.on_install = on_install;
	opts.on_install_opaque = &obs;
	test_dest_start(&td, ts.port, &opts);
	check(td.page_size == obs.page_size && td.layout.n_regions == 1, "layout");

	for (i = 0; i < WALKERS + HAMMERS; i++) {
		touchers[i] = (struct toucher){ .td = &td, .obs = &obs, .index = i };
		check(!pthread_create(&touchers[i].thread, NULL, toucher_main, &touchers[i]), "thread");
	}
	ret = pager_wait(td.pager, 60000);
	check(ret == 0, "pager_wait: %d (%s)", ret, pager_error(td.pager));
	for (i = 0; i < WALKERS + HAMMERS; i++) {
		pthread_join(touchers[i].thread, NULL);
		check(!touchers[i].mismatches, "thread %u read %llu pages unlike the source's", i,
		      (unsigned long long)touchers[i].mismatches);
		check(!touchers[i].unseen, "thread %u ran on %llu pages the observer had not seen",
		      i, (unsigned long long)touchers[i].unseen);
	}
	pager_get_stats(td.pager, &st);
	test_source_finish(&ts, &report);
	check(report.status == 0, "source failed: %d", report.status);
	check(test_dest_digest(&td) == report.digest, "the destination's digest differs");
	for (page = 0; page < td.pages_total; page++)
		once += obs.seen[page] == 1;
	check(once == td.pages_total, "%llu of %llu pages shown to the observer exactly once",
	      (unsigned long long)once, (unsigned long long)td.pages_total);
	check(!obs.bad_data, "%llu pages installed with bytes unlike the source's",
	      (unsigned long long)obs.bad_data);
	check(st.pages_demand + st.pages_push + st.pages_zero == td.pages_total,
	      "origins do not add up to the pages");
	check(report.stats.duplicate_requests == 0 && st.requests_sent == report.stats.requests,
	      "%llu requests sent, the source saw %llu (%llu pages twice)",
	      (unsigned long long)st.requests_sent, (unsigned long long)report.stats.requests,
	      (unsigned long long)report.stats.duplicate_requests);
	check(st.faults == st.faults_present + st.faults_coalesced + st.requests_sent,
	      "faults by state do not add up");
	check(st.latency_count == st.faults - st.faults_present,
	      "%llu faults waited, %llu latencies accounted",
	      (unsigned long long)(st.faults - st.faults_present),
	      (unsigned long long)st.latency_count);
	check(st.requests_sent > 0 && st.pages_push > 0, "no race: nothing demanded or pushed");
	moved = pages_moved(&td, &obs);
	/* PFNs hidden (no CAP_SYS_ADMIN) read 0: nothing recorded, nothing to compare. */
	if (move)
		check(moved > 0 || !test_pfn_of(obs.pagemap_fd, td.bases[0], td.page_size),
		      "install_move: no pushed page kept the frame it was received into");
	else
		check(moved == 0, "UFFDIO_COPY: %llu pages kept the frame of their received bytes",
		      (unsigned long long)moved);
	printf("round %u (%s): %llu faults, %llu demand, %llu push, %llu zero, %llu duplicates, "
	       "%llu of %llu sampled pages moved\n",
	       round, move ? "move" : "copy", (unsigned long long)st.faults,
	       (unsigned long long)st.pages_demand, (unsigned long long)st.pages_push,
	       (unsigned long long)st.pages_zero, (unsigned long long)st.pages_duplicate,
	       (unsigned long long)moved, (unsigned long long)(td.pages_total / PFN_SAMPLE));
	pager_destroy(td.pager);
	close(obs.pagemap_fd);
	free(obs.data_pfn);
	free(obs.seen);
}

static bool kernel_has_move(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	bool has;

	check(fd >= 0, "userfaultfd: %s", strerror(errno));
	has = !ioctl(fd, UFFDIO_API, &api) && (api.features & UFFD_FEATURE_MOVE);
	close(fd);
	return has;
}

int main(void)
{
	unsigned int round, rounds = ROUNDS;

	test_time_bound(150);
	test_require_userfaultfd();
	if (!kernel_has_move()) {
		printf("not exercised: install_move (this kernel has no UFFDIO_MOVE, Linux 6.8)\n");
		rounds = COPY_ROUNDS;
	}
	for (round = 0; round < rounds; round++)
		run_round(round);
	printf("PASS: %u rounds, every page installed and observed once, digests equal\n", rounds);
	return 0;
}
