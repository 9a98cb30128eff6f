// SPDX-License-Identifier: GPL-2.0-only
/* vmm-dest: the destination daemon. Takes one live migration, runs the guest at once, pulls
 * its memory on demand, and reports the guest's own check, the memory digest and the stats. */
#include "log.h"
#include "migrate.h"
#include "parse.h"
#include "token.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmm-dest [options]\n"
		"Receive one post-copy live migration from vmm-source and run the guest.\n\n"
		"  -l, --listen ADDR        where to wait (default 127.0.0.1:%d)\n"
		"      --listener-cpu N     pin the pager's listener thread to CPU N\n"
		"      --watchdog MS        a restore ioctl or vCPU blocked this long on a page is\n"
		"                           an error (default 2000)\n"
		"      --run-after MS       an endless guest runs this long after the last page\n"
		"                           before it is stopped and checked (default 200)\n"
		"      --timeout MS         bound on waiting for the source and on each phase\n"
		"                           (default: wait for the source forever, 120000 per phase)\n"
		"      --reconnect-timeout MS  after a lost connection, wait this long for the source\n"
		"                           to reconnect and resume (default 30000; 0: fail at once)\n"
		"      --json FILE          write the stats as JSON ('-': stdout)\n"
		"      --port-file FILE     write the listening port here (useful with port 0)\n"
		"      --token-file FILE    the session token the source must prove (default:\n"
		"                           $PAGER_TOKEN; none: any peer of this protocol is admitted)\n"
		"      --max-memory SIZE    refuse a layout claiming more guest memory (default: this\n"
		"                           host's RAM)\n"
		"      --install HOW        how pushed pages go into place: copy (UFFDIO_COPY, the\n"
		"                           default) or move (received into pages of their own and\n"
		"                           moved there with UFFDIO_MOVE, Linux 6.8)\n"
		"      --x-restore-before-listener  for tests only: break the ordering rule (restore\n"
		"                           the state, then start the listener) to see the watchdog\n"
		"                           report the restore ioctl that blocks on a page\n"
		"  -q, --quiet              errors only\n"
		"  -h, --help\n\n"
		"Exit: 0 guest ok and memory digest matched, 1 setup error, 2 connection, protocol\n"
		"or pager failure, 3 the guest's check or the digest failed, 4 watchdog: blocked on a\n"
		"page nobody fetches.\n",
		MIG_DEFAULT_PORT);
}

enum {
	OPT_LISTENER_CPU = 256, OPT_WATCHDOG, OPT_RUN_AFTER, OPT_TIMEOUT, OPT_RECONNECT, OPT_JSON,
	OPT_PORT_FILE, OPT_TOKEN_FILE, OPT_MAX_MEMORY, OPT_WRONG_ORDER,
	OPT_INSTALL
};

static const struct option long_options[] = {
	{ "listen", required_argument, NULL, 'l' },
	{ "listener-cpu", required_argument, NULL, OPT_LISTENER_CPU },
	{ "watchdog", required_argument, NULL, OPT_WATCHDOG },
	{ "run-after", required_argument, NULL, OPT_RUN_AFTER },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "reconnect-timeout", required_argument, NULL, OPT_RECONNECT },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "max-memory", required_argument, NULL, OPT_MAX_MEMORY },
	{ "install", required_argument, NULL, OPT_INSTALL },
	{ "x-restore-before-listener", no_argument, NULL, OPT_WRONG_ORDER },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static void parse_options(int argc, char **argv, struct mig_dest_opts *o,
			  const char **token_file)
{
	uint64_t v;
	int opt;

	while ((opt = getopt_long(argc, argv, "l:qh", long_options, NULL)) != -1) {
		switch (opt) {
		case 'l': o->listen = optarg; break;
		case OPT_LISTENER_CPU:
			if (parse_u64(optarg, 0, 4095, &v))
				die("bad --listener-cpu '%s'", optarg);
			o->listener_cpu = (int)v;
			break;
		case OPT_WATCHDOG:
			if (parse_u64(optarg, 10, 3600000, &v))
				die("bad --watchdog '%s'", optarg);
			o->watchdog_ms = (unsigned int)v;
			break;
		case OPT_RUN_AFTER:
			if (parse_u64(optarg, 0, 3600000, &v))
				die("bad --run-after '%s'", optarg);
			o->run_after_complete_ms = (unsigned int)v;
			break;
		case OPT_TIMEOUT:
			if (parse_u64(optarg, 1, INT32_MAX, &v))
				die("bad --timeout '%s'", optarg);
			o->timeout_ms = (int)v;
			o->accept_timeout_ms = (int)v;
			break;
		case OPT_RECONNECT:
			if (parse_u64(optarg, 0, INT32_MAX, &v))
				die("bad --reconnect-timeout '%s'", optarg);
			o->reconnect_timeout_ms = (unsigned int)v;
			break;
		case OPT_JSON: o->json_path = optarg; break;
		case OPT_PORT_FILE: o->port_file = optarg; break;
		case OPT_TOKEN_FILE: *token_file = optarg; break;
		case OPT_MAX_MEMORY:
			if (parse_size(optarg, &o->handshake.max_memory) || !o->handshake.max_memory)
				die("bad --max-memory '%s'", optarg);
			break;
		case OPT_WRONG_ORDER: o->restore_before_listener = true; break;
		case OPT_INSTALL:
			if (strcmp(optarg, "copy") && strcmp(optarg, "move"))
				die("--install takes copy or move");
			o->install_move = !strcmp(optarg, "move");
			break;
		case 'q': log_max_level = LOG_ERR; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(MIG_EXIT_SETUP);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(MIG_EXIT_SETUP);
	}
}

int main(int argc, char **argv)
{
	char default_listen[32];
	struct mig_dest_opts o = {
		.listen = default_listen,
		.accept_timeout_ms = -1,
		.listener_cpu = -1,
		.watchdog_ms = 2000,
		.timeout_ms = 120000,
		.run_after_complete_ms = 200,
		.reconnect_timeout_ms = 30000,
	};

	const char *token_file = NULL;
	struct token token;
	char err[256];

	log_set_prefix("vmm-dest");
	log_init_from_env();
	snprintf(default_listen, sizeof(default_listen), "127.0.0.1:%d", MIG_DEFAULT_PORT);
	pager_handshake_init(&o.handshake);
	parse_options(argc, argv, &o, &token_file);
	if (token_load(token_file, &token, err, sizeof(err)))
		die("%s", err);
	o.handshake.token = token.bytes;
	o.handshake.token_len = (uint32_t)token.len;
	/* Strangers refused at admission are logged through our logger. */
	o.handshake.log_fn = log_forward;
	o.handshake.log_opaque = "libpager";
	o.handshake.log_level = (int)log_max_level;
	if (!token.len)
		pr_warn("no session token (--token-file, $%s): any peer that speaks the protocol "
			"is admitted", TOKEN_ENV);
	return mig_dest_run(&o);
}
