// SPDX-License-Identifier: GPL-2.0-only
/*
 * Admission of the right peer on a listening socket. Every connection is read side by side,
 * under its own deadline, until its hello is whole; a hello that is not right (another
 * protocol, no or the wrong token, another session), and a connection silent past its
 * deadline, are refused with an Error frame naming why and closed. Two admitted connections
 * of one session, one per channel, are the pair the caller gets; or one alone whose hello
 * says it carries both channels (v5). A stranger never takes the
 * migration's place, and a silent one never delays the real peer.
 */
#include "pager.h"
#include "handshake.h"
#include "clock.h"
#include "net.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connections whose hello is awaited at once; a flood past it drops the oldest first. */
#define ADMISSION_MAX_PENDING 16
#define NS_PER_MS 1000000ull
#define STOP_CHECK_MS 100

struct pending {
	int fd;
	uint64_t deadline; /* for its hello; once admitted, for its pair's other half */
	bool admitted;
	Wire__Channel channel;
	uint64_t session_id;
	size_t have;
	uint8_t frame[HELLO_FRAME_MAX];
};

struct admission {
	struct handshake *h;
	const struct admission_stop *stop;
	uint64_t accept_deadline; /* 0: none */
	struct wire_arena *arena;
	struct pending conn[ADMISSION_MAX_PENDING];
	unsigned int n;
};

/* "192.0.2.1:40000", for the log: who was refused. */
static void peer_name(int fd, char *out, size_t len)
{
	struct net_addr addr = { .len = sizeof(addr.ss) };

	if (getpeername(fd, (struct sockaddr *)&addr.ss, &addr.len))
		snprintf(out, len, "an unknown peer");
	else
		net_format_addr(&addr, out, len);
}

/*
 * Refuses and closes connection i. What the stranger sent past its hello is drained first:
 * closing with unread bytes would reset the connection and could lose the Error frame.
 */
static void refuse(struct admission *a, unsigned int i, Wire__ErrorCode code, const char *why)
{
	struct pending *c = &a->conn[i];
	char text[WIRE_MAX_ERROR_TEXT], scratch[4096], peer[64];

	peer_name(c->fd, peer, sizeof(peer));
	logger_msg(&a->h->log, code == WIRE__ERROR_CODE__ERROR_UNSPECIFIED ? PAGER_LOG_INFO
								      : PAGER_LOG_WARN,
		   "admission: refused the connection from %s: %s", peer, why);
	if (code != WIRE__ERROR_CODE__ERROR_UNSPECIFIED) {
		snprintf(text, sizeof(text), "connection refused: %s", why);
		/* Never block here: the socket's buffer takes a short frame at once. */
		handshake_refuse(c->fd, code, text, 0);
	}
	shutdown(c->fd, SHUT_WR);
	while (recv(c->fd, scratch, sizeof(scratch), MSG_DONTWAIT) > 0)
		;
	close(c->fd);
	a->conn[i] = a->conn[--a->n];
}

static void take(struct admission *a, int fd)
{
	if (a->n == ADMISSION_MAX_PENDING) {
		unsigned int i, oldest = 0;

		/* The oldest of those still silent; a half already admitted only if all are. */
		for (i = 1; i < a->n; i++)
			if (a->conn[i].admitted < a->conn[oldest].admitted ||
			    (a->conn[i].admitted == a->conn[oldest].admitted &&
			     a->conn[i].deadline < a->conn[oldest].deadline))
				oldest = i;
		refuse(a, oldest, WIRE__ERROR_CODE__ERROR_BUSY,
		       "too many connections awaiting their hello");
	}
	a->conn[a->n++] = (struct pending){
		.fd = fd,
		.deadline = clock_now_ns() + (uint64_t)a->h->timeout_ms * NS_PER_MS,
	};
}

/*
 * An admitted connection's other half, if it is here: its index; i itself for a connection
 * that is its whole session (BOTH); or -1.
 */
static int partner_of(const struct admission *a, unsigned int i)
{
	unsigned int j;

	if (a->conn[i].channel == WIRE__CHANNEL__CHANNEL_BOTH)
		return (int)i;
	for (j = 0; j < a->n; j++)
		if (j != i && a->conn[j].admitted &&
		    a->conn[j].session_id == a->conn[i].session_id &&
		    a->conn[j].channel != a->conn[i].channel &&
		    a->conn[j].channel != WIRE__CHANNEL__CHANNEL_BOTH)
			return (int)j;
	return -1;
}

/* Another admitted connection of i's session that i cannot pair with (the same channel). */
static bool duplicate_of_admitted(const struct admission *a, unsigned int i)
{
	unsigned int j;

	for (j = 0; j < a->n; j++)
		if (j != i && a->conn[j].admitted &&
		    a->conn[j].session_id == a->conn[i].session_id &&
		    a->conn[j].channel == a->conn[i].channel)
			return true;
	return false;
}

static const char *channel_word(Wire__Channel channel)
{
	return channel == WIRE__CHANNEL__CHANNEL_DEMAND ? "demand"
	       : channel == WIRE__CHANNEL__CHANNEL_PUSH ? "push"
							: "single";
}

/* The hello of connection i is whole: admitted, or refused. */
static void judge(struct admission *a, unsigned int i)
{
	struct pending *c = &a->conn[i];
	Wire__ErrorCode code;
	Wire__Hello hello;
	char why[WIRE_MAX_ERROR_TEXT];

	wire_arena_reset(a->arena);
	if (hello_frame_check(c->frame, c->have, a->arena, &a->h->hello, &hello, &code, why,
			      sizeof(why))) {
		refuse(a, i, code, why);
		return;
	}
	c->admitted = true;
	c->channel = hello.channel;
	c->session_id = hello.session_id;
	if (duplicate_of_admitted(a, i)) {
		snprintf(why, sizeof(why), "a second %s connection of session %016" PRIx64,
			 channel_word(hello.channel), hello.session_id);
		refuse(a, i, WIRE__ERROR_CODE__ERROR_SESSION, why);
		return;
	}
	/* A real peer opens its second connection at once. */
	c->deadline = clock_now_ns() + (uint64_t)a->h->timeout_ms * NS_PER_MS;
}

/* Reads what connection i has; judges its hello once whole. */
static void on_readable(struct admission *a, unsigned int i)
{
	struct pending *c = &a->conn[i];
	char why[WIRE_MAX_ERROR_TEXT];
	Wire__ErrorCode code;
	long missing;
	ssize_t n;

	if (c->admitted) {
		/* Admitted and waiting for its pair: it may only close, never speak first. */
		n = recv(c->fd, why, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n > 0)
			refuse(a, i, WIRE__ERROR_CODE__ERROR_PROTOCOL,
			       "bytes after the hello, before the answer");
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			refuse(a, i, WIRE__ERROR_CODE__ERROR_UNSPECIFIED,
			       "it closed before its other connection came");
		return;
	}
	missing = hello_frame_missing(c->frame, c->have, &code, why, sizeof(why));
	/* Exactly what the hello lacks: nothing past it is taken from the stream. */
	n = recv(c->fd, c->frame + c->have, (size_t)missing, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* Gone: nobody to tell. */
		refuse(a, i, WIRE__ERROR_CODE__ERROR_UNSPECIFIED, "it closed before its hello");
		return;
	}
	c->have += (size_t)n;
	missing = hello_frame_missing(c->frame, c->have, &code, why, sizeof(why));
	if (missing < 0)
		refuse(a, i, code, why);
	else if (missing == 0)
		judge(a, i);
}

static void expire(struct admission *a, uint64_t now)
{
	char why[WIRE_MAX_ERROR_TEXT];
	unsigned int i = 0;

	while (i < a->n) {
		struct pending *c = &a->conn[i];

		if (now < c->deadline) {
			i++;
			continue;
		}
		if (c->admitted)
			snprintf(why, sizeof(why), "the other connection of session %016" PRIx64
				 " did not come within %d ms", c->session_id, a->h->timeout_ms);
		else
			snprintf(why, sizeof(why), "no %shello within %d ms", c->have ? "whole " : "",
				 a->h->timeout_ms);
		refuse(a, i, WIRE__ERROR_CODE__ERROR_TIMEOUT, why);
	}
}

/*
 * A pair found (or one connection carrying both, i == j): fds in channel order, everyone else
 * told the place is taken.
 */
static void pair_up(struct admission *a, unsigned int i, unsigned int j, int fds[2])
{
	unsigned int demand = a->conn[i].channel == WIRE__CHANNEL__CHANNEL_PUSH ? j : i;

	fds[0] = a->conn[demand].fd;
	fds[1] = i == j ? -1 : a->conn[demand == i ? j : i].fd;
	a->h->hello.session_id = a->conn[i].session_id;
	a->conn[i].fd = a->conn[j].fd = -1;
	while (a->n) {
		if (a->conn[a->n - 1].fd < 0)
			a->n--;
		else
			refuse(a, a->n - 1, WIRE__ERROR_CODE__ERROR_BUSY,
			       "this end has taken its migration's connections");
	}
}

/*
 * Until the deadline, connections are accepted; past it, for one more hello's time while any
 * are pending (a silent stranger must not keep the real peer in the backlog), then no more.
 */
static bool accepting(const struct admission *a, uint64_t now)
{
	return !a->accept_deadline || now < a->accept_deadline ||
	       (a->n && now < a->accept_deadline + (uint64_t)a->h->timeout_ms * NS_PER_MS);
}

static int poll_timeout(const struct admission *a, uint64_t now)
{
	uint64_t next = accepting(a, now) && now < a->accept_deadline ? a->accept_deadline : 0;
	unsigned int i;

	for (i = 0; i < a->n; i++)
		if (!next || a->conn[i].deadline < next)
			next = a->conn[i].deadline;
	/* The owner's give-up condition is looked at every STOP_CHECK_MS. */
	if (a->stop && (!next || next > now + STOP_CHECK_MS * NS_PER_MS))
		next = now + STOP_CHECK_MS * NS_PER_MS;
	if (!next)
		return -1;
	return next <= now ? 0 : (int)((next - now + NS_PER_MS - 1) / NS_PER_MS);
}

/* One turn: wait for connections and bytes, take them; 1 once a pair formed. */
static int turn(struct admission *a, int listen_fd, int fds[2])
{
	struct pollfd pfd[ADMISSION_MAX_PENDING + 1];
	uint64_t now = clock_now_ns();
	unsigned int i, n = a->n;
	int ret, fd, other;

	for (i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = a->conn[i].fd, .events = POLLIN };
	pfd[n] = (struct pollfd){ .fd = accepting(a, now) ? listen_fd : -1, .events = POLLIN };
	ret = poll(pfd, n + 1, poll_timeout(a, now));
	if (ret < 0)
		return errno == EINTR ? 0 : -errno;
	/* From the last: refusing one moves the last connection into its slot. */
	for (i = n; i-- > 0;) {
		if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		on_readable(a, i);
		if (i < a->n && a->conn[i].fd == pfd[i].fd && a->conn[i].admitted &&
		    (other = partner_of(a, i)) >= 0) {
			pair_up(a, i, (unsigned int)other, fds);
			return 1;
		}
	}
	if (pfd[n].revents & POLLIN) {
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			take(a, fd);
	}
	expire(a, clock_now_ns());
	if (a->stop && a->stop->fn(a->stop->opaque))
		return -ECANCELED;
	return 0;
}

int admission_accept(int listen_fd, struct handshake *h, const struct admission_stop *stop,
		     int fds[2], int timeout_ms, char *err, size_t err_len)
{
	struct admission *a = calloc(1, sizeof(*a));
	int ret = 0;

	if (!a || !(a->arena = malloc(sizeof(*a->arena)))) {
		free(a);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	a->h = h;
	a->stop = stop;
	a->accept_deadline = timeout_ms < 0 ? 0 : clock_now_ns() + (uint64_t)timeout_ms * NS_PER_MS;
	wire_arena_init(a->arena);
	/* Past the deadline, only connections already taken go on, each to its own deadline. */
	while (!ret && (a->n || !a->accept_deadline || clock_now_ns() < a->accept_deadline))
		ret = turn(a, listen_fd, fds);
	if (ret == -ECANCELED)
		snprintf(err, err_len, "no longer waiting for connections");
	else if (ret < 0)
		snprintf(err, err_len, "waiting for connections: %s", strerror(-ret));
	else if (!ret)
		snprintf(err, err_len, "no %s within %d ms", h->hello.resume ? "resumed session"
			 : "session", timeout_ms);
	while (a->n)
		refuse(a, a->n - 1, WIRE__ERROR_CODE__ERROR_BUSY, "this end stopped waiting");
	free(a->arena);
	free(a);
	return ret < 0 ? ret : ret ? 0 : -ETIMEDOUT;
}

int pager_accept_session(int listen_fd, struct pager_handshake *hs, int *demand_fd,
			 int *push_fd, int timeout_ms, char *err, size_t err_len)
{
	struct handshake h;
	int fds[2], ret;

	ret = handshake_init(&h, hs, false, err, err_len);
	if (!ret)
		ret = admission_accept(listen_fd, &h, NULL, fds, timeout_ms, err, err_len);
	if (ret)
		return ret;
	ret = handshake_answer(fds[0], fds[1], &h, err, err_len);
	if (ret) {
		close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		return ret;
	}
	handshake_store_session(&h, hs);
	*demand_fd = fds[0];
	*push_fd = fds[1];
	return 0;
}
