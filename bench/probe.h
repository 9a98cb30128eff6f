/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the baseline probes share: their options (thread placement, iterations, duration), the
 * latency samples and their percentiles, and the one JSON object each probe prints on stdout.
 * Each probe measures one physical limit of this machine that the pager's figures are divided
 * by, so the bench can state results as ratios measured in the same run.
 */
#ifndef BENCH_PROBE_H
#define BENCH_PROBE_H

#include "json.h"

#include <stdint.h>
#include <stdio.h>

struct probe_opts {
	int cpu_a, cpu_b;   /* the two sides' CPUs (-1: the scheduler's choice) */
	uint64_t iters;     /* measured iterations (latency probes) */
	uint64_t warmup;    /* iterations run first and not measured */
	uint64_t threads;   /* parallel streams (throughput probes) */
	uint64_t seconds_ms; /* how long a throughput probe runs */
	uint64_t size;      /* bytes a throughput probe works on */
};

/* Parses the shared options; exits with a usage message on a bad one. `what` is the help text. */
void probe_parse(int argc, char **argv, const char *what, struct probe_opts *o);

/* Pins the calling thread (cpu < 0: leaves it). Dies if the CPU does not exist. */
void probe_pin_self(int cpu);

/* Latency samples in ns, sorted by probe_samples_write(). */
struct probe_samples {
	uint64_t *ns;
	uint64_t n, cap;
};

void probe_samples_init(struct probe_samples *s, uint64_t cap);
static inline void probe_samples_add(struct probe_samples *s, uint64_t ns)
{
	if (s->n < s->cap)
		s->ns[s->n++] = ns;
}

/*
 * Starts the probe's JSON object on stdout with its name and placement; the probe adds its own
 * members, then calls probe_json_end().
 */
void probe_json_begin(struct json *j, const char *name, const struct probe_opts *o);
/* A "latency_us" member: count, mean, p50, p90, p99, p99_9, max of the samples (sorted here). */
void probe_samples_write(struct json *j, struct probe_samples *s);
void probe_json_end(struct json *j);

#endif
