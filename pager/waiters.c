// SPDX-License-Identifier: GPL-2.0-only
#include "waiters.h"
#include "clock.h"

#include <errno.h>
#include <stdlib.h>

int waiters_add(struct waiters *w, uint64_t page_addr, pid_t tid, uint64_t now)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct waiter *v = realloc(w->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = (struct waiter){
		.page_addr = page_addr,
		.tid = tid,
		.since_ns = now,
	};
	return 0;
}

void waiters_serve(struct waiters *w, uint64_t addr, uint64_t len, struct pager_counters *c)
{
	uint64_t now = 0;
	size_t i = 0;

	while (i < w->n) {
		struct waiter *x = &w->v[i];

		if (x->page_addr - addr >= len) {
			i++;
			continue;
		}
		/* Read the clock once a range, and only when it has a waiter. */
		if (!now)
			now = clock_now_ns();
		counters_fault_served(c, x->tid, now - x->since_ns);
		*x = w->v[--w->n];
	}
}

const struct waiter *waiters_oldest(const struct waiters *w)
{
	const struct waiter *oldest = NULL;
	size_t i;

	for (i = 0; i < w->n; i++)
		if (!oldest || w->v[i].since_ns < oldest->since_ns)
			oldest = &w->v[i];
	return oldest;
}

void waiters_free(struct waiters *w)
{
	free(w->v);
	w->v = NULL;
	w->n = w->cap = 0;
}
