// SPDX-License-Identifier: GPL-2.0-only
/* Public API, stats: a consistent snapshot, and the reports (JSON for machines, a summary). */
#include "pager_internal.h"
#include "clock.h"
#include "json.h"

#include <inttypes.h>
#include <string.h>

int pager_get_stats(struct pager *p, struct pager_stats *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&p->lock);
	counters_snapshot(&p->counters, &p->precopy, s);
	/* Inside the pager lock: the two installers' counters are one snapshot. */
	pthread_mutex_lock(&p->push_lock);
	counters_snapshot_frames(&p->push_counters, s);
	pthread_mutex_unlock(&p->push_lock);
	s->pages_total = p->regions.pages_total;
	s->pages_present = p->regions.pages_total - region_table_missing(&p->regions);
	if (p->run.start_ns)
		s->duration_ns = (p->run.end_ns ? p->run.end_ns : clock_now_ns()) - p->run.start_ns;
	s->reconnects = p->run.reconnects;
	s->disconnected_ns = p->run.disconnected_ns;
	if (p->run.state == PAGER_STATE_DISCONNECTED)
		s->disconnected_ns += clock_now_ns() - p->run.disconnect_ns;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

void pager_stats_write_json(const struct pager_stats *s, FILE *out)
{
	struct json j;
	uint32_t i;

	json_init(&j, out);
	json_object_begin(&j);
	json_kv_u64(&j, "pages_total", s->pages_total);
	json_kv_u64(&j, "pages_present", s->pages_present);
	json_kv_u64(&j, "pages_demand", s->pages_demand);
	json_kv_u64(&j, "pages_push", s->pages_push);
	json_kv_u64(&j, "pages_zero", s->pages_zero);
	json_kv_u64(&j, "pages_precopy", s->pages_precopy);
	json_kv_u64(&j, "pages_discarded", s->pages_discarded);
	json_kv_u64(&j, "pages_duplicate", s->pages_duplicate);
	json_kv_u64(&j, "bytes_received", s->bytes_received);
	json_kv_u64(&j, "faults", s->faults);
	json_kv_u64(&j, "faults_coalesced", s->faults_coalesced);
	json_kv_u64(&j, "faults_present", s->faults_present);
	json_kv_u64(&j, "requests_sent", s->requests_sent);
	json_kv_u64(&j, "install_retries", s->install_retries);
	json_kv_u64(&j, "reconnects", s->reconnects);
	json_kv_double(&j, "disconnected_ms", (double)s->disconnected_ns / 1e6, 3);
	json_kv_u64(&j, "pages_rerequested", s->pages_rerequested);
	json_kv_u64(&j, "pages_corrupt", s->pages_corrupt);
	json_kv_double(&j, "duration_ms", (double)s->duration_ns / 1e6, 3);
	json_key(&j, "fault_latency_us");
	json_object_begin(&j);
	json_kv_u64(&j, "count", s->latency_count);
	json_kv_double(&j, "p50", us(s->latency_p50_ns), 1);
	json_kv_double(&j, "p90", us(s->latency_p90_ns), 1);
	json_kv_double(&j, "p99", us(s->latency_p99_ns), 1);
	json_kv_double(&j, "p99_9", us(s->latency_p999_ns), 1);
	json_kv_double(&j, "max", us(s->latency_max_ns), 1);
	json_kv_double(&j, "mean", us(s->latency_mean_ns), 1);
	json_object_end(&j);
	json_key(&j, "threads");
	json_array_begin(&j);
	for (i = 0; i < s->n_threads; i++) {
		json_object_begin(&j);
		json_kv_i64(&j, "tid", s->threads[i].tid);
		json_kv_u64(&j, "faults", s->threads[i].faults);
		json_kv_double(&j, "blocktime_ms", (double)s->threads[i].blocked_ns / 1e6, 3);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_kv_u64(&j, "threads_other_faults", s->threads_other_faults);
	json_object_end(&j);
}

void pager_stats_write_summary(const struct pager_stats *s, FILE *out)
{
	uint64_t blocked = 0;
	uint32_t i;

	for (i = 0; i < s->n_threads; i++)
		blocked += s->threads[i].blocked_ns;
	fprintf(out,
		"pages: %" PRIu64 "/%" PRIu64 " present (demand %" PRIu64 ", push %" PRIu64
		", zero %" PRIu64 ", pre-copy %" PRIu64 ", duplicate %" PRIu64
		") in %.1f ms, %.1f MiB received\n",
		s->pages_present, s->pages_total, s->pages_demand, s->pages_push, s->pages_zero,
		s->pages_precopy, s->pages_duplicate, (double)s->duration_ns / 1e6,
		(double)s->bytes_received / (1024.0 * 1024.0));
	fprintf(out,
		"faults: %" PRIu64 " (%" PRIu64 " requests, %" PRIu64 " coalesced, %" PRIu64
		" already present) from %u threads, blocked %.1f ms in all\n",
		s->faults, s->requests_sent, s->faults_coalesced, s->faults_present, s->n_threads,
		(double)blocked / 1e6);
	fprintf(out,
		"fault latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (n=%" PRIu64
		")\n",
		us(s->latency_p50_ns), us(s->latency_p90_ns), us(s->latency_p99_ns),
		us(s->latency_p999_ns), us(s->latency_max_ns), s->latency_count);
}
