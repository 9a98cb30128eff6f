// SPDX-License-Identifier: GPL-2.0-only
/*
 * pager-relay: a TCP relay that delays every byte by a fixed time (plus seeded jitter) in each
 * direction. This kernel has no netem, so link delay between the migration's two ends comes
 * from here. Each direction of each connection is a reader thread and a writer thread around a
 * bounded queue of timestamped chunks; order is kept, and the delay never adds up in a queue.
 */
#include "clock.h"
#include "log.h"
#include "net.h"
#include "parse.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_BYTES (64u * 1024u)
#define QUEUE_MAX_BYTES (32u * 1024u * 1024u)

struct chunk {
	struct chunk *next;
	uint64_t release_ns;
	size_t len; /* 0: the reader saw the end of the stream */
	uint8_t data[];
};

struct direction {
	int from, to;
	uint64_t delay_ns, jitter_ns, rng, last_release;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct chunk *head, *tail;
	size_t queued;
	bool failed;
	uint64_t bytes;
	pthread_t reader, writer;
};

static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void push_chunk(struct direction *d, struct chunk *c)
{
	uint64_t release = clock_now_ns() + d->delay_ns;

	if (d->jitter_ns)
		release += next_random(&d->rng) % d->jitter_ns;
	/* A later chunk never overtakes an earlier one: TCP order is kept. */
	if (release < d->last_release)
		release = d->last_release;
	d->last_release = release;
	c->release_ns = release;
	c->next = NULL;
	pthread_mutex_lock(&d->lock);
	while (d->queued > QUEUE_MAX_BYTES && !d->failed)
		pthread_cond_wait(&d->changed, &d->lock);
	if (d->tail)
		d->tail->next = c;
	else
		d->head = c;
	d->tail = c;
	d->queued += c->len;
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
}

static void *reader_main(void *arg)
{
	struct direction *d = arg;
	struct chunk *c;
	ssize_t n;

	for (;;) {
		c = malloc(sizeof(*c) + CHUNK_BYTES);
		if (!c)
			break;
		n = recv(d->from, c->data, CHUNK_BYTES, 0);
		if (n < 0 && errno == EINTR) {
			free(c);
			continue;
		}
		c->len = n > 0 ? (size_t)n : 0;
		push_chunk(d, c);
		if (n <= 0)
			break;
	}
	return NULL;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void *writer_main(void *arg)
{
	struct direction *d = arg;
	struct chunk *c;
	bool end = false;

	while (!end) {
		pthread_mutex_lock(&d->lock);
		while (!d->head)
			pthread_cond_wait(&d->changed, &d->lock);
		c = d->head;
		d->head = c->next;
		if (!d->head)
			d->tail = NULL;
		d->queued -= c->len;
		pthread_cond_broadcast(&d->changed);
		pthread_mutex_unlock(&d->lock);

		sleep_until(c->release_ns);
		end = !c->len;
		if (end || net_write_full(d->to, c->data, c->len, -1)) {
			/* Pass the end (or the failure) on: the peer sees what a direct link shows. */
			shutdown(d->to, end ? SHUT_WR : SHUT_RDWR);
			shutdown(d->from, SHUT_RD);
			end = true;
		} else {
			d->bytes += c->len;
		}
		free(c);
	}
	/* Nobody drains the queue any more: a reader must not wait for room in it. */
	pthread_mutex_lock(&d->lock);
	d->failed = true;
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

struct link {
	struct direction dir[2];
	int fds[2];
	pthread_t thread;
};

static void direction_start(struct direction *d, int from, int to, uint64_t delay_ns,
			    uint64_t jitter_ns, uint64_t seed)
{
	*d = (struct direction){ .from = from, .to = to, .delay_ns = delay_ns,
				 .jitter_ns = jitter_ns, .rng = seed | 1 };
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->changed, NULL);
	if (pthread_create(&d->reader, NULL, reader_main, d) ||
	    pthread_create(&d->writer, NULL, writer_main, d))
		die("cannot start relay threads");
}

static void direction_join(struct direction *d)
{
	struct chunk *c;

	pthread_join(d->reader, NULL);
	pthread_join(d->writer, NULL);
	while ((c = d->head)) {
		d->head = c->next;
		free(c);
	}
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->changed);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pager-relay --listen ADDR --to ADDR [options]\n"
		"Relay TCP connections, delaying each direction.\n\n"
		"  -l, --listen ADDR     where clients connect (port 0: any; see --port-file)\n"
		"  -t, --to ADDR         where each connection is relayed to\n"
		"  -d, --delay-us N      one-way delay added to every byte (default 1000)\n"
		"      --jitter-us N     plus a seeded random 0..N us (default 0)\n"
		"      --seed N          jitter seed (default 1)\n"
		"      --connections N   exit after relaying N connections to their end (default 2)\n"
		"      --port-file FILE  write the listening port here\n"
		"  -q, --quiet           errors only\n"
		"  -h, --help\n");
}

struct relay_opts {
	const char *listen, *to, *port_file;
	uint64_t delay_us, jitter_us, seed, connections;
};

static void parse_options(int argc, char **argv, struct relay_opts *o)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "to", required_argument, NULL, 't' },
		{ "delay-us", required_argument, NULL, 'd' },
		{ "jitter-us", required_argument, NULL, 'j' },
		{ "seed", required_argument, NULL, 's' },
		{ "connections", required_argument, NULL, 'n' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "l:t:d:qh", options, NULL)) != -1) {
		switch (opt) {
		case 'l': o->listen = optarg; break;
		case 't': o->to = optarg; break;
		case 'd':
			if (parse_u64(optarg, 0, 10000000, &o->delay_us))
				die("bad --delay-us");
			break;
		case 'j':
			if (parse_u64(optarg, 0, 10000000, &o->jitter_us))
				die("bad --jitter-us");
			break;
		case 's':
			if (parse_u64(optarg, 0, UINT64_MAX, &o->seed))
				die("bad --seed");
			break;
		case 'n':
			if (parse_u64(optarg, 1, 1024, &o->connections))
				die("bad --connections");
			break;
		case 'p': o->port_file = optarg; break;
		case 'q': log_max_level = LOG_ERR; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(1);
		}
	}
	if (!o->listen || !o->to || optind != argc) {
		usage(stderr);
		exit(1);
	}
}

/* Relays o->connections connections, each to its end, then returns. */
static void relay_run(const struct relay_opts *o)
{
	struct net_addr listen_addr, to_addr;
	uint64_t delay_ns = o->delay_us * 1000, jitter_ns = o->jitter_us * 1000, i;
	struct link *links;
	int ret, lfd;

	if (net_parse_addr(o->listen, "127.0.0.1", &listen_addr) ||
	    net_parse_addr(o->to, "127.0.0.1", &to_addr))
		die("bad address");
	lfd = net_listen(&listen_addr, 16);
	if (lfd < 0)
		die("cannot listen on %s: %s", o->listen, strerror(-lfd));
	if (o->port_file && (ret = net_write_port_file(o->port_file, lfd)))
		die("cannot write %s: %s", o->port_file, strerror(-ret));
	pr_info("relaying port %d to %s with %" PRIu64 " us (+%" PRIu64 " us jitter) each way",
		net_local_port(lfd), o->to, o->delay_us, o->jitter_us);
	links = calloc(o->connections, sizeof(*links));
	if (!links)
		die("out of memory");
	for (i = 0; i < o->connections; i++) {
		struct link *l = &links[i];

		l->fds[0] = net_accept(lfd, -1);
		if (l->fds[0] < 0)
			die("accept: %s", strerror(-l->fds[0]));
		l->fds[1] = net_connect(&to_addr, 10000);
		if (l->fds[1] < 0)
			die("cannot reach %s: %s", o->to, strerror(-l->fds[1]));
		net_tune(l->fds[0], 0);
		net_tune(l->fds[1], 0);
		direction_start(&l->dir[0], l->fds[0], l->fds[1], delay_ns, jitter_ns, o->seed + 2 * i);
		direction_start(&l->dir[1], l->fds[1], l->fds[0], delay_ns, jitter_ns,
				o->seed + 2 * i + 1);
	}
	close(lfd);
	for (i = 0; i < o->connections; i++) {
		direction_join(&links[i].dir[0]);
		direction_join(&links[i].dir[1]);
		pr_info("connection %" PRIu64 ": %" PRIu64 " bytes forward, %" PRIu64 " back", i,
			links[i].dir[0].bytes, links[i].dir[1].bytes);
		close(links[i].fds[0]);
		close(links[i].fds[1]);
	}
	free(links);
}

int main(int argc, char **argv)
{
	struct relay_opts o = { .delay_us = 1000, .seed = 1, .connections = 2 };

	log_set_prefix("pager-relay");
	parse_options(argc, argv, &o);
	relay_run(&o);
	return 0;
}
