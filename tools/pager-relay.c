// SPDX-License-Identifier: GPL-2.0-only
/*
 * pager-relay: a TCP relay between the two ends of a migration that adds link delay (this
 * kernel has no netem) and, with --faults, a seeded, replayable fault schedule that knows the
 * protocol: it can delay, throttle, stall, reorder, duplicate, drop, corrupt, cut and
 * black-hole chosen frames at chosen phases (docs/fault-injection.md). The relay itself is
 * relay/; this parses options and makes one call.
 */
#include "log.h"
#include "json.h"
#include "parse.h"
#include "relay.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pager-relay --listen ADDR --to ADDR [options]\n"
		"Relay TCP connections, delaying each direction and injecting seeded faults.\n\n"
		"  -l, --listen ADDR     where clients connect (port 0: any; see --port-file)\n"
		"  -t, --to ADDR         where each connection is relayed to\n"
		"  -f, --faults SPEC     fault rules (docs/fault-injection.md; may be repeated),\n"
		"                        e.g. 'delay=1ms;cut:push@frames=500;drop@p=0.05'\n"
		"  -d, --delay-us N      one-way delay added to every frame (default 1000 without\n"
		"                        --faults, else 0)\n"
		"      --jitter-us N     plus a seeded random 0..N us (default 0)\n"
		"  -s, --seed N          seed of every random decision (default 1)\n"
		"      --connections N   exit after relaying N connections to their end\n"
		"                        (default 2)\n"
		"      --pairs N         the same, counted in connection pairs (2N connections)\n"
		"      --idle-exit MS    also exit once every connection has ended and none came\n"
		"                        for MS (ends that reconnect an unknown number of times)\n"
		"      --port-file FILE  write the listening port here\n"
		"      --json FILE       at exit, the schedule and every fault that fired\n"
		"                        ('-': stdout)\n"
		"      --log-schedule    log each fault as it fires, and which frames p= rules\n"
		"                        will hit\n"
		"  -q, --quiet           errors only\n"
		"  -h, --help\n\n"
		"SIGINT or SIGTERM cuts every connection, writes the JSON and exits 0.\n"
		"Exit: 0 relayed, 1 usage or spec error, 2 cannot listen or accept.\n");
}

enum {
	OPT_JITTER = 256, OPT_CONNECTIONS, OPT_PAIRS, OPT_IDLE_EXIT, OPT_PORT_FILE, OPT_JSON,
	OPT_LOG_SCHEDULE,
};

struct relay_cli {
	struct relay_options opts;
	const char *json_path;
	uint64_t delay_us, jitter_us;
	bool delay_given, faults_given;
};

static void add_rules(struct relay_cli *c, const char *text)
{
	char err[512];

	if (relay_spec_parse(&c->opts.spec, text, err, sizeof(err)))
		die("bad --faults: %s", err);
}

static void parse_value(int opt, const char *arg, struct relay_cli *c)
{
	switch (opt) {
	case 'd':
		if (parse_u64(arg, 0, 10000000, &c->delay_us))
			die("bad --delay-us");
		c->delay_given = true;
		break;
	case OPT_JITTER:
		if (parse_u64(arg, 0, 10000000, &c->jitter_us))
			die("bad --jitter-us");
		break;
	case 's':
		if (parse_u64(arg, 0, UINT64_MAX, &c->opts.seed))
			die("bad --seed");
		break;
	case OPT_CONNECTIONS:
	case OPT_PAIRS:
		if (parse_u64(arg, 1, 1024, &c->opts.max_connections))
			die("bad --%s", opt == OPT_PAIRS ? "pairs" : "connections");
		if (opt == OPT_PAIRS)
			c->opts.max_connections *= 2;
		break;
	case OPT_IDLE_EXIT:
		if (parse_u64(arg, 1, 3600000, &c->opts.idle_exit_ms))
			die("bad --idle-exit");
		break;
	}
}

static void parse_options(int argc, char **argv, struct relay_cli *c)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "to", required_argument, NULL, 't' },
		{ "faults", required_argument, NULL, 'f' },
		{ "delay-us", required_argument, NULL, 'd' },
		{ "jitter-us", required_argument, NULL, OPT_JITTER },
		{ "seed", required_argument, NULL, 's' },
		{ "connections", required_argument, NULL, OPT_CONNECTIONS },
		{ "pairs", required_argument, NULL, OPT_PAIRS },
		{ "idle-exit", required_argument, NULL, OPT_IDLE_EXIT },
		{ "port-file", required_argument, NULL, OPT_PORT_FILE },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "log-schedule", no_argument, NULL, OPT_LOG_SCHEDULE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "l:t:f:d:s:qh", options, NULL)) != -1) {
		switch (opt) {
		case 'l': c->opts.listen = optarg; break;
		case 't': c->opts.to = optarg; break;
		case 'f':
			add_rules(c, optarg);
			c->faults_given = true;
			break;
		case OPT_PORT_FILE: c->opts.port_file = optarg; break;
		case OPT_JSON: c->json_path = optarg; break;
		case OPT_LOG_SCHEDULE: c->opts.log_schedule = true; break;
		case 'q': log_max_level = LOG_ERR; break;
		case 'h': usage(stdout); exit(0);
		case '?': usage(stderr); exit(1);
		default: parse_value(opt, optarg, c); break;
		}
	}
	if (!c->opts.listen || !c->opts.to || optind != argc) {
		usage(stderr);
		exit(1);
	}
}

/* --delay-us and --jitter-us as the rule they always meant, ahead of the others. */
static void add_delay_rule(struct relay_cli *c)
{
	struct relay_spec spec = { 0 };
	char text[64], err[256];

	if (!c->delay_given && c->faults_given)
		return;
	if (!c->delay_us && !c->jitter_us)
		return;
	snprintf(text, sizeof(text), "delay=%" PRIu64 "us..%" PRIu64 "us", c->delay_us,
		 c->delay_us + c->jitter_us);
	if (relay_spec_parse(&spec, text, err, sizeof(err)))
		die("%s", err);
	if (spec.n_rules + c->opts.spec.n_rules > RELAY_MAX_RULES)
		die("bad --faults: more than %d rules with the delay", RELAY_MAX_RULES);
	memcpy(&spec.rules[1], c->opts.spec.rules, c->opts.spec.n_rules * sizeof(spec.rules[0]));
	spec.n_rules += c->opts.spec.n_rules;
	c->opts.spec = spec;
}

static struct relay *running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		relay_stop(running);
}

static void write_json(struct relay *r, const char *path)
{
	FILE *f = json_output_open(path);

	if (!f) {
		pr_err("cannot write %s: %s", path, strerror(errno));
		return;
	}
	relay_write_json(r, f);
	json_output_close(f);
}

int main(int argc, char **argv)
{
	struct relay_cli c = { .opts = { .seed = 1, .max_connections = 2 }, .delay_us = 1000 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct relay *r;
	char err[512];
	int ret;

	log_set_prefix("pager-relay");
	log_init_from_env();
	parse_options(argc, argv, &c);
	add_delay_rule(&c);
	ret = relay_create(&c.opts, &r, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		return ret == -EINVAL ? 1 : 2;
	}
	pr_info("relaying port %d to %s", relay_port(r), c.opts.to);
	relay_print_schedule(r);
	running = r;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	ret = relay_run(r);
	if (c.json_path)
		write_json(r, c.json_path);
	relay_destroy(r);
	return ret ? 2 : 0;
}
