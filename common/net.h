/* SPDX-License-Identifier: GPL-2.0-only */
/* TCP helpers: every socket the project opens goes through here (TCP_NODELAY, dead-peer bound). */
#ifndef COMMON_NET_H
#define COMMON_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* "host:port", "[v6]:port" or ":port" (then default_host). Returns 0 or -EINVAL. */
int net_parse_addr(const char *text, const char *default_host, struct net_addr *out);
void net_format_addr(const struct net_addr *addr, char *buf, size_t len);

int net_listen(const struct net_addr *addr, int backlog);
/* Bound port of a listening socket (for port 0). */
int net_local_port(int fd);
/*
 * Writes the listening port, for a script that started us on port 0, atomically (a reader
 * never sees a half-written file). 0 or -errno.
 */
int net_write_port_file(const char *path, int listen_fd);
/* Wait up to timeout_ms (-1: forever) for a connection. */
int net_accept(int listen_fd, int timeout_ms);
/* Retries refused connections until timeout_ms has passed. */
int net_connect(const struct net_addr *addr, int timeout_ms);

/*
 * TCP_NODELAY, and a bound on how long unacknowledged data may sit before the
 * kernel declares the peer dead (TCP_USER_TIMEOUT plus keepalive probes).
 */
int net_tune(int fd, unsigned int dead_peer_ms);

/* Blocking full transfers with an overall timeout (-1: none). 0, -ETIMEDOUT, -ECONNRESET, -errno. */
int net_read_full(int fd, void *buf, size_t len, int timeout_ms);
int net_write_full(int fd, const void *buf, size_t len, int timeout_ms);

/*
 * The same against an absolute deadline (CLOCK_MONOTONIC ns, 0: none), for a message made of
 * several parts: one deadline for all of them, so that a peer trickling bytes cannot stretch
 * a bound meant for the message into one bound per part.
 */
uint64_t net_deadline(int timeout_ms);
int net_read_until(int fd, void *buf, size_t len, uint64_t deadline_ns);
int net_write_until(int fd, const void *buf, size_t len, uint64_t deadline_ns);

#endif
