// SPDX-License-Identifier: GPL-2.0-only
/* vmm-source: run a test guest, then migrate it live (post-copy) to a vmm-dest. */
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
		"usage: vmm-source [options]\n"
		"Run a test guest on this host's KVM, then migrate it post-copy to vmm-dest.\n\n"
		"  -c, --connect ADDR       the destination (default 127.0.0.1:%d)\n"
		"  -g, --guest NAME         incrementer | pattern | toucher | nested (default incrementer;\n"
		"                           nested needs a KVM with nested SVM, see docs/nested.md)\n"
		"  -m, --mem SIZE           guest work memory (default 64M)\n"
		"      --backing KIND       guest memory: anon (private anonymous, the default),\n"
		"                           shmem (a memfd) or hugetlb (private 2 MiB pages, moved\n"
		"                           and installed whole); the destination's follows\n"
		"      --connections N      2: demand and push on connections of their own (the\n"
		"                           default); 1: both on one (a demanded page may then wait\n"
		"                           behind pushed ones); the destination follows\n"
		"  -n, --vcpus N            vCPUs, 1..%d (default 1)\n"
		"      --seed N             guest seed (default 1)\n"
		"      --count N            incrementer passes (0: forever) / toucher or nested steps\n"
		"                           (default: 0 for the incrementer, 4194304 for the toucher,\n"
		"                           4096 for nested)\n"
		"      --irqchip            create the in-kernel irqchip and PIT\n"
		"      --kvmclock           enable kvmclock and steal time, as a guest OS would\n"
		"      --switch-at N        switch over once every vCPU reported progress N\n"
		"                           (incrementer: passes, pattern: MiB, toucher: steps/65536,\n"
		"                           nested: steps/256)\n"
		"      --switch-after MS    switch over after MS of running (default 300)\n"
		"      --precopy-rounds N   first send memory while the guest runs, then the pages\n"
		"                           it wrote, N rounds at most (default 0: pure post-copy)\n"
		"      --stop-and-copy      send memory with the vCPUs stopped, so the destination\n"
		"                           has every page at the switch-over: every page, or after\n"
		"                           --precopy-rounds the pages written in the last round\n"
		"      --no-push            serve demand requests only\n"
		"      --prepage PAGES      pages pushed after each demanded page (default 64)\n"
		"      --timeout MS         bound on each phase (default 60000)\n"
		"      --reconnect-timeout MS  after a lost connection, redial the destination and\n"
		"                           resume for this long (default 30000; 0: fail at once)\n"
		"      --json FILE          write the source's stats as JSON ('-': stdout)\n"
		"      --token-file FILE    the session token to prove to the destination (default:\n"
		"                           $PAGER_TOKEN)\n"
		"  -q, --quiet              errors only\n"
		"  -h, --help\n\n"
		"Exit: 0 migrated (the destination confirmed every page and the digest), 1 setup\n"
		"error, 2 connection or protocol failure, 3 the destination's digest differs.\n",
		MIG_DEFAULT_PORT, GUEST_MAX_VCPUS);
}

enum { OPT_SEED = 256, OPT_COUNT, OPT_IRQCHIP, OPT_KVMCLOCK, OPT_SWITCH_AT, OPT_SWITCH_AFTER, OPT_PRECOPY, OPT_STOP_AND_COPY, OPT_NO_PUSH, OPT_BACKING,
       OPT_PREPAGE, OPT_TIMEOUT, OPT_RECONNECT, OPT_JSON, OPT_TOKEN_FILE, OPT_CONNECTIONS };

static const struct option long_options[] = {
	{ "connect", required_argument, NULL, 'c' },
	{ "guest", required_argument, NULL, 'g' },
	{ "mem", required_argument, NULL, 'm' },
	{ "vcpus", required_argument, NULL, 'n' },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "irqchip", no_argument, NULL, OPT_IRQCHIP },
	{ "kvmclock", no_argument, NULL, OPT_KVMCLOCK },
	{ "switch-at", required_argument, NULL, OPT_SWITCH_AT },
	{ "switch-after", required_argument, NULL, OPT_SWITCH_AFTER },
	{ "precopy-rounds", required_argument, NULL, OPT_PRECOPY },
	{ "stop-and-copy", no_argument, NULL, OPT_STOP_AND_COPY },
	{ "no-push", no_argument, NULL, OPT_NO_PUSH },
	{ "backing", required_argument, NULL, OPT_BACKING },
	{ "connections", required_argument, NULL, OPT_CONNECTIONS },
	{ "prepage", required_argument, NULL, OPT_PREPAGE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "reconnect-timeout", required_argument, NULL, OPT_RECONNECT },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* One option into o; die()s on a bad value. */
static void parse_option(int opt, struct mig_source_opts *o, bool *count_given,
			 const char **token_file)
{
	const struct guest_image *image;
	uint64_t v;

	switch (opt) {
	case 'c': o->connect = optarg; break;
	case 'g':
		image = guest_image_by_name(optarg);
		if (!image)
			die("unknown guest '%s' (incrementer, pattern, toucher, nested)", optarg);
		o->guest.program = (enum guest_program)(image - guest_image(0));
		break;
	case 'm':
		if (parse_size(optarg, &o->guest.work_size))
			die("bad --mem '%s'", optarg);
		break;
	case 'n':
		if (parse_u64(optarg, 1, GUEST_MAX_VCPUS, &v))
			die("--vcpus takes 1..%d", GUEST_MAX_VCPUS);
		o->guest.nr_vcpus = (unsigned int)v;
		break;
	case OPT_SEED:
		if (parse_u64(optarg, 0, UINT64_MAX, &o->guest.seed))
			die("bad --seed '%s'", optarg);
		break;
	case OPT_COUNT:
		if (parse_u64(optarg, 0, UINT64_MAX, &o->guest.count))
			die("bad --count '%s'", optarg);
		*count_given = true;
		break;
	case OPT_IRQCHIP: o->irqchip = true; break;
	case OPT_KVMCLOCK: o->kvmclock = true; break;
	case OPT_SWITCH_AT:
		if (parse_u64(optarg, 1, UINT64_MAX, &o->switch_at_progress))
			die("bad --switch-at '%s'", optarg);
		break;
	case OPT_SWITCH_AFTER:
		if (parse_u64(optarg, 0, 3600000, &v))
			die("bad --switch-after '%s'", optarg);
		o->switch_after_ms = (unsigned int)v;
		break;
	case OPT_PRECOPY:
		if (parse_u64(optarg, 0, 32, &v))
			die("--precopy-rounds takes 0..32");
		o->precopy_rounds = (unsigned int)v;
		break;
	case OPT_STOP_AND_COPY: o->stop_and_copy = true; break;
	case OPT_NO_PUSH: o->serve.push = false; break;
	case OPT_BACKING:
		if (!strcmp(optarg, "anon"))
			o->backing = PAGER_BACKING_ANON;
		else if (!strcmp(optarg, "shmem"))
			o->backing = PAGER_BACKING_SHMEM;
		else if (!strcmp(optarg, "hugetlb"))
			o->backing = PAGER_BACKING_HUGETLB;
		else
			die("--backing takes anon, shmem or hugetlb");
		break;
	case OPT_CONNECTIONS:
		if (parse_u64(optarg, 1, 2, &v))
			die("--connections takes 1 or 2");
		o->connections = (unsigned int)v;
		break;
	case OPT_PREPAGE:
		if (parse_u64(optarg, 0, 1u << 20, &v))
			die("bad --prepage '%s'", optarg);
		o->serve.prepage_window = (uint32_t)v;
		break;
	case OPT_TIMEOUT:
		if (parse_u64(optarg, 1, INT32_MAX, &v))
			die("bad --timeout '%s'", optarg);
		o->timeout_ms = (int)v;
		break;
	case OPT_RECONNECT:
		if (parse_u64(optarg, 0, INT32_MAX, &v))
			die("bad --reconnect-timeout '%s'", optarg);
		o->reconnect_timeout_ms = (unsigned int)v;
		break;
	case OPT_JSON: o->json_path = optarg; break;
	case OPT_TOKEN_FILE: *token_file = optarg; break;
	case 'q': log_max_level = LOG_ERR; break;
	case 'h': usage(stdout); exit(0);
	default: usage(stderr); exit(MIG_EXIT_SETUP);
	}
}

static void parse_options(int argc, char **argv, struct mig_source_opts *o,
			  const char **token_file)
{
	bool count_given = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:g:m:n:qh", long_options, NULL)) != -1)
		parse_option(opt, o, &count_given, token_file);
	if (optind != argc) {
		usage(stderr);
		exit(MIG_EXIT_SETUP);
	}
	if (!count_given && o->guest.program == GUEST_TOUCHER)
		o->guest.count = 4ull << 20;
	if (!count_given && o->guest.program == GUEST_NESTED)
		o->guest.count = 4096;
}

int main(int argc, char **argv)
{
	char default_connect[32];
	struct mig_source_opts o = {
		.guest = { .program = GUEST_INCREMENTER, .nr_vcpus = 1, .work_size = 64ull << 20,
			   .seed = 1 },
		.connect = default_connect,
		.backing = PAGER_BACKING_ANON,
		.connections = 2,
		.switch_after_ms = 300,
		.timeout_ms = 60000,
		.reconnect_timeout_ms = 30000,
	};

	const char *token_file = NULL;
	struct token token;
	char err[256];

	log_set_prefix("vmm-source");
	log_init_from_env();
	snprintf(default_connect, sizeof(default_connect), "127.0.0.1:%d", MIG_DEFAULT_PORT);
	pager_source_options_init(&o.serve);
	pager_handshake_init(&o.handshake);
	parse_options(argc, argv, &o, &token_file);
	if (o.backing == PAGER_BACKING_HUGETLB && o.guest.work_size % (2ull << 20))
		die("--backing hugetlb: --mem must be a multiple of 2M (its memory is 2 MiB pages)");
	if (token_load(token_file, &token, err, sizeof(err)))
		die("%s", err);
	o.handshake.token = token.bytes;
	o.handshake.token_len = (uint32_t)token.len;
	o.serve.log_fn = log_forward;
	o.serve.log_opaque = "libpager";
	o.serve.log_level = (int)log_max_level;
	return mig_source_run(&o);
}
