// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pre-copy on the destination: pages that arrive before the switch-over are installed into
 * the registered memory at once, and the ones the guest wrote again on the source are dropped
 * (their mapping zapped, so they fault through userfaultfd and are fetched afresh).
 */
#include "pager_internal.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

static struct pager_region_state *idle_region(struct pager *p, uint32_t region, uint64_t offset,
					      uint64_t len)
{
	struct pager_region_state *r;
	bool idle;

	pthread_mutex_lock(&p->lock);
	idle = p->state == PAGER_IDLE;
	pthread_mutex_unlock(&p->lock);
	if (!idle || region >= p->n_regions)
		return NULL;
	r = &p->regions[region];
	if (offset % p->page_size || len % p->page_size || offset > r->size || len > r->size - offset)
		return NULL;
	return r;
}

/* Zaps pages so that they are missing again; returns how many were present. */
static int64_t drop_pages(struct pager *p, struct pager_region_state *r, uint64_t offset,
			  uint64_t len)
{
	uint64_t page, dropped = 0;

	/* Zapped pages of a MISSING-registered range fault through userfaultfd again. */
	if (madvise(r->base + offset, len, MADV_DONTNEED))
		return -errno;
	for (page = offset / p->page_size; page < (offset + len) / p->page_size; page++)
		dropped += page_state_set_absent(&r->pages, page);
	return (int64_t)dropped;
}

int pager_preload(struct pager *p, uint32_t region, uint64_t offset, const void *data,
		  uint64_t len)
{
	struct pager_region_state *r = idle_region(p, region, offset, len);
	int64_t replaced, installed;
	uint64_t retries = 0;

	if (!r)
		return -EINVAL;
	/* A later round's copy replaces the earlier one: the guest wrote the page since. */
	replaced = drop_pages(p, r, offset, len);
	if (replaced < 0)
		return (int)replaced;
	/* Every page of the range is missing now: one install covers it. */
	installed = pager_install_run(p, r, offset / p->page_size, len / p->page_size, data, !data,
				      &retries);
	if (installed < 0)
		return (int)installed;
	pthread_mutex_lock(&p->lock);
	p->counters.pages_precopy += (uint64_t)installed - (uint64_t)replaced;
	p->counters.install_retries += retries;
	if (data)
		p->counters.bytes_received += len;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int pager_discard(struct pager *p, uint32_t region, uint64_t offset, uint64_t len)
{
	struct pager_region_state *r = idle_region(p, region, offset, len);
	int64_t dropped;

	if (!r)
		return -EINVAL;
	dropped = drop_pages(p, r, offset, len);
	if (dropped < 0)
		return (int)dropped;
	pthread_mutex_lock(&p->lock);
	p->counters.pages_precopy -= (uint64_t)dropped;
	p->counters.pages_discarded += (uint64_t)dropped;
	pthread_mutex_unlock(&p->lock);
	return 0;
}
