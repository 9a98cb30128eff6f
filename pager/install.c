// SPDX-License-Identifier: GPL-2.0-only
/* Fault path, second half: a received page run is installed, its waiters woken and counted. */
#include "listener.h"
#include "log.h"
#include "uffd.h"

#include <errno.h>
#include <string.h>

/*
 * Pages now in place: mark them present, show them to the observer, account for their
 * waiters, and only then wake those: a thread back from its fault finds all of it done.
 */
static void installed_range(struct pager *p, struct pager_region_state *r, uint64_t first,
			    uint64_t count, const uint8_t *data)
{
	uint64_t i, ps = p->page_size;

	for (i = 0; i < count; i++)
		page_state_set_present(&r->pages, first + i);
	if (p->opts.on_install)
		p->opts.on_install(p->opts.on_install_opaque, r->id, first, count, data);
	if (p->listener)
		fault_wake_range(p->listener, (uintptr_t)r->base + first * ps, count * ps);
	uffd_wake(p->uffd, r->base + first * ps, count * ps);
}

/*
 * Installs pages [first, first+count) of r, all missing by our state. Returns pages
 * installed by us; pages found present by the kernel (EEXIST) are marked and woken, not
 * counted.
 */
int64_t pager_install_run(struct pager *p, struct pager_region_state *r, uint64_t first,
			  uint64_t count, const uint8_t *src, bool zero, uint64_t *retries)
{
	uint64_t ps = p->page_size, done = 0, installed = 0;

	while (done < count) {
		uint8_t *dst = r->base + (first + done) * ps;
		uint64_t len = (count - done) * ps;
		int64_t bytes;
		int err;

		if (zero)
			bytes = uffd_zeropage(p->uffd, dst, len, &err);
		else
			bytes = uffd_copy(p->uffd, dst, src + done * ps, len, &err);
		if (bytes > 0)
			installed_range(p, r, first + done, (uint64_t)bytes / ps,
					zero ? NULL : src + done * ps);
		done += (uint64_t)bytes / ps;
		installed += (uint64_t)bytes / ps;
		if (!err)
			continue;
		if (err == -EAGAIN) {
			/* Partial install, or the mm is changing under us: go on from here. */
			(*retries)++;
			continue;
		}
		if (err == -EEXIST) {
			/* Populated behind our back: it is there, and we must not overwrite it. */
			pr_warn("pager: page at %p already populated by someone else", (void *)dst);
			/* The observer sees what is there, so a digest says it is not the source's. */
			installed_range(p, r, first + done, 1, dst);
			done++;
			continue;
		}
		pager_fail(p, err, "%s at %p (%llu bytes): %s", zero ? "UFFDIO_ZEROPAGE" : "UFFDIO_COPY",
			   (void *)dst, (unsigned long long)len, strerror(-err));
		return err;
	}
	return (int64_t)installed;
}

int install_pages(struct listener *l, const Wire__PageHeader *hdr, const uint8_t *payload)
{
	struct pager *p = l->p;
	uint64_t ps = p->page_size, first, count, pos, run_first, run, installed = 0, retries = 0;
	bool zero = hdr->flags & WIRE_PAGE_FLAG_ZERO;
	struct pager_region_state *r;
	char err[256];
	int ret;

	ret = wire_check_page_header(hdr, &l->layout, p->page_size, err, sizeof(err));
	if (ret) {
		listener_protocol_error(l, ret, WIRE__ERROR_CODE__ERROR_RANGE, "bad page header: %s", err);
		return ret;
	}
	r = &p->regions[hdr->region];
	first = hdr->offset / ps;
	count = hdr->length / ps;
	for (pos = first; (run = page_state_next_missing_run(&r->pages, pos, first + count - pos,
							     &run_first)); pos = run_first + run) {
		int64_t n = pager_install_run(p, r, run_first, run,
					zero ? NULL : payload + (run_first - first) * ps, zero, &retries);

		if (n < 0)
			return (int)n;
		installed += (uint64_t)n;
	}

	pthread_mutex_lock(&p->lock);
	if (zero)
		p->counters.pages_zero += installed;
	else if (hdr->flags & WIRE_PAGE_FLAG_DEMAND)
		p->counters.pages_demand += installed;
	else
		p->counters.pages_push += installed;
	p->counters.pages_duplicate += count - installed;
	p->counters.install_retries += retries;
	if (!zero)
		p->counters.bytes_received += hdr->length;
	pthread_mutex_unlock(&p->lock);
	return 0;
}
