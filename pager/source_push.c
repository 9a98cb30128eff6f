// SPDX-License-Identifier: GPL-2.0-only
/*
 * The push thread: streams every page not yet sent on the push socket (or the only one), jumping to just after
 * the latest demanded page first (pre-paging: the pages near a fault are the likely next
 * faults), then PushDone.
 */
#include "source_internal.h"
#include "wire.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static int push_from(struct pager_source *src, uint32_t region, uint64_t page, uint64_t count)
{
	struct source_region *r = &src->regions[region];
	uint64_t pushed = 0;
	int ret;

	if (page >= r->n_pages)
		return 0;
	if (count > r->n_pages - page)
		count = r->n_pages - page;
	ret = source_send_pages(src, source_push_socket(src), r, page, count, 0, true, &pushed);
	stat_add(&src->stats.pages_push, pushed);
	return ret;
}

/* Every page in order, with a detour after each demanded spot. */
static int push_all(struct pager_source *src)
{
	uint32_t region = 0;
	uint64_t page = 0;
	int ret = 0;

	while (region < src->n_regions && !source_stopped(src)) {
		uint64_t hint = __atomic_exchange_n(&src->prepage_hint, 0, __ATOMIC_ACQ_REL);

		if (hint & PREPAGE_HINT_VALID) {
			stat_add(&src->stats.prepage_jumps, 1);
			ret = push_from(src, (uint32_t)((hint >> 48) & 0x7fff), hint & ((1ull << 48) - 1),
					src->opts.prepage_window);
		} else {
			/* A hugetlb region's runs are its 2 MiB pages. */
			uint64_t run = src->opts.push_run_pages > src->regions[region].unit_pages
					       ? src->opts.push_run_pages
					       : src->regions[region].unit_pages;

			ret = push_from(src, region, page, run);
			page += run;
			if (page >= src->regions[region].n_pages) {
				region++;
				page = 0;
			}
		}
		if (ret)
			break;
	}
	return ret;
}

void *source_push_main(void *arg)
{
	struct pager_source *src = arg;
	Wire__PushDone done = WIRE__PUSH_DONE__INIT;
	int ret;

	source_pin_self(src, src->opts.push_cpu, "push");
	/*
	 * Below the demand thread: on a busy host a woken demand thread must not wait a
	 * scheduler slice behind the push (measured: ms of fault latency on 2 CPUs).
	 */
	if (src->opts.push_nice &&
	    setpriority(PRIO_PROCESS, (id_t)gettid(), src->opts.push_nice))
		logger_warn(&src->log, "source: cannot renice the push thread: %s",
			    strerror(errno));
	ret = push_all(src);
	if (!ret && !source_stopped(src)) {
		done.pages_sent = __atomic_load_n(&src->stats.pages_push, __ATOMIC_RELAXED);
		ret = source_send_msg(src, source_push_socket(src), WIRE_PUSH_DONE, &done.base);
	}
	if (ret && !source_stopped(src)) {
		source_lost(src, ret, "push connection: %s", strerror(-ret));
		/*
		 * Wake the demand loop out of its receive. On the only connection, also end its
		 * sends: a frame of ours may have gone out in part, and nothing may follow it.
		 */
		shutdown(src->demand_fd, src->push_fd < 0 ? SHUT_RDWR : SHUT_RD);
	}
	__atomic_store_n(&src->push_finished, true, __ATOMIC_RELEASE);
	return NULL;
}
