// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel touching missing memory on a thread's behalf (as KVM does inside its ioctls) is
 * served like the thread's own access: read(2) writes into a missing page, write(2) reads from
 * one, and each fault is charged to the thread that made the system call, in the stats and in
 * what the owner's fault observer (pager_options.on_fault) is told.
 */
#include "check.h"
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const struct pager_thread_stats *find_thread(const struct pager_stats *st, pid_t tid)
{
	uint32_t i;

	for (i = 0; i < st->n_threads; i++)
		if (st->threads[i].tid == tid)
			return &st->threads[i];
	return NULL;
}

/* What on_fault saw, on the listener thread; read here once the faults were served. */
struct seen_faults {
	unsigned int n;
	struct {
		uint32_t region;
		uint64_t page;
		pid_t tid;
	} f[8];
};

static void on_fault(void *opaque, uint32_t region, uint64_t page, pid_t tid)
{
	struct seen_faults *seen = opaque;
	unsigned int i = __atomic_load_n(&seen->n, __ATOMIC_RELAXED);

	if (i < sizeof(seen->f) / sizeof(seen->f[0])) {
		seen->f[i].region = region;
		seen->f[i].page = page;
		seen->f[i].tid = tid;
	}
	__atomic_store_n(&seen->n, i + 1, __ATOMIC_RELEASE);
}

int main(void)
{
	static struct seen_faults seen;
	struct pager_options opts;
	static const char message[] = "written by the kernel into a page that was not there";
	struct source_params sp;
	struct test_source ts;
	struct test_dest td;
	struct source_report report;
	struct pager_stats st;
	const struct pager_thread_stats *me;
	uint8_t expected[4096], copy[4096];
	uint8_t *into, *from;
	uint64_t page;
	int pipefd[2], ret;

	test_time_bound(60);
	test_require_userfaultfd();
	source_params_init(&sp, 16ull << 20);
	sp.opts.push = false; /* nothing arrives unless someone faults */
	test_source_start(&sp, &ts);
	pager_options_init(&opts);
	opts.on_fault = on_fault;
	opts.on_fault_opaque = &seen;
	test_dest_start(&td, ts.port, &opts);
	check(!pipe(pipefd), "pipe");

	/* read(2): the kernel's copy_to_user() faults on the missing page. */
	into = td.bases[0] + 100 * td.page_size;
	check(!pager_page_present(td.pager, into), "page present before any access");
	check(write(pipefd[1], message, sizeof(message)) == sizeof(message), "pipe write");
	check(read(pipefd[0], into + 64, sizeof(message)) == sizeof(message), "read(2) into a missing page: %s",
	      strerror(errno));
	check(pager_page_present(td.pager, into), "page not present after read(2)");
	pattern_fill_page(&sp.pattern, 0, 100, expected, td.page_size);
	memcpy(expected + 64, message, sizeof(message));
	check(!memcmp(into, expected, td.page_size), "page after read(2) is not source data + message");

	/* write(2): the kernel's copy_from_user() faults on another missing page. */
	from = td.bases[0] + 2000 * td.page_size;
	check(!pager_page_present(td.pager, from), "second page present before any access");
	check(write(pipefd[1], from, td.page_size) == (ssize_t)td.page_size, "write(2) from a missing page: %s",
	      strerror(errno));
	check(read(pipefd[0], copy, td.page_size) == (ssize_t)td.page_size, "pipe read");
	pattern_fill_page(&sp.pattern, 0, 2000, expected, td.page_size);
	check(!memcmp(copy, expected, td.page_size), "write(2) sent bytes that are not the source's");

	pager_get_stats(td.pager, &st);
	me = find_thread(&st, gettid());
	check(me && me->faults == 2, "faults charged to this thread: %llu (expected 2, the two syscalls)",
	      me ? (unsigned long long)me->faults : 0ull);
	check(st.requests_sent == 2 && st.latency_count == 2, "requests %llu, served %llu",
	      (unsigned long long)st.requests_sent, (unsigned long long)st.latency_count);
	/* The observer saw both, with the page and the thread of the system call. */
	check(__atomic_load_n(&seen.n, __ATOMIC_ACQUIRE) == 2, "on_fault told of %u faults, expected 2",
	      seen.n);
	check(seen.f[0].region == 0 && seen.f[0].page == 100 && seen.f[0].tid == gettid(),
	      "first fault seen: region %u page %llu thread %d", seen.f[0].region,
	      (unsigned long long)seen.f[0].page, (int)seen.f[0].tid);
	check(seen.f[1].region == 0 && seen.f[1].page == 2000 && seen.f[1].tid == gettid(),
	      "second fault seen: region %u page %llu thread %d", seen.f[1].region,
	      (unsigned long long)seen.f[1].page, (int)seen.f[1].tid);

	/* Finish the fill by touching the rest, then compare everything. */
	for (page = 0; page < td.pages_total; page++)
		(void)*(volatile uint8_t *)(td.bases[0] + page * td.page_size);
	ret = pager_wait(td.pager, 60000);
	check(ret == 0, "pager_wait: %d (%s)", ret, pager_error(td.pager));
	test_source_finish(&ts, &report);
	check(report.status == 0, "source failed: %d", report.status);
	/* Undo the message so that the memory must equal the source image. */
	pattern_fill_page(&sp.pattern, 0, 100, expected, td.page_size);
	memcpy(into + 64, expected + 64, sizeof(message));
	check(test_dest_digest(&td) == report.digest, "digest mismatch after the fill");
	pager_get_stats(td.pager, &st);
	pager_stats_write_json(&st, stdout);
	pager_destroy(td.pager);
	printf("PASS: kernel-mode faults served on the calling thread\n");
	return 0;
}
