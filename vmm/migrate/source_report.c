// SPDX-License-Identifier: GPL-2.0-only
/* The source's JSON report (docs/operations.md) and its closing summary line. */
#include "source.h"
#include "json.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void write_json(const struct source_run *run, const struct pager_source_stats *s,
		       int status, FILE *f)
{
	uint64_t downtime_ns = run->serving_ns ? run->serving_ns - run->stopped_ns : 0;
	struct json j;
	char hex[17];

	json_init(&j, f);
	json_object_begin(&j);
	json_kv_bool(&j, "ok", status == 0);
	snprintf(hex, sizeof(hex), "%016" PRIx64, run->digest);
	json_kv_str(&j, "memory_digest", hex);
	snprintf(hex, sizeof(hex), "%016" PRIx64, run->state_digest);
	json_kv_str(&j, "state_digest", hex);
	json_kv_u64(&j, "state_bytes", run->state_bytes);
	json_kv_double(&j, "stop_to_serve_ms", (double)downtime_ns / 1e6, 3);
	json_key(&j, "serve");
	json_value_prepare(&j);
	pager_source_stats_write_json(s, f);
	json_object_end(&j);
}

void mig_source_write_report(const struct source_run *run, int status)
{
	const char *path = run->o->json_path;
	struct pager_source_stats stats = { 0 };
	FILE *f;

	if (run->src)
		pager_source_get_stats(run->src, &stats);
	if (!status)
		pr_info("destination has every page: %" PRIu64 " demanded, %" PRIu64 " pushed",
			stats.pages_demand, stats.pages_push);
	if (!path)
		return;
	f = json_output_open(path);
	if (!f) {
		pr_err("cannot write %s: %s", path, strerror(errno));
		return;
	}
	write_json(run, &stats, status, f);
	json_output_close(f);
}
