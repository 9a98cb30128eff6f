// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-tcp-rtt: the TCP loopback round trip of a small request and a 4 KiB reply, the second
 * half of the limit the pager's fault latency is divided by (a page request is ~32 bytes, a
 * page answer 4 KiB plus a header). The client (cpu-a) sends, the server (cpu-b) answers;
 * blocking sockets with TCP_NODELAY, timed by the client.
 */
#include "clock.h"
#include "log.h"
#include "net.h"
#include "probe.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUEST_BYTES 32u
#define REPLY_BYTES 4096u

struct server {
	int lfd, cpu;
	uint64_t rounds;
};

static void read_all(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = recv(fd, (char *)buf + got, len - got, 0);

		if (n <= 0 && !(n < 0 && errno == EINTR))
			die("recv: %s", n ? strerror(errno) : "peer closed");
		if (n > 0)
			got += (size_t)n;
	}
}

static void write_all(int fd, const void *buf, size_t len)
{
	size_t put = 0;

	while (put < len) {
		ssize_t n = send(fd, (const char *)buf + put, len - put, MSG_NOSIGNAL);

		if (n < 0 && errno != EINTR)
			die("send: %s", strerror(errno));
		if (n > 0)
			put += (size_t)n;
	}
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	static uint8_t reply[REPLY_BYTES];
	uint8_t req[REQUEST_BYTES];
	uint64_t i;
	int fd;

	probe_pin_self(s->cpu);
	fd = net_accept(s->lfd, 10000);
	if (fd < 0)
		die("accept: %s", strerror(-fd));
	net_tune(fd, 0);
	for (i = 0; i < s->rounds; i++) {
		read_all(fd, req, sizeof(req));
		write_all(fd, reply, sizeof(reply));
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct probe_opts o = { .cpu_a = -1, .cpu_b = -1, .iters = 20000, .warmup = 500 };
	uint8_t req[REQUEST_BYTES] = { 1 }, reply[REPLY_BYTES];
	struct probe_samples samples;
	struct net_addr addr;
	struct server s;
	char text[64];
	pthread_t thread;
	struct json j;
	uint64_t i;
	int fd;

	probe_parse(argc, argv, "The TCP loopback round trip of a 32-byte request and a 4 KiB "
		    "reply.", &o);
	if (net_parse_addr("127.0.0.1:0", "127.0.0.1", &addr))
		die("bad address");
	s = (struct server){ .lfd = net_listen(&addr, 1), .cpu = o.cpu_b,
			     .rounds = o.iters + o.warmup };
	if (s.lfd < 0)
		die("listen: %s", strerror(-s.lfd));
	snprintf(text, sizeof(text), "127.0.0.1:%d", net_local_port(s.lfd));
	if (net_parse_addr(text, "127.0.0.1", &addr))
		die("bad address");
	if (pthread_create(&thread, NULL, server_main, &s))
		die("cannot start the server thread");
	probe_pin_self(o.cpu_a);
	fd = net_connect(&addr, 10000);
	if (fd < 0)
		die("connect: %s", strerror(-fd));
	net_tune(fd, 0);
	probe_samples_init(&samples, o.iters);
	for (i = 0; i < s.rounds; i++) {
		uint64_t t0 = clock_now_ns();

		write_all(fd, req, sizeof(req));
		read_all(fd, reply, sizeof(reply));
		if (i >= o.warmup)
			probe_samples_add(&samples, clock_now_ns() - t0);
	}
	pthread_join(thread, NULL);
	close(fd);
	close(s.lfd);
	probe_json_begin(&j, "tcp_rtt", &o);
	probe_samples_write(&j, &samples);
	probe_json_end(&j);
	return 0;
}
