// SPDX-License-Identifier: GPL-2.0-only
/*
 * pager-source: serve a memory image to one destination (pager-fill, or any libpager user).
 * The image is a deterministic pattern of a given size, or a file's contents.
 */
#include "digest.h"
#include "json.h"
#include "log.h"
#include "net.h"
#include "parse.h"
#include "pattern.h"
#include "pager.h"
#include "token.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pager-source [options]\n"
		"Serve a memory image to one destination over TCP, then exit.\n\n"
		"  -l, --listen ADDR      wait for the destination on ADDR (default 127.0.0.1:4444)\n"
		"  -c, --connect ADDR     connect to a listening destination instead\n"
		"  -s, --size SIZE        image size of the generated pattern (default 256M)\n"
		"  -r, --regions N        split the image into N regions (default 1)\n"
		"      --seed N           pattern seed (default 1)\n"
		"      --zero-every N     one page in N is zero (default 8, 0: none)\n"
		"  -f, --file PATH        serve this file's contents instead (size rounded up to pages)\n"
		"      --hugetlb          serve every region in 2 MiB pages, for a destination that\n"
		"                         holds them in hugetlbfs memory (sizes rounded up to 2 MiB)\n"
		"      --no-push          serve demand requests only\n"
		"      --push-run PAGES   pages per pushed message (default 64)\n"
		"      --prepage PAGES    pages pushed after each demanded page (default 64, 0: off)\n"
		"      --demand-cpu N, --push-cpu N   pin the serving threads\n"
		"      --timeout MS       wait at most this long for the destination (default 30000)\n"
		"      --connections N    with --connect: 2 (demand and push apart, the default) or\n"
		"                         1 (both on one connection; the destination follows)\n"
		"      --reconnect-timeout MS  with --connect: after a lost connection, redial and\n"
		"                         resume for this long (default 30000, 0: fail at once)\n"
		"      --token-file FILE  the session token both ends were given (default: $PAGER_TOKEN)\n"
		"      --stats-json FILE  write the source's stats as JSON ('-': stdout)\n"
		"      --port-file FILE   write the listening port here once listening\n"
		"  -q, --quiet            errors only\n"
		"  -h, --help\n\n"
		"Exit: 0 served to completion, 1 usage or setup error, 2 connection or protocol failure.\n");
}

enum {
	OPT_SEED = 256, OPT_ZERO_EVERY, OPT_NO_PUSH, OPT_PUSH_RUN, OPT_PREPAGE, OPT_DEMAND_CPU,
	OPT_PUSH_CPU, OPT_TIMEOUT, OPT_RECONNECT, OPT_STATS_JSON, OPT_PORT_FILE, OPT_TOKEN_FILE,
	OPT_HUGETLB, OPT_CONNECTIONS,
};

static const struct option long_options[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "connect", required_argument, NULL, 'c' },
	{ "size", required_argument, NULL, 's' },
	{ "regions", required_argument, NULL, 'r' },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "zero-every", required_argument, NULL, OPT_ZERO_EVERY },
	{ "file", required_argument, NULL, 'f' },
	{ "no-push", no_argument, NULL, OPT_NO_PUSH },
	{ "hugetlb", no_argument, NULL, OPT_HUGETLB },
	{ "push-run", required_argument, NULL, OPT_PUSH_RUN },
	{ "prepage", required_argument, NULL, OPT_PREPAGE },
	{ "demand-cpu", required_argument, NULL, OPT_DEMAND_CPU },
	{ "push-cpu", required_argument, NULL, OPT_PUSH_CPU },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "reconnect-timeout", required_argument, NULL, OPT_RECONNECT },
	{ "stats-json", required_argument, NULL, OPT_STATS_JSON },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "connections", required_argument, NULL, OPT_CONNECTIONS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct config {
	struct pager_source_options opts;
	struct pattern pattern;
	const char *listen_text, *connect_text, *file, *stats_path, *port_file, *token_file;
	uint64_t size, regions, connections;
	bool hugetlb;
	int timeout_ms, reconnect_timeout_ms;
	struct token token;
	struct pager_handshake hs; /* the token; the session, once handshaken */
};

/* -1 to go on, or the exit status (help, usage error). */
static int parse_args(int argc, char **argv, struct config *c)
{
	uint64_t v;
	int opt;

	while ((opt = getopt_long(argc, argv, "l:c:s:r:f:qh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'l': c->listen_text = optarg; break;
		case 'c': c->connect_text = optarg; break;
		case 's':
			if (parse_size(optarg, &c->size) || !c->size)
				die("bad --size '%s'", optarg);
			break;
		case 'r':
			if (parse_u64(optarg, 1, PAGER_MAX_REGIONS, &c->regions))
				die("--regions takes 1..%u", PAGER_MAX_REGIONS);
			break;
		case OPT_SEED:
			if (parse_u64(optarg, 0, UINT64_MAX, &c->pattern.seed))
				die("bad --seed '%s'", optarg);
			break;
		case OPT_ZERO_EVERY:
			if (parse_u64(optarg, 0, UINT32_MAX, &v))
				die("bad --zero-every '%s'", optarg);
			c->pattern.zero_every = (uint32_t)v;
			break;
		case 'f': c->file = optarg; break;
		case OPT_NO_PUSH: c->opts.push = false; break;
		case OPT_HUGETLB: c->hugetlb = true; break;
		case OPT_PUSH_RUN:
			if (parse_u64(optarg, 1, 64, &v))
				die("--push-run takes 1..64 pages");
			c->opts.push_run_pages = (uint32_t)v;
			break;
		case OPT_PREPAGE:
			if (parse_u64(optarg, 0, 1u << 20, &v))
				die("bad --prepage '%s'", optarg);
			c->opts.prepage_window = (uint32_t)v;
			break;
		case OPT_DEMAND_CPU:
		case OPT_PUSH_CPU:
			if (parse_u64(optarg, 0, 4095, &v))
				die("bad CPU '%s'", optarg);
			*(opt == OPT_DEMAND_CPU ? &c->opts.demand_cpu : &c->opts.push_cpu) = (int)v;
			break;
		case OPT_TIMEOUT:
			if (parse_u64(optarg, 1, INT32_MAX, &v))
				die("bad --timeout '%s'", optarg);
			c->timeout_ms = (int)v;
			break;
		case OPT_CONNECTIONS:
			if (parse_u64(optarg, 1, 2, &c->connections))
				die("--connections takes 1 or 2");
			break;
		case OPT_RECONNECT:
			if (parse_u64(optarg, 0, INT32_MAX, &v))
				die("bad --reconnect-timeout '%s'", optarg);
			c->reconnect_timeout_ms = (int)v;
			break;
		case OPT_STATS_JSON: c->stats_path = optarg; break;
		case OPT_PORT_FILE: c->port_file = optarg; break;
		case OPT_TOKEN_FILE: c->token_file = optarg; break;
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

/* The file's contents, its size rounded up to a multiple of unit (the rest reads as zeros). */
static uint8_t *map_file(const char *path, uint64_t *size, uint64_t unit)
{
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), done;
	struct stat st;
	uint8_t *image;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		die("cannot open %s: %s", path, strerror(errno));
	if (!st.st_size)
		die("%s is empty", path);
	*size = ((uint64_t)st.st_size + unit - 1) / unit * unit;
	if (unit == ps) {
		/* Private and anonymous past EOF: the tail of the last page reads as zeros. */
		image = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (image == MAP_FAILED)
			die("cannot map %s: %s", path, strerror(errno));
		close(fd);
		return image;
	}
	/* Whole pages past EOF would not read as zeros in a mapping of the file (SIGBUS): read it. */
	image = mmap(NULL, *size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (image == MAP_FAILED)
		die("cannot allocate %" PRIu64 " bytes: %s", *size, strerror(errno));
	for (done = 0; done < (uint64_t)st.st_size; done += (uint64_t)n) {
		n = pread(fd, image + done, (size_t)st.st_size - done, (off_t)done);
		if (n <= 0)
			die("cannot read %s: %s", path, n ? strerror(errno) : "short file");
	}
	close(fd);
	return image;
}

/* The image (a file, or the pattern in memory) split into regions; c->size becomes its size. */
static struct pager_source *make_source(struct config *c, uint8_t **image_out)
{
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), region_size, off;
	struct pager_source *src;
	uint64_t unit = c->hugetlb ? 2ull << 20 : ps; /* what each region is a multiple of */
	uint8_t *image;
	uint32_t i;

	if (c->file) {
		image = map_file(c->file, &c->size, unit);
		c->regions = 1;
	} else {
		c->size = (c->size + unit - 1) / unit * unit;
		image = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);
		if (image == MAP_FAILED)
			die("cannot allocate %" PRIu64 " bytes: %s", c->size, strerror(errno));
	}
	region_size = (c->size / c->regions + unit - 1) / unit * unit;
	if (pager_source_create(&c->opts, &src))
		die("out of memory");
	for (i = 0, off = 0; off < c->size; i++, off += region_size) {
		uint64_t len = c->size - off < region_size ? c->size - off : region_size;

		if (!c->file)
			pattern_fill(&c->pattern, i, image + off, len, ps);
		/* Regions sit 4 GiB apart in the layout's address space, like guest RAM slots. */
		if ((c->hugetlb ? pager_source_add_region_hugetlb : pager_source_add_region)(
			    src, i, (uint64_t)i << 32, image + off, len))
			die("cannot add region %u", i);
	}
	*image_out = image;
	return src;
}

/*
 * Both connections, made or admitted, handshaken: fds[0] demand, fds[1] push. Exits on a
 * setup failure; a failed handshake is logged and returned (the sockets stay the caller's).
 */
static int handshake(struct config *c, const struct pager_layout *layout, int fds[2])
{
	const char *text = c->connect_text ? c->connect_text : c->listen_text;
	struct net_addr addr;
	char err[512];
	int i, lfd, ret;

	if (net_parse_addr(text, "127.0.0.1", &addr))
		die("bad address '%s'", text);
	if (c->connect_text) {
		/* One connection: the push goes on the demand connection (protocol v5, BOTH). */
		fds[1] = -1;
		for (i = 0; i < (int)c->connections; i++) {
			fds[i] = net_connect(&addr, c->timeout_ms);
			if (fds[i] < 0)
				die("cannot connect to %s: %s", text, strerror(-fds[i]));
		}
		ret = pager_handshake_source(&fds[0], &fds[1], true, &c->hs, layout, err,
					     sizeof(err));
	} else {
		lfd = net_listen(&addr, 8);
		if (lfd < 0)
			die("cannot listen on %s: %s", text, strerror(-lfd));
		if (c->port_file && (ret = net_write_port_file(c->port_file, lfd)))
			die("cannot write %s: %s", c->port_file, strerror(-ret));
		pr_info("listening on port %d", net_local_port(lfd));
		/* Strangers are refused and the wait goes on: only our destination gets in. */
		ret = pager_accept_session(lfd, &c->hs, &fds[0], &fds[1], c->timeout_ms, err,
					   sizeof(err));
		close(lfd);
		if (ret == -ETIMEDOUT)
			die("no destination connected: %s", err);
		if (!ret)
			ret = pager_send_layout(fds[0], &c->hs, layout, err, sizeof(err));
	}
	if (ret)
		pr_err("handshake: %s", err);
	return ret;
}

static void write_stats(const char *path, struct pager_source *src)
{
	struct pager_source_stats st;
	FILE *f = json_output_open(path);

	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	pager_source_get_stats(src, &st);
	pager_source_stats_write_json(&st, f);
	json_output_close(f);
}

/* Serves; having dialled, redials and resumes after a lost connection. */
static int serve(const struct config *c, struct pager_source *src, int fds[2])
{
	struct net_addr addr;
	char err[512];
	int ret;

	for (;;) {
		ret = pager_source_serve(src, fds[0], fds[1]);
		if (ret != -ENOTCONN || !c->connect_text || !c->reconnect_timeout_ms)
			return ret;
		pr_warn("connection lost (%s): redialling", pager_source_error(src));
		close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		if (net_parse_addr(c->connect_text, "127.0.0.1", &addr))
			return -EINVAL;
		ret = pager_source_redial(src, (const struct sockaddr *)&addr.ss, addr.len, &c->hs,
					  c->reconnect_timeout_ms, &fds[0], &fds[1], err,
					  sizeof(err));
		if (ret) {
			pr_err("the destination did not take the session back: %s", err);
			fds[0] = fds[1] = -1;
			return ret;
		}
		pr_info("resumed session %016" PRIx64, c->hs.session_id);
	}
}

int main(int argc, char **argv)
{
	struct config c = {
		.pattern = { .seed = 1, .zero_every = 8 },
		.listen_text = "127.0.0.1:4444",
		.size = 256ull << 20,
		.regions = 1,
		.timeout_ms = 30000,
		.reconnect_timeout_ms = 30000,
		.connections = 2,
	};
	struct pager_source *src;
	struct pager_layout layout;
	int fds[2] = { -1, -1 }, ret;
	char err[512];
	uint8_t *image;

	log_set_prefix("pager-source");
	log_init_from_env();
	pager_source_options_init(&c.opts);
	ret = parse_args(argc, argv, &c);
	if (ret >= 0)
		return ret;
	/* The library's messages through our logger: -q quiets them too. */
	c.opts.log_fn = log_forward;
	c.opts.log_opaque = "libpager";
	c.opts.log_level = (int)log_max_level;
	if (token_load(c.token_file, &c.token, err, sizeof(err)))
		die("%s", err);
	pager_handshake_init(&c.hs);
	c.hs.token = c.token.bytes;
	c.hs.token_len = (uint32_t)c.token.len;
	c.hs.timeout_ms = 10000;
	c.hs.log_fn = log_forward;
	c.hs.log_opaque = "libpager";
	c.hs.log_level = (int)log_max_level;
	if (!c.token.len && !c.connect_text)
		pr_warn("no session token (--token-file, $%s): any peer that speaks the protocol "
			"is admitted", TOKEN_ENV);

	src = make_source(&c, &image);
	pager_source_layout(src, &layout);
	pr_info("image: %" PRIu64 " bytes in %u regions, digest %016" PRIx64, c.size,
		layout.n_regions, digest_range(image, c.size, (size_t)sysconf(_SC_PAGESIZE)));
	ret = handshake(&c, &layout, fds);
	if (!ret) {
		ret = serve(&c, src, fds);
		if (c.stats_path)
			write_stats(c.stats_path, src);
		if (ret)
			pr_err("serving failed: %s", pager_source_error(src));
		else
			pr_info("destination complete");
	}
	/* On failure too: a leak checker must not turn exit 2 into its own status. */
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	pager_source_destroy(src);
	munmap(image, c.size);
	return ret ? 2 : 0;
}
