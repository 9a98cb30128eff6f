/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Threads blocked on a page, from the fault's arrival until the page is installed. The
 * listener is the only writer, under the pager lock; watchdogs read the oldest under it.
 */
#ifndef PAGER_WAITERS_H
#define PAGER_WAITERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "counters.h"

struct waiter {
	uint64_t page_addr;
	pid_t tid;
	uint64_t since_ns;
};

struct waiters {
	struct waiter *v;
	size_t n, cap;
};

int waiters_add(struct waiters *w, uint64_t page_addr, pid_t tid, uint64_t now);
/* Removes every waiter on [addr, addr+len), their pages just installed: counts their waits. */
void waiters_serve(struct waiters *w, uint64_t addr, uint64_t len, struct pager_counters *c);
/* The longest-waiting, or NULL. */
const struct waiter *waiters_oldest(const struct waiters *w);
void waiters_free(struct waiters *w);

#endif
