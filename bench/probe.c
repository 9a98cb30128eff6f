// SPDX-License-Identifier: GPL-2.0-only
#include "probe.h"
#include "log.h"
#include "parse.h"

#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out, const char *prog, const char *what)
{
	fprintf(out,
		"usage: %s [options]\n%s\n\n"
		"  -a, --cpu-a N      CPU of the first side (default: not pinned)\n"
		"  -b, --cpu-b N      CPU of the second side (default: not pinned)\n"
		"  -n, --iters N      measured iterations (latency probes)\n"
		"  -w, --warmup N     unmeasured iterations first\n"
		"  -t, --threads N    parallel streams (throughput probes)\n"
		"  -d, --duration MS  how long a throughput probe runs\n"
		"  -s, --size SIZE    bytes a throughput probe works on\n"
		"  -h, --help\n\n"
		"Prints one JSON object on stdout.\n",
		prog, what);
}

static int parse_cpu(const char *text)
{
	uint64_t v;

	if (!strcmp(text, "-1"))
		return -1;
	if (parse_u64(text, 0, CPU_SETSIZE - 1, &v))
		die("bad CPU '%s'", text);
	return (int)v;
}

void probe_parse(int argc, char **argv, const char *what, struct probe_opts *o)
{
	static const struct option options[] = {
		{ "cpu-a", required_argument, NULL, 'a' },
		{ "cpu-b", required_argument, NULL, 'b' },
		{ "iters", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "threads", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ "size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	log_set_prefix(argv[0]);
	while ((opt = getopt_long(argc, argv, "a:b:n:w:t:d:s:h", options, NULL)) != -1) {
		switch (opt) {
		case 'a': o->cpu_a = parse_cpu(optarg); break;
		case 'b': o->cpu_b = parse_cpu(optarg); break;
		case 'n':
			if (parse_u64(optarg, 1, 100000000, &o->iters))
				die("bad --iters '%s'", optarg);
			break;
		case 'w':
			if (parse_u64(optarg, 0, 100000000, &o->warmup))
				die("bad --warmup '%s'", optarg);
			break;
		case 't':
			if (parse_u64(optarg, 1, 64, &o->threads))
				die("--threads takes 1..64");
			break;
		case 'd':
			if (parse_u64(optarg, 1, 600000, &o->seconds_ms))
				die("bad --duration '%s'", optarg);
			break;
		case 's':
			if (parse_size(optarg, &o->size) || !o->size)
				die("bad --size '%s'", optarg);
			break;
		case 'h': usage(stdout, argv[0], what); exit(0);
		default: usage(stderr, argv[0], what); exit(1);
		}
	}
	if (optind != argc) {
		usage(stderr, argv[0], what);
		exit(1);
	}
}

void probe_pin_self(int cpu)
{
	cpu_set_t set;
	int ret;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ret = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (ret)
		die("cannot pin to CPU %d: %s", cpu, strerror(ret));
}

void probe_samples_init(struct probe_samples *s, uint64_t cap)
{
	s->ns = calloc(cap ? cap : 1, sizeof(*s->ns));
	if (!s->ns)
		die("out of memory");
	s->n = 0;
	s->cap = cap;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The nearest-rank percentile of sorted samples, in us. */
static double percentile_us(const struct probe_samples *s, double q)
{
	uint64_t rank = (uint64_t)(q * (double)s->n + 0.999999);

	if (!s->n)
		return 0;
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return (double)s->ns[rank - 1] / 1e3;
}

void probe_json_begin(struct json *j, const char *name, const struct probe_opts *o)
{
	json_init(j, stdout);
	json_object_begin(j);
	json_kv_str(j, "probe", name);
	json_kv_i64(j, "cpu_a", o->cpu_a);
	json_kv_i64(j, "cpu_b", o->cpu_b);
}

void probe_samples_write(struct json *j, struct probe_samples *s)
{
	double sum = 0;
	uint64_t i;

	qsort(s->ns, s->n, sizeof(*s->ns), cmp_u64);
	for (i = 0; i < s->n; i++)
		sum += (double)s->ns[i];
	json_key(j, "latency_us");
	json_object_begin(j);
	json_kv_u64(j, "count", s->n);
	json_kv_double(j, "mean", s->n ? sum / (double)s->n / 1e3 : 0, 2);
	json_kv_double(j, "p50", percentile_us(s, 0.50), 2);
	json_kv_double(j, "p90", percentile_us(s, 0.90), 2);
	json_kv_double(j, "p99", percentile_us(s, 0.99), 2);
	json_kv_double(j, "p99_9", percentile_us(s, 0.999), 2);
	json_kv_double(j, "max", percentile_us(s, 1.0), 2);
	json_object_end(j);
}

void probe_json_end(struct json *j)
{
	json_object_end(j);
	fflush(stdout);
}
