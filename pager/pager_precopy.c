// SPDX-License-Identifier: GPL-2.0-only
/*
 * Public API, pre-copy on the destination: pages that arrive before the switch-over are
 * installed into the registered memory at once, and the ones the guest wrote again on the
 * source are dropped (their mapping zapped, so they fault through userfaultfd and are fetched
 * afresh). The owner's thread, before pager_start(): the listener does not exist yet.
 */
#include "pager_internal.h"
#include "install.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>

static struct region *idle_region(struct pager *p, uint32_t region, uint64_t offset,
				  uint64_t len)
{
	uint64_t unit;
	struct region *r;

	if (run_state_get(p) != PAGER_STATE_IDLE || region >= p->regions.n)
		return NULL;
	r = &p->regions.r[region];
	/* Whole pages; a hugetlb region's whole 2 MiB pages. */
	unit = (uint64_t)r->unit_pages * p->regions.page_size;
	if (offset % unit || len % unit || offset > r->size || len > r->size - offset)
		return NULL;
	return r;
}

/* Zaps pages so that they are missing again; returns how many were present. */
static int64_t drop_pages(struct pager *p, struct region *r, uint64_t offset, uint64_t len)
{
	uint64_t ps = p->regions.page_size, page, dropped = 0;

	/*
	 * Zapped pages of a MISSING-registered range fault through userfaultfd again; a memfd
	 * region's are punched out of the file (and so out of every mapping of it).
	 */
	if (r->alias ? fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 (off_t)(r->fd_offset + offset), (off_t)len)
		     : madvise(r->base + offset, len, MADV_DONTNEED))
		return -errno;
	for (page = offset / ps; page < (offset + len) / ps; page++)
		dropped += page_state_set_absent(&r->pages, page);
	return (int64_t)dropped;
}

int pager_preload(struct pager *p, uint32_t region, uint64_t offset, const void *data,
		  uint64_t len)
{
	struct region *r = idle_region(p, region, offset, len);
	uint64_t ps = p->regions.page_size;
	struct install_result res = { 0 };
	int64_t replaced;
	char err[256];
	int ret;

	if (!r)
		return -EINVAL;
	/* A later round's copy replaces the earlier one: the guest wrote the page since. */
	replaced = drop_pages(p, r, offset, len);
	if (replaced < 0)
		return (int)replaced;
	/* Every page of the range is missing (and unclaimed) now: its claims are all ours. */
	ret = install_claimed(p, r, offset / ps, len / ps, data, !data, false, &res, err, sizeof(err));
	if (ret) {
		logger_err(&p->log, "pager: pre-copy: %s", err);
		return ret;
	}
	pthread_mutex_lock(&p->lock);
	counters_preloaded(&p->precopy, res.installed, (uint64_t)replaced, res.retries,
			   data ? len : 0);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int pager_discard(struct pager *p, uint32_t region, uint64_t offset, uint64_t len)
{
	struct region *r = idle_region(p, region, offset, len);
	int64_t dropped;

	if (!r)
		return -EINVAL;
	dropped = drop_pages(p, r, offset, len);
	if (dropped < 0)
		return (int)dropped;
	pthread_mutex_lock(&p->lock);
	counters_discarded(&p->precopy, (uint64_t)dropped);
	pthread_mutex_unlock(&p->lock);
	return 0;
}
