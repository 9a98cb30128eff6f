// SPDX-License-Identifier: GPL-2.0-only
/* Pre-copy on the source: dirty logging over the guest's slots, rounds of pages, discards. */
#include "source.h"
#include "log.h"

#include <inttypes.h>

/* A round that found fewer dirty pages than this is the last: post-copy takes the rest. */
#define PRECOPY_ENOUGH_PAGES 64

static int precopy_round(struct source_run *run, unsigned int round, uint64_t *sent_total)
{
	struct machine *m = run->m;
	uint64_t sent;
	unsigned int i;
	int ret;

	*sent_total = 0;
	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		if (round) {
			ret = vm_dirty_log_get(m->vm, m->regions[i].slot, run->dirty_bitmaps[i]);
			if (ret)
				return ret;
		}
		/* Round 0 has no bitmap: every page goes. */
		ret = pager_source_precopy(run->src, run->fds[0], i,
					   round ? run->dirty_bitmaps[i] : NULL, &sent);
		if (ret)
			return ret;
		*sent_total += sent;
	}
	return 0;
}

int mig_source_precopy(struct source_run *run)
{
	struct machine *m = run->m;
	unsigned int round, i;
	uint64_t dirty;
	int ret;

	/* Logging on, and read once to clear it: round 1 sees what was written during round 0. */
	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		ret = vm_dirty_log_enable(m->vm, m->regions[i].slot);
		if (!ret)
			ret = vm_dirty_log_get(m->vm, m->regions[i].slot, run->dirty_bitmaps[i]);
		if (ret)
			return ret;
	}
	for (round = 0; round < run->o->precopy_rounds; round++) {
		ret = precopy_round(run, round, &dirty);
		if (ret)
			return ret;
		run->precopy_sent += dirty;
		pr_info("pre-copy round %u: %" PRIu64 " pages", round, dirty);
		if (round && dirty < PRECOPY_ENOUGH_PAGES)
			break;
	}
	return 0;
}

int mig_source_precopy_discard(struct source_run *run)
{
	struct machine *m = run->m;
	uint64_t discarded;
	unsigned int i;
	int ret;

	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		ret = vm_dirty_log_get(m->vm, m->regions[i].slot, run->dirty_bitmaps[i]);
		if (!ret)
			ret = pager_source_discard(run->src, run->fds[0], i, run->dirty_bitmaps[i],
						   &discarded);
		if (!ret)
			ret = vm_dirty_log_disable(m->vm, m->regions[i].slot);
		if (ret)
			return ret;
		run->discarded += discarded;
	}
	return 0;
}

int mig_source_precopy_final(struct source_run *run)
{
	struct machine *m = run->m;
	uint64_t sent, total = 0;
	unsigned int i;
	int ret;

	bool rounds = run->o->precopy_rounds > 0;

	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		/* After rounds, the pages written since the last; with none, every page. */
		ret = rounds ? vm_dirty_log_get(m->vm, m->regions[i].slot, run->dirty_bitmaps[i]) : 0;
		if (!ret)
			ret = pager_source_precopy(run->src, run->fds[0], i,
						   rounds ? run->dirty_bitmaps[i] : NULL, &sent);
		if (!ret && rounds)
			ret = vm_dirty_log_disable(m->vm, m->regions[i].slot);
		if (ret)
			return ret;
		total += sent;
	}
	run->precopy_sent += total;
	pr_info("stop-and-copy: %" PRIu64 " pages sent with the vCPUs stopped%s", total,
		rounds ? " (written in the last round)" : "");
	return 0;
}
