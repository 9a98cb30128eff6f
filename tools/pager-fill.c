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
#include "token.h"
#include "fill_touch.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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
		"      --backing KIND     anon (private anonymous, UFFDIO_COPY; the default) or shmem\n"
		"                         (a memfd, installed by UFFDIO_CONTINUE); a region the\n"
		"                         source serves in 2 MiB pages (pager-source --hugetlb) is\n"
		"                         always private hugetlb memory (2 MiB UFFDIO_COPY)\n"
		"      --install HOW      how pushed pages of anon memory go into place: copy\n"
		"                         (UFFDIO_COPY, the default) or move (received into pages\n"
		"                         of their own and moved there, UFFDIO_MOVE, Linux 6.8)\n"
		"      --connections N    with --connect: 2 (demand and push apart, the default) or\n"
		"                         1 (both on one connection; the source follows)\n"
		"      --listener-cpu N   pin the pager's listener thread (default: not pinned)\n"
		"      --timeout MS       fail if not complete in this long (default 120000)\n"
		"      --reconnect-timeout MS  with --listen: after a lost connection, wait this long\n"
		"                         for the source to resume (default 30000, 0: fail at once)\n"
		"      --expect-digest HEX  fail unless the filled memory has this digest\n"
		"      --token-file FILE  the session token both ends were given (default: $PAGER_TOKEN)\n"
		"      --max-memory SIZE  refuse a source whose layout claims more memory (default:\n"
		"                         this host's RAM)\n"
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
	OPT_JSON, OPT_COVER, OPT_LATENCY_DUMP, OPT_PORT_FILE, OPT_TOKEN_FILE, OPT_MAX_MEMORY,
	OPT_BACKING, OPT_INSTALL, OPT_CONNECTIONS,
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
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
	{ "backing", required_argument, NULL, OPT_BACKING },
	{ "install", required_argument, NULL, OPT_INSTALL },
	{ "connections", required_argument, NULL, OPT_CONNECTIONS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct config {
	struct pager_options popts;
	const char *connect_text, *listen_text, *json_path, *dump_path, *port_file, *token_file;
	uint64_t threads, touches, seed, expect, max_memory, connections;
	bool have_expect, cover, shmem;
	int timeout_ms;
};

/* The destination: the layout, the memory mapped for it, the pager serving it. */
struct dest {
	struct pager_layout layout;
	uint8_t *bases[PAGER_MAX_REGIONS];
	uint64_t total; /* pages */
	struct pager *p;
	/* The token and limits; the session once handshaken, which a reconnect resumes. */
	struct token token;
	struct pager_handshake hs;
	/* With --listen: kept open for the source to reconnect, this long after a loss. */
	int lfd;
	unsigned int reconnect_ms;
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
		case OPT_TOKEN_FILE: c->token_file = optarg; break;
		case OPT_MAX_MEMORY:
			if (parse_size(optarg, &c->max_memory) || !c->max_memory)
				die("bad --max-memory '%s'", optarg);
			break;
		case OPT_BACKING:
			if (strcmp(optarg, "anon") && strcmp(optarg, "shmem"))
				die("--backing takes anon or shmem");
			c->shmem = !strcmp(optarg, "shmem");
			break;
		case OPT_CONNECTIONS:
			if (parse_u64(optarg, 1, 2, &c->connections))
				die("--connections takes 1 or 2");
			break;
		case OPT_INSTALL:
			if (strcmp(optarg, "copy") && strcmp(optarg, "move"))
				die("--install takes copy or move");
			c->popts.install_move = !strcmp(optarg, "move");
			break;
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

/* The token and the memory limit every handshake of this run carries. */
static void handshake_params(const struct config *c, struct dest *d)
{
	char err[512];

	if (token_load(c->token_file, &d->token, err, sizeof(err)))
		die("%s", err);
	pager_handshake_init(&d->hs);
	d->hs.token = d->token.bytes;
	d->hs.token_len = (uint32_t)d->token.len;
	d->hs.max_memory = c->max_memory;
	d->hs.log_fn = log_forward;
	d->hs.log_opaque = "libpager";
	d->hs.log_level = (int)log_max_level;
	if (!d->token.len && c->listen_text)
		pr_warn("no session token (--token-file, $%s): any peer that speaks the protocol "
			"is admitted", TOKEN_ENV);
}

/* Both connections to the source, handshaken: fds[0] demand, fds[1] push. Exits on failure. */
static void connect_source(const struct config *c, int fds[2], struct dest *d)
{
	const char *text = c->listen_text ? c->listen_text : c->connect_text;
	struct net_addr addr;
	char err[512];
	int i, ret;

	if (net_parse_addr(text, "127.0.0.1", &addr))
		die("bad address '%s'", text);
	handshake_params(c, d);
	if (c->listen_text) {
		d->lfd = net_listen(&addr, 8);
		if (d->lfd < 0)
			die("cannot listen on %s: %s", text, strerror(-d->lfd));
		if (c->port_file && (ret = net_write_port_file(c->port_file, d->lfd)))
			die("cannot write %s: %s", c->port_file, strerror(-ret));
		/* Strangers are refused and the wait goes on: only our source gets in. */
		ret = pager_accept_session(d->lfd, &d->hs, &fds[0], &fds[1], c->timeout_ms, err,
					   sizeof(err));
		if (ret == -ETIMEDOUT)
			die("no source connected: %s", err);
		if (!ret)
			ret = pager_receive_layout(fds[0], &d->hs, &d->layout, err, sizeof(err));
	} else {
		/* One connection: the source pushes on it too (protocol v5, BOTH). */
		fds[1] = -1;
		for (i = 0; i < (int)c->connections; i++)
			if ((fds[i] = net_connect(&addr, 10000)) < 0)
				die("cannot connect to %s: %s", text, strerror(-fds[i]));
		ret = pager_handshake_dest(&fds[0], &fds[1], true, &d->hs, &d->layout, err,
					   sizeof(err));
	}
	if (ret) {
		pr_err("handshake: %s", err);
		exit(2);
	}
}

/* After a lost connection the source redials: its new connections resume the session. */
static void *reconnect_main(void *arg)
{
	struct dest *d = arg;
	uint64_t complete_ns = 0, now;
	enum pager_state state;
	char err[512];
	int ret;

	/*
	 * Until the source knows it is complete (a loss may have taken the Complete message), for
	 * at most the reconnect time after completion.
	 */
	while ((state = pager_state(d->p)) != PAGER_STATE_FAILED &&
	       !(state == PAGER_STATE_COMPLETE && pager_completion_confirmed(d->p))) {
		now = clock_now_ns();
		if (state == PAGER_STATE_COMPLETE && !complete_ns)
			complete_ns = now;
		if (complete_ns && now - complete_ns > (uint64_t)d->reconnect_ms * 1000000ull) {
			pr_warn("the source never acknowledged the completion");
			break;
		}
		ret = pager_accept_resume(d->p, d->lfd, &d->hs, 100, err, sizeof(err));
		if (!ret)
			pr_info("session %016" PRIx64 " resumed", d->hs.session_id);
		else if (ret != -ETIMEDOUT && ret != -ECANCELED)
			pr_warn("reconnect refused: %s", err);
	}
	return NULL;
}

/* A region of shared memory: a memfd of its size, mapped; the fd stays open until exit. */
static uint8_t *map_memfd(uint64_t size, int *fd)
{
	*fd = memfd_create("pager-fill", MFD_CLOEXEC);
	if (*fd < 0 || ftruncate(*fd, (off_t)size))
		die("cannot create a memfd of %" PRIu64 " bytes: %s", size, strerror(errno));
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
}

/* Private 2 MiB hugetlb memory; its pages are reserved now, so a fill never hits SIGBUS. */
static uint8_t *map_hugetlb(uint64_t size)
{
	uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	if (mem == MAP_FAILED)
		die("cannot map %" PRIu64 " bytes of 2 MiB hugetlb pages: %s (is "
		    "/proc/sys/vm/nr_hugepages large enough?)", size, strerror(errno));
	return mem;
}

/* Maps memory for every region of the layout, registers it, starts the pager. */
static void start_pager(const struct config *c, struct dest *d, const int fds[2])
{
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), size;
	uint32_t r;
	int ret, fd = -1;

	ret = pager_create(&c->popts, &d->p);
	if (ret)
		die("cannot create the pager: %s", strerror(-ret));
	for (r = 0; r < d->layout.n_regions; r++) {
		bool huge = d->layout.regions[r].backing == PAGER_BACKING_HUGETLB;

		size = d->layout.regions[r].size;
		if (huge && c->shmem)
			die("region %u is served in 2 MiB pages (hugetlb): --backing shmem cannot "
			    "hold it", r);
		d->bases[r] = huge	? map_hugetlb(size)
			      : c->shmem ? map_memfd(size, &fd)
					 : mmap(NULL, size, PROT_READ | PROT_WRITE,
						MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (d->bases[r] == MAP_FAILED)
			die("cannot map region %u: %s", r, strerror(errno));
		/* 4 KiB installs into a huge-page-eligible range would defeat THP anyway. */
		if (!huge)
			madvise(d->bases[r], size, MADV_NOHUGEPAGE);
		ret = huge	? pager_add_region_hugetlb(d->p, r, d->bases[r], size)
		      : c->shmem ? pager_add_region_memfd(d->p, r, d->bases[r], size, fd, 0)
				 : pager_add_region(d->p, r, d->bases[r], size);
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
		if (pthread_create(&workers[i].thread, NULL, fill_touch_main, &workers[i]))
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
		.threads = 4, .touches = UINT64_MAX, .seed = 1, .connections = 2,
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
	/* A lost Complete is noticed after the silence bound, then the source redials. */
	d.reconnect_ms = c.popts.reconnect_timeout_ms + c.popts.silence_timeout_ms;
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
		fill_write_latency_dump(c.dump_path, workers, c.threads);
	status = report(&c, &d);
	for (i = 0; i < c.threads; i++)
		free(workers[i].lat_ns);
	pager_destroy(d.p);
	return status;
}
