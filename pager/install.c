// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault path, second half: a received page run is installed, its waiters counted and woken.
 * Two threads install (the listener its demand answers, the push receiver the push): each
 * claims its pages first (page_state_claim()), so a page is shown to the observer, installed
 * and set present by one of them only; the other counts it as a duplicate.
 */
#include "install.h"
#include "uffd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/*
 * Pages now in place (the observer saw them before): mark them present, account for their
 * waiters, and only then wake those: a thread back from its fault finds all of it done.
 * The install itself did not wake anyone (UFFDIO_*_MODE_DONTWAKE, see uffd.c).
 */
static void installed_range(struct pager *p, struct region *r, uint64_t first, uint64_t count)
{
	uint64_t i, ps = p->regions.page_size;
	uint8_t *start = region_page_addr(&p->regions, r, first);

	for (i = 0; i < count; i++)
		page_state_set_present(&r->pages, first + i);
	/*
	 * No waiter marked on the range after the pages became present: any fault on them not
	 * yet read will find them present and wake its thread (fault.c). So most pushed runs
	 * take neither the lock nor a wake-up.
	 */
	if (!page_state_any_waited(&r->pages, first, count))
		return;
	pthread_mutex_lock(&p->lock);
	waiters_serve(&p->waiters, (uintptr_t)start, count * ps, &p->counters);
	pthread_mutex_unlock(&p->lock);
	uffd_wake(p->uffd, start, count * ps);
}

/*
 * A memfd region: the data (or zeros) into the file through the pager's own mapping, then
 * UFFDIO_CONTINUE maps those file pages where the guest waits. Until then a thread touching
 * them takes a minor fault, so it never sees a page half written. Zeros are written, not
 * left to UFFDIO_ZEROPAGE: a page discarded earlier may still be in the file.
 */
static int64_t install_memfd(struct pager *p, struct region *r, uint64_t first, uint64_t len,
			     const uint8_t *src, int *err_out)
{
	uint8_t *alias = region_alias_addr(&p->regions, r, first);

	/*
	 * One call allocates the run's file pages, instead of a page fault on each; and an
	 * allocation that fails is an error here rather than a SIGBUS in the copy.
	 */
	if (madvise(alias, len, MADV_POPULATE_WRITE)) {
		*err_out = -errno;
		return 0;
	}
	if (src)
		memcpy(alias, src, len);
	else
		memset(alias, 0, len);
	return uffd_continue(p->uffd, region_page_addr(&p->regions, r, first), len, false,
			     err_out);
}

/*
 * hugetlb has no UFFDIO_ZEROPAGE: a zero huge page is copied from here (never written, so
 * it stays the kernel's zero page: reading it costs no memory).
 */
static uint8_t zero_huge_page[WIRE_HUGE_PAGE_SIZE] __attribute__((aligned(4096)));

int install_run(struct pager *p, struct region *r, uint64_t first, uint64_t count,
		const uint8_t *src, bool zero, bool movable, struct install_result *res,
		char *err, size_t err_len)
{
	uint64_t ps = p->regions.page_size, done = 0;
	/* Only private anonymous memory takes UFFDIO_MOVE; the rest is copied as always. */
	bool move = movable && !zero && !r->alias && !region_is_hugetlb(r) &&
		    !__atomic_load_n(&p->move_refused, __ATOMIC_RELAXED);

	/*
	 * The observer first, before the pages are mapped: then no thread runs on a page the
	 * observer has not seen. Waking last is not enough for that: a thread whose fault is
	 * under way runs on as soon as the page is mapped (the kernel looks once more before it
	 * sleeps), before the pager wakes anyone.
	 */
	if (p->opts.on_install)
		p->opts.on_install(p->opts.on_install_opaque, r->id, first, count,
				   zero ? NULL : src);
	while (done < count) {
		uint8_t *dst = region_page_addr(&p->regions, r, first + done);
		uint64_t len = (count - done) * ps;
		int64_t bytes;
		int ret;

		if (r->alias)
			bytes = install_memfd(p, r, first + done, len, zero ? NULL : src + done * ps,
					      &ret);
		else if (zero && region_is_hugetlb(r))
			/* One huge page at a time: install_units() gives one. */
			bytes = uffd_copy(p->uffd, dst, zero_huge_page, len, &ret);
		else if (zero)
			bytes = uffd_zeropage(p->uffd, dst, len, &ret);
		else if (move)
			bytes = uffd_move(p->uffd, dst, (void *)(src + done * ps), len, &ret);
		else
			bytes = uffd_copy(p->uffd, dst, src + done * ps, len, &ret);
		if (bytes > 0)
			installed_range(p, r, first + done, (uint64_t)bytes / ps);
		done += (uint64_t)bytes / ps;
		res->installed += (uint64_t)bytes / ps;
		if (!ret)
			continue;
		if ((ret == -EBUSY || ret == -EINVAL) && move) {
			/*
			 * Pages the kernel will not move (shared or pinned: EBUSY; a mapping unlike
			 * the staging pages, e.g. mlock()ed guest memory: EINVAL): copied instead,
			 * which is as good, from now on. Said once.
			 */
			if (!__atomic_exchange_n(&p->move_refused, true, __ATOMIC_RELAXED))
				logger_warn(&p->log, "pager: UFFDIO_MOVE at %p: %s; pushed pages are "
					    "copied from now on", (void *)region_page_addr(&p->regions,
					    r, first + done), strerror(-ret));
			move = false;
			continue;
		}
		if (ret == -EAGAIN) {
			/* Partial install, or the mm is changing under us: go on from here. */
			res->retries++;
			continue;
		}
		if (ret == -EEXIST && r->alias) {
			/*
			 * A memfd page mapped behind our back: by the time this is known its file
			 * page has been written. Nothing in this pager maps a page it has not
			 * claimed, so refuse rather than guess what the thread saw.
			 */
			snprintf(err, err_len, "UFFDIO_CONTINUE at %p: the page was already mapped "
				 "(by whom? the memfd region must be touched by nothing but its "
				 "threads' faults)", (void *)region_page_addr(&p->regions, r,
										first + done));
			return ret;
		}
		if (ret == -EEXIST) {
			/*
			 * Populated behind our back (not by the other installer: claims keep
			 * them apart): it is there, and we must not overwrite it.
			 */
			dst = region_page_addr(&p->regions, r, first + done);
			logger_warn(&p->log, "pager: page at %p already populated by someone else",
				    (void *)dst);
			/*
			 * Shown again, as it is: a digest kept per page then says it is not the
			 * source's.
			 */
			if (p->opts.on_install)
				p->opts.on_install(p->opts.on_install_opaque, r->id, first + done,
						   r->unit_pages, dst);
			installed_range(p, r, first + done, r->unit_pages);
			done += r->unit_pages;
			continue;
		}
		snprintf(err, err_len, "%s at %p (%llu bytes): %s",
			 r->alias ? "UFFDIO_CONTINUE" : zero ? "UFFDIO_ZEROPAGE"
				  : move ? "UFFDIO_MOVE" : "UFFDIO_COPY",
			 (void *)dst,
			 (unsigned long long)len, strerror(-ret));
		return ret;
	}
	return 0;
}

/*
 * A hugetlb region: [first, first+count) is whole 2 MiB pages, each claimed by its first
 * page and installed whole.
 */
static int install_units(struct pager *p, struct region *r, uint64_t first, uint64_t count,
			 const uint8_t *src, bool zero, struct install_result *res, char *err,
			 size_t err_len)
{
	uint64_t ps = p->regions.page_size, page;
	int ret;

	for (page = first; page < first + count; page += r->unit_pages) {
		if (!page_state_claim(&r->pages, page, 1))
			continue;
		ret = install_run(p, r, page, r->unit_pages, zero ? NULL : src + (page - first) * ps,
				  zero, false, res, err, err_len);
		if (ret)
			return ret;
	}
	return 0;
}

int install_claimed(struct pager *p, struct region *r, uint64_t first, uint64_t count,
		    const uint8_t *src, bool zero, bool movable, struct install_result *res,
		    char *err, size_t err_len)
{
	uint64_t ps = p->regions.page_size, done, chunk, mine, run_start, run;
	int ret;

	if (region_is_hugetlb(r))
		return install_units(p, r, first, count, src, zero, res, err, err_len);

	for (done = 0; done < count; done += chunk) {
		chunk = count - done < 64 ? count - done : 64;
		mine = page_state_claim(&r->pages, first + done, (uint32_t)chunk);
		/* Each run of consecutive pages claimed here is one install. */
		while (mine) {
			run_start = (uint64_t)__builtin_ctzll(mine);
			run = ~(mine >> run_start) ? (uint64_t)__builtin_ctzll(~(mine >> run_start)) : 64;
			mine = run == 64 ? 0 : mine & ~(((1ull << run) - 1) << run_start);
			ret = install_run(p, r, first + done + run_start, run,
					  zero ? NULL : src + (done + run_start) * ps, zero, movable,
					  res, err, err_len);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int install_frame(struct pager *p, const Wire__PageHeader *hdr, const uint8_t *payload,
		  bool movable, pthread_mutex_t *lock, struct pager_counters *c, char *err,
		  size_t err_len)
{
	uint64_t ps = p->regions.page_size, first = hdr->offset / ps, count = hdr->length / ps;
	bool zero = hdr->flags & WIRE_PAGE_FLAG_ZERO;
	struct region *r = &p->regions.r[hdr->region];
	struct install_result res = { 0 };
	int ret;

	/* Pages already claimed (the push and a demand answer crossed) are skipped, not rewritten. */
	ret = install_claimed(p, r, first, count, zero ? NULL : payload, zero, movable, &res, err,
			      err_len);
	if (ret)
		return ret;
	pthread_mutex_lock(lock);
	counters_frame(c,
		       zero ? ORIGIN_ZERO
			    : (hdr->flags & WIRE_PAGE_FLAG_DEMAND ? ORIGIN_DEMAND : ORIGIN_PUSH),
		       count, res.installed, res.retries, zero ? 0 : hdr->length);
	pthread_mutex_unlock(lock);
	return 0;
}
