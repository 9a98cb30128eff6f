// SPDX-License-Identifier: GPL-2.0-only
#include "net.h"
#include "clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int net_parse_addr(const char *text, const char *default_host, struct net_addr *out)
{
	char host[256];
	const char *colon, *port_text;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	size_t host_len;
	char *end;
	long port;

	if (!text)
		return -EINVAL;
	colon = strrchr(text, ':');
	if (!colon)
		return -EINVAL;
	port_text = colon + 1;
	port = strtol(port_text, &end, 10);
	if (!*port_text || *end || port < 0 || port > 65535)
		return -EINVAL;
	host_len = colon - text;
	if (host_len && text[0] == '[' && text[host_len - 1] == ']') {
		text++;
		host_len -= 2;
	}
	if (!host_len) {
		snprintf(host, sizeof(host), "%s", default_host ? default_host : "127.0.0.1");
	} else {
		if (host_len >= sizeof(host))
			return -EINVAL;
		memcpy(host, text, host_len);
		host[host_len] = '\0';
	}
	if (getaddrinfo(host, port_text, &hints, &res) || !res)
		return -EINVAL;
	memcpy(&out->ss, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

void net_format_addr(const struct net_addr *addr, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (addr->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)&addr->ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%d", host, port);
	} else if (addr->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)&addr->ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, len, "[%s]:%d", host, port);
	} else {
		snprintf(buf, len, "?");
	}
}

int net_listen(const struct net_addr *addr, int backlog)
{
	int one = 1, fd, err;

	fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) || listen(fd, backlog)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int net_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EAFNOSUPPORT;
}

int net_write_port_file(const char *path, int listen_fd)
{
	char tmp[4096];
	FILE *f;
	int port = net_local_port(listen_fd), err;

	if (port < 0)
		return port;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", port);
	if (fclose(f) || rename(tmp, path)) {
		err = -errno;
		unlink(tmp);
		return err;
	}
	return 0;
}

int net_accept(int listen_fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
	int fd, n;

	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ETIMEDOUT;
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int net_connect(const struct net_addr *addr, int timeout_ms)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000ull;
	int fd, err;

	for (;;) {
		fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (const struct sockaddr *)&addr->ss, addr->len))
			return fd;
		err = -errno;
		close(fd);
		/* The peer may still be starting: retry refusals until the deadline. */
		if (err != -ECONNREFUSED || timeout_ms < 0 || clock_now_ns() >= deadline)
			return err;
		usleep(20000);
	}
}

int net_tune(int fd, unsigned int dead_peer_ms)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		return -errno;
	if (dead_peer_ms) {
		unsigned int user_timeout = dead_peer_ms;
		int idle = dead_peer_ms / 2000 ? (int)(dead_peer_ms / 2000) : 1;
		int interval = idle, count = 2;

		if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout)) ||
		    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) ||
		    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) ||
		    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval)) ||
		    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count)))
			return -errno;
	}
	return 0;
}

static int net_wait(int fd, short events, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int timeout = -1, n;

	if (deadline) {
		uint64_t now = clock_now_ns();

		if (now >= deadline)
			return -ETIMEDOUT;
		timeout = (int)((deadline - now + 999999) / 1000000);
	}
	n = poll(&pfd, 1, timeout);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

uint64_t net_deadline(int timeout_ms)
{
	return timeout_ms < 0 ? 0 : clock_now_ns() + (uint64_t)timeout_ms * 1000000ull;
}

int net_read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	return net_read_until(fd, buf, len, net_deadline(timeout_ms));
}

int net_write_full(int fd, const void *buf, size_t len, int timeout_ms)
{
	return net_write_until(fd, buf, len, net_deadline(timeout_ms));
}

int net_read_until(int fd, void *buf, size_t len, uint64_t deadline)
{
	char *p = buf;
	int err;

	while (len) {
		ssize_t n = recv(fd, p, len, MSG_DONTWAIT);

		if (n > 0) {
			p += n;
			len -= n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		err = net_wait(fd, POLLIN, deadline);
		if (err)
			return err;
	}
	return 0;
}

int net_write_until(int fd, const void *buf, size_t len, uint64_t deadline)
{
	const char *p = buf;
	int err;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n >= 0) {
			p += n;
			len -= n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return errno == EPIPE ? -ECONNRESET : -errno;
		err = net_wait(fd, POLLOUT, deadline);
		if (err)
			return err;
	}
	return 0;
}
