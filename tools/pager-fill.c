// SPDX-License-Identifier: GPL-2.0-only
/*
 * pager-fill: the destination without a VM. Maps memory for the source's layout, registers it
 * with the pager, and has worker threads touch pages in a seeded random order (the faults a
 * guest would raise) while the background push fills the rest. Prints the digest and stats.
 * For the benchmark (scripts/bench): --cover touches every page once (so a fill with the push
 * off completes), and --latency-dump writes each faulting touch's latency as the touching
 * thread saw it, for latency CDFs.
 */
#include "clock.h"
#include "digest.h"
#include "json.h"
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

/*
 * A touch slower than this went through the fault path: a present page reads in well under a
 * microsecond, and the fastest userfaultfd round trip on this machine takes several.
 */
#define FAULT_MIN_NS 1000u

struct toucher {
	pthread_t thread;
	uint8_t *const *bases;
	const struct pager_layout *layout;
	const struct pager *pager;
	uint64_t seed, touches;
	uint32_t index, n_threads; /* --cover: this thread's stripe of the pages */
	bool cover, keep_latency;
	uint32_t *lat_ns;          /* --latency-dump: one per faulting touch (NULL: not kept) */
	uint64_t n_lat;
	uint64_t start_ns, end_ns;
	uint64_t sum; /* of bytes read: keeps the reads from being optimised away */
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The address of page `global` counting across every region in order. */
static uint8_t *global_page(const struct toucher *t, uint64_t global, uint64_t ps)
{
	uint32_t r;

	for (r = 0; global >= t->layout->regions[r].size / ps; r++)
		global -= t->layout->regions[r].size / ps;
	return t->bases[r] + global * ps;
}

/* --cover: this thread's stripe (pages index, index+n, ...) in a seeded shuffled order. */
static uint64_t *cover_order(struct toucher *t, uint64_t total)
{
	uint64_t n = (total - t->index + t->n_threads - 1) / t->n_threads, s = t->seed | 1, i;
	uint64_t *order = malloc((n ? n : 1) * sizeof(*order));

	if (!order)
		die("out of memory");
	for (i = 0; i < n; i++)
		order[i] = t->index + i * t->n_threads;
	for (i = n; i > 1; i--) {
		uint64_t k = xorshift(&s) % i, tmp = order[i - 1];

		order[i - 1] = order[k];
		order[k] = tmp;
	}
	t->touches = n;
	return order;
}

/* Reads a byte of the page; with --latency-dump, keeps the time of a touch that faulted. */
static void touch(struct toucher *t, uint8_t *page, uint64_t offset)
{
	uint64_t t0, dt;

	if (!t->lat_ns || pager_page_present(t->pager, page)) {
		t->sum += *(volatile uint8_t *)(page + offset);
		return;
	}
	t0 = clock_now_ns();
	t->sum += *(volatile uint8_t *)(page + offset);
	dt = clock_now_ns() - t0;
	if (dt >= FAULT_MIN_NS)
		t->lat_ns[t->n_lat++] = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
}

static void *touch_main(void *arg)
{
	struct toucher *t = arg;
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), s = t->seed | 1, total = 0, i;
	uint64_t *order = NULL;
	uint32_t r;

	for (r = 0; r < t->layout->n_regions; r++)
		total += t->layout->regions[r].size / ps;
	if (t->cover)
		order = cover_order(t, total);
	/* Here, once the touch count is known (--cover sets it per stripe). */
	if (t->keep_latency &&
	    !(t->lat_ns = calloc(t->touches ? t->touches : 1, sizeof(*t->lat_ns))))
		die("out of memory");
	t->start_ns = clock_now_ns();
	for (i = 0; i < t->touches; i++) {
		if (order) {
			touch(t, global_page(t, order[i], ps), xorshift(&s) & (ps - 1));
			continue;
		}
		uint32_t region = (uint32_t)(xorshift(&s) % t->layout->n_regions);
		uint64_t page = xorshift(&s) % (t->layout->regions[region].size / ps);

		touch(t, t->bases[region] + page * ps, s & (ps - 1));
	}
	t->end_ns = clock_now_ns();
	free(order);
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
		"      --cover            touch every page once instead, the threads in stripes\n"
		"                         (a fill without push completes)\n"
		"      --seed N           touch order seed (default 1)\n"
		"      --listener-cpu N   pin the pager's listener thread (default: not pinned)\n"
		"      --timeout MS       fail if not complete in this long (default 120000)\n"
		"      --reconnect-timeout MS  with --listen: after a lost connection, wait this long\n"
		"                         for the source to resume (default 30000, 0: fail at once)\n"
		"      --expect-digest HEX  fail unless the filled memory has this digest\n"
		"      --json FILE        write the stats as JSON ('-': stdout)\n"
		"      --port-file FILE   with --listen: write the listening port here\n"
		"      --latency-dump FILE  write each faulting touch's latency in ns, one a line,\n"
		"                         as the touching thread saw it (for latency CDFs)\n"
		"  -q, --quiet            errors only\n"
		"  -h, --help\n\n"
		"Exit: 0 complete (and digest matched), 1 usage or setup error, 2 pager failure,\n"
		"3 digest mismatch.\n");
}

enum {
	OPT_TOUCHES = 256, OPT_SEED, OPT_LISTENER_CPU, OPT_TIMEOUT, OPT_RECONNECT, OPT_EXPECT,
	OPT_JSON, OPT_COVER, OPT_LATENCY_DUMP, OPT_PORT_FILE,
};

static const struct option long_options[] = {
	{ "connect", required_argument, NULL, 'c' },
	{ "listen", required_argument, NULL, 'l' },
	{ "threads", required_argument, NULL, 't' },
	{ "touches", required_argument, NULL, OPT_TOUCHES },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "listener-cpu", required_argument, NULL, OPT_LISTENER_CPU },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "reconnect-timeout", required_argument, NULL, OPT_RECONNECT },
	{ "expect-digest", required_argument, NULL, OPT_EXPECT },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "cover", no_argument, NULL, OPT_COVER },
	{ "latency-dump", required_argument, NULL, OPT_LATENCY_DUMP },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct config {
	struct pager_options popts;
	const char *connect_text, *listen_text, *json_path, *dump_path, *port_file;
	uint64_t threads, touches, seed, expect;
	bool have_expect, cover;
	int timeout_ms;
};

/* The destination: the layout, the memory mapped for it, the pager serving it. */
struct dest {
	struct pager_layout layout;
	uint8_t *bases[PAGER_MAX_REGIONS];
	uint64_t total; /* pages */
	struct pager *p;
	/* With --listen: kept open for the source to reconnect, and the session it resumes. */
	int lfd;
	uint64_t session_id;
	pthread_t reconnector;
};

/* -1 to go on, or the exit status (help, usage error). */
static int parse_args(int argc, char **argv, struct config *c)
{
	uint64_t v;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:l:t:qh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'c': c->connect_text = optarg; break;
		case 'l': c->listen_text = optarg; break;
		case 't':
			if (parse_u64(optarg, 0, 64, &c->threads))
				die("--threads takes 0..64");
			break;
		case OPT_TOUCHES:
			if (parse_u64(optarg, 0, UINT64_MAX - 1, &c->touches))
				die("bad --touches '%s'", optarg);
			break;
		case OPT_SEED:
			if (parse_u64(optarg, 0, UINT64_MAX, &c->seed))
				die("bad --seed '%s'", optarg);
			break;
		case OPT_LISTENER_CPU:
			if (parse_u64(optarg, 0, 4095, &v))
				die("bad --listener-cpu '%s'", optarg);
			c->popts.listener_cpu = (int)v;
			break;
		case OPT_TIMEOUT:
			if (parse_u64(optarg, 1, INT32_MAX, &v))
				die("bad --timeout '%s'", optarg);
			c->timeout_ms = (int)v;
			break;
		case OPT_PORT_FILE: c->port_file = optarg; break;
		case OPT_RECONNECT:
			if (parse_u64(optarg, 0, INT32_MAX, &v))
				die("bad --reconnect-timeout '%s'", optarg);
			c->popts.reconnect_timeout_ms = (unsigned int)v;
			break;
		case OPT_EXPECT:
			c->expect = strtoull(optarg, NULL, 16);
			c->have_expect = true;
			break;
		case OPT_JSON: c->json_path = optarg; break;
		case OPT_COVER: c->cover = true; break;
		case OPT_LATENCY_DUMP: c->dump_path = optarg; break;
		case 'q': log_max_level = LOG_ERR; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	return -1;
}

/* Both connections to the source, handshaken: fds[0] demand, fds[1] push. Exits on failure. */
static void connect_source(const struct config *c, int fds[2], struct dest *d)
{
	const char *text = c->listen_text ? c->listen_text : c->connect_text;
	struct net_addr addr;
	char err[512];
	int i, lfd;

	if (net_parse_addr(text, "127.0.0.1", &addr))
		die("bad address '%s'", text);
	if (c->listen_text) {
		lfd = net_listen(&addr, 2);
		if (lfd < 0)
			die("cannot listen on %s: %s", text, strerror(-lfd));
		if (c->port_file && (i = net_write_port_file(c->port_file, lfd)))
			die("cannot write %s: %s", c->port_file, strerror(-i));
		for (i = 0; i < 2; i++)
			if ((fds[i] = net_accept(lfd, c->timeout_ms)) < 0)
				die("no source connected: %s", strerror(-fds[i]));
		d->lfd = lfd;
	} else {
		for (i = 0; i < 2; i++)
			if ((fds[i] = net_connect(&addr, 10000)) < 0)
				die("cannot connect to %s: %s", text, strerror(-fds[i]));
	}
	if (pager_handshake_dest(&fds[0], &fds[1], !c->listen_text, &d->session_id, &d->layout,
				 10000, err, sizeof(err))) {
		pr_err("handshake: %s", err);
		exit(2);
	}
}

/* After a lost connection the source redials: its new connections resume the session. */
static void *reconnect_main(void *arg)
{
	struct dest *d = arg;
	enum pager_state state;
	char err[512];
	int ret;

	while ((state = pager_state(d->p)) != PAGER_STATE_COMPLETE &&
	       state != PAGER_STATE_FAILED) {
		ret = pager_accept_resume(d->p, d->lfd, d->session_id, 100, err, sizeof(err));
		if (!ret)
			pr_info("session %016" PRIx64 " resumed", d->session_id);
		else if (ret != -ETIMEDOUT)
			pr_warn("reconnect refused: %s", err);
	}
	return NULL;
}

/* Maps memory for every region of the layout, registers it, starts the pager. */
static void start_pager(const struct config *c, struct dest *d, const int fds[2])
{
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), size;
	uint32_t r;
	int ret;

	ret = pager_create(&c->popts, &d->p);
	if (ret)
		die("cannot create the pager: %s", strerror(-ret));
	for (r = 0; r < d->layout.n_regions; r++) {
		size = d->layout.regions[r].size;
		d->bases[r] = mmap(NULL, size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (d->bases[r] == MAP_FAILED)
			die("cannot map region %u: %s", r, strerror(errno));
		/* 4 KiB installs into a huge-page-eligible range would defeat THP anyway. */
		madvise(d->bases[r], size, MADV_NOHUGEPAGE);
		ret = pager_add_region(d->p, r, d->bases[r], size);
		if (ret)
			die("cannot register region %u: %s", r, strerror(-ret));
		d->total += size / ps;
	}
	ret = pager_start(d->p, fds[0], fds[1]);
	if (ret)
		die("cannot start the pager: %s", strerror(-ret));
	if (d->lfd >= 0 && pthread_create(&d->reconnector, NULL, reconnect_main, d))
		die("cannot start the reconnect thread");
}

static void start_touchers(const struct config *c, struct dest *d, struct toucher *workers)
{
	uint64_t touches = c->touches == UINT64_MAX ? d->total / 8 : c->touches;
	uint64_t i;

	for (i = 0; i < c->threads; i++) {
		workers[i] = (struct toucher){
			.bases = d->bases, .layout = &d->layout, .pager = d->p,
			.seed = c->seed * 7919 + i, .touches = touches, .cover = c->cover,
			.index = (uint32_t)i, .n_threads = (uint32_t)c->threads,
			.keep_latency = c->dump_path != NULL,
		};
		if (pthread_create(&workers[i].thread, NULL, touch_main, &workers[i]))
			die("cannot start a touching thread");
	}
}

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

/*
 * --latency-dump: a header of "# key value" lines (threads, faulting touches, the touch phase
 * from the first thread's start to the last one's end), then one latency in ns a line.
 */
static void write_latency_dump(const char *path, const struct toucher *workers, uint64_t n)
{
	uint64_t start = UINT64_MAX, end = 0, count = 0, i, k;
	FILE *f = fopen(path, "w");

	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	for (i = 0; i < n; i++) {
		start = workers[i].start_ns < start ? workers[i].start_ns : start;
		end = workers[i].end_ns > end ? workers[i].end_ns : end;
		count += workers[i].n_lat;
	}
	fprintf(f, "# pager-fill latency dump: ns per faulting touch\n# threads %" PRIu64
		"\n# faulting_touches %" PRIu64 "\n# touch_phase_ns %" PRIu64 "\n", n, count,
		n ? end - start : 0);
	for (i = 0; i < n; i++)
		for (k = 0; k < workers[i].n_lat; k++)
			fprintf(f, "%u\n", workers[i].lat_ns[k]);
	if (fclose(f))
		die("cannot write %s: %s", path, strerror(errno));
}

/* The digest and stats of the filled memory; the exit status (3: digest mismatch). */
static int report(const struct config *c, const struct dest *d)
{
	struct pager_stats stats;
	struct digest dg;
	uint64_t digest;
	uint32_t r;

	pager_get_stats(d->p, &stats);
	if (digest_init(&dg))
		die("out of memory");
	for (r = 0; r < d->layout.n_regions; r++)
		digest_update_pages(&dg, d->bases[r], d->layout.regions[r].size,
				    (size_t)sysconf(_SC_PAGESIZE));
	digest = digest_final(&dg);
	printf("digest %016" PRIx64 "\n", digest);
	if (log_max_level >= LOG_INFO)
		pager_stats_write_summary(&stats, stdout);
	if (c->json_path) {
		FILE *f = json_output_open(c->json_path);

		if (!f)
			die("cannot write %s: %s", c->json_path, strerror(errno));
		pager_stats_write_json(&stats, f);
		json_output_close(f);
	}
	if (c->have_expect && digest != c->expect) {
		pr_err("digest %016" PRIx64 " differs from the expected %016" PRIx64, digest,
		       c->expect);
		return 3;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct config c = {
		.connect_text = "127.0.0.1:4444",
		.threads = 4, .touches = UINT64_MAX, .seed = 1,
		.timeout_ms = 120000,
	};
	struct toucher workers[64];
	struct pager_stats stats;
	struct dest d = { 0 };
	int fds[2], ret, status;
	uint64_t i;

	log_set_prefix("pager-fill");
	log_init_from_env();
	pager_options_init(&c.popts);
	ret = parse_args(argc, argv, &c);
	if (ret >= 0)
		return ret;
	/* The library's messages through our logger: -q quiets them too. */
	c.popts.log_fn = log_forward;
	c.popts.log_opaque = "libpager";
	c.popts.log_level = (int)log_max_level;

	d.lfd = -1;
	connect_source(&c, fds, &d);
	start_pager(&c, &d, fds);
	pr_info("filling %" PRIu64 " pages in %u regions, %" PRIu64 " touching threads", d.total,
		d.layout.n_regions, c.threads);
	start_touchers(&c, &d, workers);
	ret = wait_with_progress(d.p, d.total, c.timeout_ms);
	if (ret) {
		/* Touching threads may be blocked on missing pages for good: exit without them. */
		pager_get_stats(d.p, &stats);
		pr_err("fill failed: %s", ret == -ETIMEDOUT ? "timed out" : pager_error(d.p));
		pager_stats_write_summary(&stats, stderr);
		fflush(NULL);
		_exit(2);
	}
	for (i = 0; i < c.threads; i++)
		pthread_join(workers[i].thread, NULL);
	if (d.lfd >= 0) {
		pthread_join(d.reconnector, NULL);
		close(d.lfd);
	}
	if (c.dump_path)
		write_latency_dump(c.dump_path, workers, c.threads);
	status = report(&c, &d);
	for (i = 0; i < c.threads; i++)
		free(workers[i].lat_ns);
	pager_destroy(d.p);
	return status;
}
