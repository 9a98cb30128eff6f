// SPDX-License-Identifier: GPL-2.0-only
/* The destination's JSON report (docs/operations.md), through common/json.h, which escapes the
 * failure text (it can quote the source's own error). */
#include "dest.h"
#include "json.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static uint64_t thread_blocked_ns(const struct pager_stats *st, pid_t tid, uint64_t *faults)
{
	uint32_t i;

	for (i = 0; i < st->n_threads; i++) {
		if (st->threads[i].tid == tid) {
			*faults = st->threads[i].faults;
			return st->threads[i].blocked_ns;
		}
	}
	*faults = 0;
	return 0;
}

static void write_hex(struct json *j, const char *key, uint64_t v)
{
	char hex[17];

	snprintf(hex, sizeof(hex), "%016" PRIx64, v);
	json_kv_str(j, key, hex);
}

static void write_outcome(struct json *j, const struct dest_session *s)
{
	json_kv_i64(j, "status", s->status);
	json_kv_str(j, "failure", s->failure);
	/* failed_in is DEST_DONE until a failure; a watchdog stall reports from its own thread. */
	json_kv_str(j, "failed_in", s->failed_in != DEST_DONE ? dest_state_name(s->failed_in) : "");
	json_kv_str(j, "guest", guest_image(s->guest.program)->name);
	json_kv_u64(j, "vcpus", s->guest.nr_vcpus);
	json_kv_str(j, "backing", !s->m					 ? ""
				  : s->m->backing == PAGER_BACKING_SHMEM	 ? "shmem"
				  : s->m->backing == PAGER_BACKING_HUGETLB ? "hugetlb"
									 : "anon");
	json_kv_u64(j, "connections", s->connections);
	json_kv_bool(j, "guest_ok", s->guest_ok);
	json_kv_str(j, "guest_check", s->guest_check);
	json_kv_bool(j, "digest_match", s->digest_match);
	write_hex(j, "digest", s->received_digest);
	write_hex(j, "source_digest", s->source_digest);
	json_kv_bool(j, "state_digest_match", s->state_digest_match);
	write_hex(j, "state_digest", s->state_digest);
	write_hex(j, "source_state_digest", s->source_state_digest);
}

static void write_pages(struct json *j, const struct pager_stats *st)
{
	json_kv_u64(j, "pages_total", st->pages_total);
	json_kv_u64(j, "pages_demand", st->pages_demand);
	json_kv_u64(j, "pages_push", st->pages_push);
	json_kv_u64(j, "pages_zero", st->pages_zero);
	json_kv_u64(j, "pages_precopy", st->pages_precopy);
	json_kv_u64(j, "pages_discarded", st->pages_discarded);
	json_kv_u64(j, "pages_duplicate", st->pages_duplicate);
	json_kv_u64(j, "faults", st->faults);
	json_key(j, "fault_latency_us");
	json_object_begin(j);
	json_kv_double(j, "p50", (double)st->latency_p50_ns / 1e3, 1);
	json_kv_double(j, "p90", (double)st->latency_p90_ns / 1e3, 1);
	json_kv_double(j, "p99", (double)st->latency_p99_ns / 1e3, 1);
	json_kv_double(j, "p99_9", (double)st->latency_p999_ns / 1e3, 1);
	json_kv_double(j, "max", (double)st->latency_max_ns / 1e3, 1);
	json_kv_u64(j, "count", st->latency_count);
	json_object_end(j);
}

/* Time blocked on pages: each vCPU's, and the restoring thread's. */
static void write_blocktimes(struct json *j, const struct dest_session *s,
			     const struct pager_stats *st)
{
	uint64_t blocked, faults;
	unsigned int i;

	json_key(j, "blocktime_ms");
	json_array_begin(j);
	for (i = 0; i < s->guest.nr_vcpus; i++) {
		/* The pager knows threads; a vCPU is the thread that ran it. */
		pid_t tid = s->m && s->m->vcpus[i] ? atomic_load(&s->m->vcpus[i]->run_tid) : 0;

		blocked = tid ? thread_blocked_ns(st, tid, &faults) : 0;
		json_double(j, (double)blocked / 1e6, 3);
	}
	json_array_end(j);
	blocked = thread_blocked_ns(st, s->restore_tid, &faults);
	json_kv_u64(j, "restore_faults", faults);
	json_kv_double(j, "restore_blocktime_ms", (double)blocked / 1e6, 3);
}

static void write_restore(struct json *j, const struct dest_session *s,
			  const struct pager_stats *st)
{
	uint64_t running = s->entered_ns[DEST_RUNNING], switchover = s->entered_ns[DEST_STATE];
	const struct restore_log *log = &s->restore;
	unsigned int i;

	json_kv_u64(j, "state_bytes", s->state_bytes);
	json_kv_double(j, "switchover_ms", running ? (double)(running - switchover) / 1e6 : 0.0, 3);
	json_kv_double(j, "duration_ms", (double)st->duration_ns / 1e6, 3);
	json_key(j, "restore_steps");
	json_array_begin(j);
	for (i = 0; i < log->n; i++) {
		json_object_begin(j);
		json_kv_str(j, "ioctl", log->steps[i].ioctl);
		json_kv_i64(j, "vcpu", log->steps[i].vcpu == RESTORE_VM ? -1 : (int)log->steps[i].vcpu);
		json_kv_double(j, "us", (double)log->steps[i].ns / 1e3, 1);
		json_kv_u64(j, "faults", log->steps[i].faults);
		json_object_end(j);
	}
	json_array_end(j);
	restore_faults_write_json(&s->faults, j);
}

void dest_write_report(struct dest_session *s)
{
	const char *path = s->o->json_path;
	struct pager_stats st = { 0 };
	struct json j;
	FILE *f;

	if (s->pager)
		pager_get_stats(s->pager, &st);
	if (s->pager && log_max_level >= LOG_INFO) {
		pager_stats_write_summary(&st, stderr);
		restore_faults_write_table(&s->faults, stderr);
	}
	if (!path)
		return;
	f = json_output_open(path);
	if (!f) {
		pr_err("cannot write %s: %s", path, strerror(errno));
		return;
	}
	json_init(&j, f);
	json_object_begin(&j);
	write_outcome(&j, s);
	write_pages(&j, &st);
	write_blocktimes(&j, s, &st);
	write_restore(&j, s, &st);
	json_key(&j, "pager");
	json_value_prepare(&j);
	pager_stats_write_json(&st, f);
	json_object_end(&j);
	json_output_close(f);
}
