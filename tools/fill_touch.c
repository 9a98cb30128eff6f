// SPDX-License-Identifier: GPL-2.0-only
#include "fill_touch.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * A touch slower than this went through the fault path: a present page reads in well under a
 * microsecond, and the fastest userfaultfd round trip on this machine takes several.
 */
#define FAULT_MIN_NS 1000u

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The address of page `global` counting across every region in order. */
static uint8_t *global_page(const struct toucher *t, uint64_t global, uint64_t ps)
{
	uint32_t r;

	for (r = 0; global >= t->layout->regions[r].size / ps; r++)
		global -= t->layout->regions[r].size / ps;
	return t->bases[r] + global * ps;
}

/* --cover: this thread's stripe (pages index, index+n, ...) in a seeded shuffled order. */
static uint64_t *cover_order(struct toucher *t, uint64_t total)
{
	uint64_t n = (total - t->index + t->n_threads - 1) / t->n_threads, s = t->seed | 1, i;
	uint64_t *order = malloc((n ? n : 1) * sizeof(*order));

	if (!order)
		die("out of memory");
	for (i = 0; i < n; i++)
		order[i] = t->index + i * t->n_threads;
	for (i = n; i > 1; i--) {
		uint64_t k = xorshift(&s) % i, tmp = order[i - 1];

		order[i - 1] = order[k];
		order[k] = tmp;
	}
	t->touches = n;
	return order;
}

/* Reads a byte of the page; with --latency-dump, keeps the time of a touch that faulted. */
static void touch(struct toucher *t, uint8_t *page, uint64_t offset)
{
	uint64_t t0, dt;

	if (!t->lat_ns || pager_page_present(t->pager, page)) {
		t->sum += *(volatile uint8_t *)(page + offset);
		return;
	}
	t0 = clock_now_ns();
	t->sum += *(volatile uint8_t *)(page + offset);
	dt = clock_now_ns() - t0;
	if (dt >= FAULT_MIN_NS)
		t->lat_ns[t->n_lat++] = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
}

void *fill_touch_main(void *arg)
{
	struct toucher *t = arg;
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), s = t->seed | 1, total = 0, i;
	uint64_t *order = NULL;
	uint32_t r;

	for (r = 0; r < t->layout->n_regions; r++)
		total += t->layout->regions[r].size / ps;
	if (t->cover)
		order = cover_order(t, total);
	/* Here, once the touch count is known (--cover sets it per stripe). */
	if (t->keep_latency &&
	    !(t->lat_ns = calloc(t->touches ? t->touches : 1, sizeof(*t->lat_ns))))
		die("out of memory");
	t->start_ns = clock_now_ns();
	for (i = 0; i < t->touches; i++) {
		if (order) {
			touch(t, global_page(t, order[i], ps), xorshift(&s) & (ps - 1));
			continue;
		}
		uint32_t region = (uint32_t)(xorshift(&s) % t->layout->n_regions);
		uint64_t page = xorshift(&s) % (t->layout->regions[region].size / ps);

		touch(t, t->bases[region] + page * ps, s & (ps - 1));
	}
	t->end_ns = clock_now_ns();
	free(order);
	return NULL;
}


void fill_write_latency_dump(const char *path, const struct toucher *workers, uint64_t n)
{
	uint64_t start = UINT64_MAX, end = 0, count = 0, i, k;
	FILE *f = fopen(path, "w");

	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	for (i = 0; i < n; i++) {
		start = workers[i].start_ns < start ? workers[i].start_ns : start;
		end = workers[i].end_ns > end ? workers[i].end_ns : end;
		count += workers[i].n_lat;
	}
	fprintf(f, "# pager-fill latency dump: ns per faulting touch\n# threads %" PRIu64
		"\n# faulting_touches %" PRIu64 "\n# touch_phase_ns %" PRIu64 "\n", n, count,
		n ? end - start : 0);
	for (i = 0; i < n; i++)
		for (k = 0; k < workers[i].n_lat; k++)
			fprintf(f, "%u\n", workers[i].lat_ns[k]);
	if (fclose(f))
		die("cannot write %s: %s", path, strerror(errno));
}
