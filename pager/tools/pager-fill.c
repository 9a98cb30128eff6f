// SPDX-License-Identifier: GPL-2.0-only
/*
 * pager-fill: the destination without a VM. Maps memory for the source's layout, registers it
 * with the pager, and has worker threads touch pages in a seeded random order (the faults a
 * guest would raise) while the background push fills the rest. Prints the digest and stats.
 */
#include "clock.h"
#include "digest.h"
#include "log.h"
#include "net.h"
#include "parse.h"
#include "pager.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct toucher {
	pthread_t thread;
	uint8_t *const *bases;
	const struct pager_layout *layout;
	uint64_t seed, touches;
	uint64_t sum; /* of bytes read: keeps the reads from being optimised away */
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *touch_main(void *arg)
{
	struct toucher *t = arg;
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), s = t->seed | 1, i;

	for (i = 0; i < t->touches; i++) {
		uint32_t region = (uint32_t)(xorshift(&s) % t->layout->n_regions);
		uint64_t page = xorshift(&s) % (t->layout->regions[region].size / ps);

		t->sum += *(volatile uint8_t *)(t->bases[region] + page * ps + (s & (ps - 1)));
	}
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pager-fill [options]\n"
		"Fill memory lazily from a pager-source, touching it from worker threads meanwhile.\n\n"
		"  -c, --connect ADDR     the source's address (default 127.0.0.1:4444)\n"
		"  -l, --listen ADDR      wait for the source to connect instead\n"
		"  -t, --threads N        touching threads (default 4)\n"
		"      --touches N        random touches per thread (default: pages/8)\n"
		"      --seed N           touch order seed (default 1)\n"
		"      --listener-cpu N   pin the pager's listener thread (default: not pinned)\n"
		"      --timeout MS       fail if not complete in this long (default 120000)\n"
		"      --expect-digest HEX  fail unless the filled memory has this digest\n"
		"      --json FILE        write the stats as JSON ('-': stdout)\n"
		"  -q, --quiet            errors only\n"
		"  -h, --help\n\n"
		"Exit: 0 complete (and digest matched), 1 usage or setup error, 2 pager failure,\n"
		"3 digest mismatch.\n");
}

enum { OPT_TOUCHES = 256, OPT_SEED, OPT_LISTENER_CPU, OPT_TIMEOUT, OPT_EXPECT, OPT_JSON };

static const struct option long_options[] = {
	{ "connect", required_argument, NULL, 'c' },
	{ "listen", required_argument, NULL, 'l' },
	{ "threads", required_argument, NULL, 't' },
	{ "touches", required_argument, NULL, OPT_TOUCHES },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "listener-cpu", required_argument, NULL, OPT_LISTENER_CPU },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "expect-digest", required_argument, NULL, OPT_EXPECT },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* Waits for completion, drawing a progress line when stderr is a terminal. */
static int wait_with_progress(struct pager *p, uint64_t total, int timeout_ms)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	bool tty = isatty(STDERR_FILENO) && log_max_level >= LOG_INFO;
	int ret;

	do {
		ret = pager_wait(p, 200);
		if (tty) {
			uint64_t present = total - pager_pages_missing(p);

			fprintf(stderr, "\rfilled %" PRIu64 "/%" PRIu64 " pages (%.0f%%)   ", present,
				total, 100.0 * (double)present / (double)total);
			if (ret != -ETIMEDOUT)
				fputc('\n', stderr);
		}
	} while (ret == -ETIMEDOUT && clock_now_ns() < deadline);
	return ret;
}

int main(int argc, char **argv)
{
	const char *connect_text = "127.0.0.1:4444", *listen_text = NULL, *json_path = NULL;
	uint64_t threads = 4, touches = UINT64_MAX, seed = 1, expect = 0, v, total = 0, digest;
	struct toucher workers[64];
	uint8_t *bases[PAGER_MAX_REGIONS];
	struct pager_options popts;
	struct pager_layout layout;
	struct pager_stats stats;
	int timeout_ms = 120000, opt, fds[2], ret, i, status = 0;
	bool have_expect = false;
	struct net_addr addr;
	struct digest d;
	struct pager *p;
	char err[512];
	uint32_t r;

	log_set_prefix("pager-fill");
	log_init_from_env();
	pager_options_init(&popts);
	while ((opt = getopt_long(argc, argv, "c:l:t:qh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'c': connect_text = optarg; break;
		case 'l': listen_text = optarg; break;
		case 't':
			if (parse_u64(optarg, 0, 64, &threads))
				die("--threads takes 0..64");
			break;
		case OPT_TOUCHES:
			if (parse_u64(optarg, 0, UINT64_MAX - 1, &touches))
				die("bad --touches '%s'", optarg);
			break;
		case OPT_SEED:
			if (parse_u64(optarg, 0, UINT64_MAX, &seed))
				die("bad --seed '%s'", optarg);
			break;
		case OPT_LISTENER_CPU:
			if (parse_u64(optarg, 0, 4095, &v))
				die("bad --listener-cpu '%s'", optarg);
			popts.listener_cpu = (int)v;
			break;
		case OPT_TIMEOUT:
			if (parse_u64(optarg, 1, INT32_MAX, &v))
				die("bad --timeout '%s'", optarg);
			timeout_ms = (int)v;
			break;
		case OPT_EXPECT:
			expect = strtoull(optarg, NULL, 16);
			have_expect = true;
			break;
		case OPT_JSON: json_path = optarg; break;
		case 'q': log_max_level = LOG_ERR; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}

	if (net_parse_addr(listen_text ? listen_text : connect_text, "127.0.0.1", &addr))
		die("bad address '%s'", listen_text ? listen_text : connect_text);
	if (listen_text) {
		int lfd = net_listen(&addr, 2);

		if (lfd < 0)
			die("cannot listen on %s: %s", listen_text, strerror(-lfd));
		for (i = 0; i < 2; i++)
			if ((fds[i] = net_accept(lfd, timeout_ms)) < 0)
				die("no source connected: %s", strerror(-fds[i]));
		close(lfd);
	} else {
		for (i = 0; i < 2; i++)
			if ((fds[i] = net_connect(&addr, 10000)) < 0)
				die("cannot connect to %s: %s", connect_text, strerror(-fds[i]));
	}
	ret = pager_handshake_dest(&fds[0], &fds[1], !listen_text, 0, &layout, 10000, err,
				   sizeof(err));
	if (ret) {
		pr_err("handshake: %s", err);
		return 2;
	}

	ret = pager_create(&popts, &p);
	if (ret)
		die("cannot create the pager: %s", strerror(-ret));
	for (r = 0; r < layout.n_regions; r++) {
		bases[r] = mmap(NULL, layout.regions[r].size, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (bases[r] == MAP_FAILED)
			die("cannot map region %u: %s", r, strerror(errno));
		/* 4 KiB installs into a huge-page-eligible range would defeat THP anyway. */
		madvise(bases[r], layout.regions[r].size, MADV_NOHUGEPAGE);
		ret = pager_add_region(p, r, bases[r], layout.regions[r].size);
		if (ret)
			die("cannot register region %u: %s", r, strerror(-ret));
		total += layout.regions[r].size / (uint64_t)sysconf(_SC_PAGESIZE);
	}
	ret = pager_start(p, fds[0], fds[1]);
	if (ret)
		die("cannot start the pager: %s", strerror(-ret));
	pr_info("filling %" PRIu64 " pages in %u regions, %" PRIu64 " touching threads", total,
		layout.n_regions, threads);

	if (touches == UINT64_MAX)
		touches = total / 8;
	for (i = 0; i < (int)threads; i++) {
		workers[i] = (struct toucher){
			.bases = bases, .layout = &layout, .seed = seed * 7919 + (uint64_t)i,
			.touches = touches,
		};
		if (pthread_create(&workers[i].thread, NULL, touch_main, &workers[i]))
			die("cannot start a touching thread");
	}
	ret = wait_with_progress(p, total, timeout_ms);
	pager_get_stats(p, &stats);
	if (ret) {
		/* Touching threads may be blocked on missing pages for good: exit without them. */
		pr_err("fill failed: %s", ret == -ETIMEDOUT ? "timed out" : pager_error(p));
		pager_stats_write_summary(&stats, stderr);
		fflush(NULL);
		_exit(2);
	}
	for (i = 0; i < (int)threads; i++)
		pthread_join(workers[i].thread, NULL);
	pager_get_stats(p, &stats);

	if (digest_init(&d))
		die("out of memory");
	for (r = 0; r < layout.n_regions; r++)
		digest_update_pages(&d, bases[r], layout.regions[r].size,
				    (size_t)sysconf(_SC_PAGESIZE));
	digest = digest_final(&d);
	printf("digest %016" PRIx64 "\n", digest);
	if (log_max_level >= LOG_INFO)
		pager_stats_write_summary(&stats, stdout);
	if (json_path) {
		FILE *f = strcmp(json_path, "-") ? fopen(json_path, "w") : stdout;

		if (!f)
			die("cannot write %s: %s", json_path, strerror(errno));
		pager_stats_write_json(&stats, f);
		if (f != stdout)
			fclose(f);
	}
	if (have_expect && digest != expect) {
		pr_err("digest %016" PRIx64 " differs from the expected %016" PRIx64, digest, expect);
		status = 3;
	}
	pager_destroy(p);
	return status;
}
