// SPDX-License-Identifier: GPL-2.0-only
/* Fault path, second half: a received page run is installed, its waiters counted and woken. */
#include "install.h"
#include "uffd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/*
 * Pages now in place: mark them present, show them to the observer, account for their
 * waiters, and only then wake those: a thread back from its fault finds all of it done.
 * The install itself did not wake anyone (UFFDIO_*_MODE_DONTWAKE, see uffd.c).
 */
static void installed_range(struct pager *p, struct region *r, uint64_t first, uint64_t count,
			    const uint8_t *data)
{
	uint64_t i, ps = p->regions.page_size;
	uint8_t *start = region_page_addr(&p->regions, r, first);

	for (i = 0; i < count; i++)
		page_state_set_present(&r->pages, first + i);
	if (p->opts.on_install)
		p->opts.on_install(p->opts.on_install_opaque, r->id, first, count, data);
	pthread_mutex_lock(&p->lock);
	waiters_serve(&p->waiters, (uintptr_t)start, count * ps, &p->counters);
	pthread_mutex_unlock(&p->lock);
	uffd_wake(p->uffd, start, count * ps);
}

int install_run(struct pager *p, struct region *r, uint64_t first, uint64_t count,
		const uint8_t *src, bool zero, struct install_result *res, char *err,
		size_t err_len)
{
	uint64_t ps = p->regions.page_size, done = 0;

	while (done < count) {
		uint8_t *dst = region_page_addr(&p->regions, r, first + done);
		uint64_t len = (count - done) * ps;
		int64_t bytes;
		int ret;

		if (zero)
			bytes = uffd_zeropage(p->uffd, dst, len, &ret);
		else
			bytes = uffd_copy(p->uffd, dst, src + done * ps, len, &ret);
		if (bytes > 0)
			installed_range(p, r, first + done, (uint64_t)bytes / ps,
					zero ? NULL : src + done * ps);
		done += (uint64_t)bytes / ps;
		res->installed += (uint64_t)bytes / ps;
		if (!ret)
			continue;
		if (ret == -EAGAIN) {
			/* Partial install, or the mm is changing under us: go on from here. */
			res->retries++;
			continue;
		}
		if (ret == -EEXIST) {
			/* Populated behind our back: it is there, and we must not overwrite it. */
			logger_warn(&p->log, "pager: page at %p already populated by someone else",
				    (void *)dst);
			/* The observer sees what is there, so a digest says it is not the source's. */
			installed_range(p, r, first + done, 1, dst);
			done++;
			continue;
		}
		snprintf(err, err_len, "%s at %p (%llu bytes): %s",
			 zero ? "UFFDIO_ZEROPAGE" : "UFFDIO_COPY", (void *)dst,
			 (unsigned long long)len, strerror(-ret));
		return ret;
	}
	return 0;
}

int install_frame(struct pager *p, const Wire__PageHeader *hdr, const uint8_t *payload,
		  char *err, size_t err_len)
{
	uint64_t ps = p->regions.page_size, first = hdr->offset / ps, count = hdr->length / ps;
	bool zero = hdr->flags & WIRE_PAGE_FLAG_ZERO;
	struct region *r = &p->regions.r[hdr->region];
	struct install_result res = { 0 };
	uint64_t pos, run_first, run;
	int ret;

	/* Pages already present (the push and a demand answer crossed) are skipped, not rewritten. */
	for (pos = first; (run = page_state_next_missing_run(&r->pages, pos, first + count - pos,
							     &run_first)); pos = run_first + run) {
		ret = install_run(p, r, run_first, run,
				  zero ? NULL : payload + (run_first - first) * ps, zero, &res,
				  err, err_len);
		if (ret)
			return ret;
	}
	pthread_mutex_lock(&p->lock);
	counters_frame(&p->counters,
		       zero ? ORIGIN_ZERO
			    : (hdr->flags & WIRE_PAGE_FLAG_DEMAND ? ORIGIN_DEMAND : ORIGIN_PUSH),
		       count, res.installed, res.retries, zero ? 0 : hdr->length);
	pthread_mutex_unlock(&p->lock);
	return 0;
}
