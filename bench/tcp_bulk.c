// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-tcp-bulk: bulk TCP throughput over loopback with one or more connections, the limit
 * the background push and a whole migration are divided by. Each connection has a sender
 * (cpu-a) writing 256 KiB buffers and a receiver (cpu-b) reading them, for a fixed time.
 * Throughput is the bytes received over the time from the first send to the last receive.
 * The buffer is one cached page of zeros unless --size names an image: then the sender
 * streams through that many bytes of written memory, as the push streams a guest's (each
 * byte read from memory, not from a cache: the limit of a push where memory is the bottleneck).
 */
#include "clock.h"
#include "log.h"
#include "net.h"
#include "probe.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFFER_BYTES (256u * 1024u)

struct stream {
	pthread_t sender, receiver;
	int send_fd, recv_fd, cpu_a, cpu_b;
	uint64_t stop_ns, bytes, end_ns;
	const uint8_t *image; /* NULL: a buffer of zeros */
	uint64_t image_bytes;
};

static void *sender_main(void *arg)
{
	struct stream *s = arg;
	uint8_t *zeros = s->image ? NULL : calloc(1, BUFFER_BYTES);
	uint64_t off = 0;

	if (!s->image && !zeros)
		die("out of memory");
	probe_pin_self(s->cpu_a);
	while (clock_now_ns() < s->stop_ns) {
		const uint8_t *buf = s->image ? s->image + off : zeros;
		ssize_t n = send(s->send_fd, buf, BUFFER_BYTES, MSG_NOSIGNAL);

		if (n < 0 && errno != EINTR)
			die("send: %s", strerror(errno));
		if (n > 0 && s->image)
			off = (off + (uint64_t)n) % (s->image_bytes - BUFFER_BYTES);
	}
	shutdown(s->send_fd, SHUT_WR);
	free(zeros);
	return NULL;
}

/* An image of written memory (not zero pages, which all read one cached page). */
static uint8_t *make_image(uint64_t bytes)
{
	uint8_t *image = malloc(bytes);
	uint64_t i;

	if (!image)
		die("cannot allocate an image of %llu bytes", (unsigned long long)bytes);
	for (i = 0; i < bytes; i += 8)
		*(uint64_t *)(image + i) = i * 0x9e3779b97f4a7c15ull;
	return image;
}

static void *receiver_main(void *arg)
{
	struct stream *s = arg;
	uint8_t *buf = malloc(BUFFER_BYTES);
	ssize_t n;

	if (!buf)
		die("out of memory");
	probe_pin_self(s->cpu_b);
	while ((n = recv(s->recv_fd, buf, BUFFER_BYTES, 0)) != 0) {
		if (n < 0 && errno != EINTR)
			die("recv: %s", strerror(errno));
		if (n > 0)
			s->bytes += (uint64_t)n;
	}
	s->end_ns = clock_now_ns();
	free(buf);
	return NULL;
}

/* Both ends of one loopback connection, tuned as the pager's sockets are. */
static void connect_pair(int lfd, const struct net_addr *addr, struct stream *s)
{
	s->send_fd = net_connect(addr, 10000);
	if (s->send_fd < 0)
		die("connect: %s", strerror(-s->send_fd));
	s->recv_fd = net_accept(lfd, 10000);
	if (s->recv_fd < 0)
		die("accept: %s", strerror(-s->recv_fd));
	net_tune(s->send_fd, 0);
	net_tune(s->recv_fd, 0);
}

int main(int argc, char **argv)
{
	struct probe_opts o = { .cpu_a = -1, .cpu_b = -1, .threads = 1, .seconds_ms = 1000 };
	uint64_t start, end = 0, bytes = 0, i;
	struct stream *streams;
	uint8_t *image;
	struct net_addr addr;
	char text[64];
	struct json j;
	int lfd;

	probe_parse(argc, argv, "Bulk TCP loopback throughput over --threads connections.", &o);
	if (net_parse_addr("127.0.0.1:0", "127.0.0.1", &addr))
		die("bad address");
	lfd = net_listen(&addr, 64);
	if (lfd < 0)
		die("listen: %s", strerror(-lfd));
	snprintf(text, sizeof(text), "127.0.0.1:%d", net_local_port(lfd));
	if (net_parse_addr(text, "127.0.0.1", &addr))
		die("bad address");
	if (o.size && o.size < 2 * BUFFER_BYTES)
		die("--size: an image of at least %u bytes", 2 * BUFFER_BYTES);
	image = o.size ? make_image(o.size / 8 * 8) : NULL;
	streams = calloc(o.threads, sizeof(*streams));
	if (!streams)
		die("out of memory");
	for (i = 0; i < o.threads; i++)
		connect_pair(lfd, &addr, &streams[i]);
	start = clock_now_ns();
	for (i = 0; i < o.threads; i++) {
		struct stream *s = &streams[i];

		*s = (struct stream){ .send_fd = s->send_fd, .recv_fd = s->recv_fd,
				      .cpu_a = o.cpu_a, .cpu_b = o.cpu_b,
				      .stop_ns = start + o.seconds_ms * 1000000ull,
				      .image = image, .image_bytes = o.size / 8 * 8 };
		if (pthread_create(&s->receiver, NULL, receiver_main, s) ||
		    pthread_create(&s->sender, NULL, sender_main, s))
			die("cannot start the stream threads");
	}
	for (i = 0; i < o.threads; i++) {
		pthread_join(streams[i].sender, NULL);
		pthread_join(streams[i].receiver, NULL);
		bytes += streams[i].bytes;
		if (streams[i].end_ns > end)
			end = streams[i].end_ns;
		close(streams[i].send_fd);
		close(streams[i].recv_fd);
	}
	probe_json_begin(&j, "tcp_bulk", &o);
	json_kv_u64(&j, "connections", o.threads);
	json_kv_u64(&j, "image_bytes", image ? o.size / 8 * 8 : 0);
	json_kv_u64(&j, "bytes", bytes);
	json_kv_double(&j, "seconds", (double)(end - start) / 1e9, 4);
	json_kv_double(&j, "gbytes_per_s", (double)bytes / (double)(end - start), 3);
	probe_json_end(&j);
	free(streams);
	free(image);
	close(lfd);
	return 0;
}
