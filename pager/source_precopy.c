// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pre-copy on the source: while the guest still runs, send pages ahead of the switch-over on
 * the demand socket; at the switch-over, tell the destination which of them were written
 * since (their sent mark is cleared, so the push sends them again after the switch-over).
 */
#include "source_internal.h"
#include "wire.h"

#include <errno.h>
#include <stdlib.h>

/* Whether any page of the unit at page is set in the dirty bitmap. */
static bool unit_written(const uint64_t *bitmap, uint64_t page, uint32_t unit_pages)
{
	uint64_t w;

	if (unit_pages == 1)
		return test_bit(bitmap, page);
	for (w = page / 64; w < (page + unit_pages) / 64; w++)
		if (__atomic_load_n(&bitmap[w], __ATOMIC_RELAXED))
			return true;
	return false;
}

int pager_source_precopy(struct pager_source *src, int fd, uint32_t region,
			 const uint64_t *bitmap, uint64_t *pages_sent)
{
	struct source_region *r;
	uint64_t page, end, sent = 0;
	int ret;

	if (region >= src->n_regions)
		return -EINVAL;
	r = &src->regions[region];
	/*
	 * Runs of written units: pages, or whole 2 MiB pages of a hugetlb region (each sent
	 * once, however many of its pages were written).
	 */
	for (page = 0; page < r->n_pages; page = end) {
		if (bitmap && !unit_written(bitmap, page, r->unit_pages)) {
			end = page + r->unit_pages;
			continue;
		}
		for (end = page + r->unit_pages;
		     end < r->n_pages && (!bitmap || unit_written(bitmap, end, r->unit_pages));
		     end += r->unit_pages)
			;
		ret = source_send_pages(src, fd, r, page, end - page, 0, false, &sent);
		if (ret)
			return ret;
	}
	stat_add(&src->stats.pages_precopy, sent);
	*pages_sent = sent;
	return 0;
}

static int flush_discard(int fd, Wire__Discard *msg)
{
	int ret;

	if (!msg->n_offsets)
		return 0;
	ret = wire_send(fd, WIRE_DISCARD, &msg->base, 10000);
	msg->n_offsets = msg->n_counts = 0;
	return ret;
}

int pager_source_discard(struct pager_source *src, int fd, uint32_t region,
			 const uint64_t *bitmap, uint64_t *pages_discarded)
{
	uint64_t offsets[WIRE_MAX_DISCARD_RANGES];
	uint32_t counts[WIRE_MAX_DISCARD_RANGES];
	Wire__Discard msg = WIRE__DISCARD__INIT;
	struct source_region *r;
	uint64_t page, end, dropped = 0;
	int ret;

	if (region >= src->n_regions)
		return -EINVAL;
	r = &src->regions[region];
	msg.region = region;
	msg.offsets = offsets;
	msg.counts = counts;
	for (page = 0; page < r->n_pages; page = end + r->unit_pages) {
		/*
		 * Only pages the destination has: written pages never sent need no discard. A
		 * hugetlb region's 2 MiB page goes whole when any of its pages was written.
		 */
		for (end = page; end < r->n_pages && unit_written(bitmap, end, r->unit_pages) &&
				 test_bit(r->sent, end);
		     end += r->unit_pages)
			mark_unit(r->sent, end, r->unit_pages, false);
		if (end == page)
			continue;
		offsets[msg.n_offsets] = page * src->page_size;
		counts[msg.n_counts] = (uint32_t)(end - page);
		msg.n_offsets++;
		msg.n_counts++;
		dropped += end - page;
		if (msg.n_offsets == WIRE_MAX_DISCARD_RANGES) {
			ret = flush_discard(fd, &msg);
			if (ret)
				return ret;
		}
	}
	ret = flush_discard(fd, &msg);
	stat_add(&src->stats.pages_discarded, dropped);
	*pages_discarded = dropped;
	return ret;
}

uint64_t pager_source_pages_held(const struct pager_source *src)
{
	uint64_t n = 0, w;
	uint32_t i;

	for (i = 0; i < src->n_regions; i++)
		for (w = 0; w < (src->regions[i].n_pages + 63) / 64; w++)
			n += (uint64_t)__builtin_popcountll(
				__atomic_load_n(&src->regions[i].sent[w], __ATOMIC_RELAXED));
	return n;
}

int pager_source_switchover(struct pager_source *src, int fd, uint64_t memory_digest,
			    uint64_t state_digest, int timeout_ms)
{
	Wire__Switchover sw = WIRE__SWITCHOVER__INIT;

	sw.memory_digest = memory_digest;
	sw.state_digest = state_digest;
	sw.precopy_pages = pager_source_pages_held(src);
	return wire_send(fd, WIRE_SWITCHOVER, &sw.base, timeout_ms);
}
