// SPDX-License-Identifier: GPL-2.0-only
#include "counters.h"

#include <string.h>

static struct pager_thread_stats *thread_slot(struct pager_counters *c, pid_t tid)
{
	uint32_t i;

	for (i = 0; i < c->n_threads; i++)
		if (c->threads[i].tid == tid)
			return &c->threads[i];
	if (c->n_threads == PAGER_MAX_THREAD_STATS)
		return NULL;
	c->threads[c->n_threads] = (struct pager_thread_stats){ .tid = tid };
	return &c->threads[c->n_threads++];
}

void counters_fault(struct pager_counters *c, pid_t tid, enum page_status status)
{
	struct pager_thread_stats *t;

	c->faults++;
	t = thread_slot(c, tid);
	if (t)
		t->faults++;
	else
		c->threads_other_faults++;
	switch (status) {
	case PAGE_PRESENT:
		c->faults_present++;
		break;
	case PAGE_REQUESTED:
		c->faults_coalesced++;
		break;
	case PAGE_ABSENT:
		c->requests_sent++;
		break;
	}
}

void counters_fault_served(struct pager_counters *c, pid_t tid, uint64_t wait_ns)
{
	struct pager_thread_stats *t;

	histogram_add(&c->latency, wait_ns);
	t = thread_slot(c, tid);
	if (t)
		t->blocked_ns += wait_ns;
}

void counters_frame(struct pager_counters *c, enum page_origin origin, uint64_t pages,
		    uint64_t installed, uint64_t retries, uint64_t bytes)
{
	switch (origin) {
	case ORIGIN_ZERO:
		c->pages_zero += installed;
		break;
	case ORIGIN_DEMAND:
		c->pages_demand += installed;
		break;
	case ORIGIN_PUSH:
		c->pages_push += installed;
		break;
	}
	c->pages_duplicate += pages - installed;
	c->install_retries += retries;
	c->bytes_received += bytes;
}

void counters_preloaded(struct precopy_counters *pc, uint64_t installed, uint64_t replaced,
			uint64_t retries, uint64_t bytes)
{
	pc->pages += installed - replaced;
	pc->install_retries += retries;
	pc->bytes += bytes;
}

void counters_discarded(struct precopy_counters *pc, uint64_t dropped)
{
	pc->pages -= dropped;
	pc->discarded += dropped;
}

void counters_snapshot(const struct pager_counters *c, const struct precopy_counters *pc,
		       struct pager_stats *s)
{
	const struct histogram *h = &c->latency;

	s->pages_demand = c->pages_demand;
	s->pages_push = c->pages_push;
	s->pages_zero = c->pages_zero;
	s->pages_duplicate = c->pages_duplicate;
	s->pages_precopy = pc->pages;
	s->pages_discarded = pc->discarded;
	s->bytes_received = c->bytes_received + pc->bytes;
	s->faults = c->faults;
	s->faults_coalesced = c->faults_coalesced;
	s->faults_present = c->faults_present;
	s->requests_sent = c->requests_sent;
	s->install_retries = c->install_retries + pc->install_retries;
	s->latency_count = h->count;
	s->latency_p50_ns = histogram_quantile(h, 0.50);
	s->latency_p90_ns = histogram_quantile(h, 0.90);
	s->latency_p99_ns = histogram_quantile(h, 0.99);
	s->latency_p999_ns = histogram_quantile(h, 0.999);
	s->latency_max_ns = h->max;
	s->latency_mean_ns = h->count ? h->sum / h->count : 0;
	s->n_threads = c->n_threads;
	memcpy(s->threads, c->threads, sizeof(s->threads[0]) * c->n_threads);
	s->threads_other_faults = c->threads_other_faults;
	s->pages_rerequested = c->pages_rerequested;
	s->pages_corrupt = c->pages_corrupt;
}

void counters_snapshot_frames(const struct pager_counters *c, struct pager_stats *s)
{
	s->pages_demand += c->pages_demand;
	s->pages_push += c->pages_push;
	s->pages_zero += c->pages_zero;
	s->pages_duplicate += c->pages_duplicate;
	s->install_retries += c->install_retries;
	s->bytes_received += c->bytes_received;
	s->pages_corrupt += c->pages_corrupt;
}
