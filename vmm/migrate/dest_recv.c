// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the destination reads from the source, step by step: the connections, the handshake,
 * the VM config and the pre-copy stream (the state: dest_state.c). Everything received is checked before it
 * is used; what is refused is refused on both ends (an Error to the source, the same words
 * in this session's failure). A source that gives up sends an Error: its text, verbatim, is
 * the failure.
 */
#include "dest.h"
#include "clock.h"
#include "log.h"
#include "net.h"
#include "state_codec.h"
#include "vm_config.h"
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * After the Error: no more sending, and what the source still sends is read and dropped until
 * it closes (at most a second). Closed with unread bytes, a socket resets the connection, and
 * a reset can overtake the Error in the source's receive queue: it would never read why.
 */
static void close_gently(struct dest_session *s)
{
	uint64_t deadline = clock_now_ns() + 1000000000ull;
	struct pollfd pfd[2];
	char sink[65536];
	int i, open_fds = 0;

	for (i = 0; i < 2; i++) {
		pfd[i] = (struct pollfd){ .fd = s->fds[i], .events = POLLIN };
		if (s->fds[i] >= 0 && !shutdown(s->fds[i], SHUT_WR))
			open_fds++;
		else
			pfd[i].fd = -1;
	}
	while (open_fds && clock_now_ns() < deadline) {
		if (poll(pfd, 2, 100) <= 0)
			continue;
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (read(pfd[i].fd, sink, sizeof(sink)) <= 0) {
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
}

int dest_refuse(struct dest_session *s, int code, int err, const char *fmt, ...)
{
	char text[WIRE_MAX_ERROR_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	wire_send_error(s->fds[0], (Wire__ErrorCode)code, text);
	close_gently(s);
	return dest_fail(s, MIG_EXIT_MIGRATION, err, "%s", text);
}

/* The source's Error frame: its text becomes the failure, as the source wrote it. */
static int source_failed(struct dest_session *s, size_t len)
{
	struct wire_arena *arena = malloc(sizeof(*arena));
	const Wire__Error *error = NULL;
	ProtobufCMessage *msg;
	int ret;

	if (!arena)
		return dest_fail(s, MIG_EXIT_MIGRATION, -ENOMEM, "the source sent an error");
	wire_arena_init(arena);
	if (!wire_decode(arena, WIRE_ERROR, s->rx_buf, len, &msg))
		error = (const Wire__Error *)msg;
	ret = dest_fail(s, MIG_EXIT_MIGRATION, -ECONNABORTED, "the source failed: %s",
			!error ? "(an undecodable error message)" : error->text ? error->text : "");
	free(arena);
	return ret;
}

int dest_recv_frame(struct dest_session *s, int timeout_ms, const char *expected,
		    unsigned int *type, size_t *len)
{
	int ret = wire_recv_raw(s->fds[0], type, s->rx_buf, VCPU_STATE_MAX_ENCODED, len,
				timeout_ms);

	if (ret == -ETIMEDOUT)
		return dest_refuse(s, WIRE__ERROR_CODE__ERROR_TIMEOUT, ret, "expected %s: nothing whole "
			      "within %d ms", expected, timeout_ms);
	if (ret)
		return dest_refuse(s, wire_error_code_for(ret), ret, "expected %s: %s", expected,
			      strerror(-ret));
	if (*type == WIRE_ERROR)
		return source_failed(s, *len);
	return 0;
}

int dest_accept(struct dest_session *s)
{
	const struct mig_dest_opts *o = s->o;
	struct net_addr addr;
	char text[128], err[512];
	int lfd, ret;

	if (net_parse_addr(o->listen, "127.0.0.1", &addr))
		return dest_fail(s, MIG_EXIT_SETUP, -EINVAL, "bad listen address '%s'", o->listen);
	/* Room in the backlog for the source while strangers are being refused. */
	lfd = net_listen(&addr, 16);
	if (lfd < 0)
		return dest_fail(s, MIG_EXIT_SETUP, lfd, "cannot listen on %s: %s", o->listen,
				 strerror(-lfd));
	/*
	 * One migration at a time, but the socket stays open: after a lost connection the source
	 * reconnects here, and only connections that resume this session are taken then.
	 */
	s->lfd = lfd;
	if (o->port_file) {
		ret = net_write_port_file(o->port_file, lfd);
		if (ret)
			return dest_fail(s, MIG_EXIT_SETUP, ret, "cannot write %s: %s",
					 o->port_file, strerror(-ret));
	}
	net_format_addr(&addr, text, sizeof(text));
	pr_info("waiting for a migration on %s (port %d)", text, net_local_port(lfd));
	s->hs = o->handshake;
	s->hs.timeout_ms = MIG_HANDSHAKE_TIMEOUT_MS;
	ret = pager_accept_session(lfd, &s->hs, &s->fds[0], &s->fds[1], o->accept_timeout_ms, err,
				   sizeof(err));
	if (ret == -ETIMEDOUT)
		return dest_fail(s, MIG_EXIT_SETUP, ret, "no source connected: %s", err);
	if (ret)
		return dest_fail(s, MIG_EXIT_MIGRATION, ret, "admitting the source: %s", err);
	s->connections = s->fds[1] < 0 ? 1 : 2;
	pr_info("source admitted, session %016" PRIx64 "%s", s->hs.session_id,
		s->connections == 1 ? ", demand and push on one connection" : "");
	return 0;
}

int dest_handshake(struct dest_session *s)
{
	char err[512];
	int ret;

	ret = pager_receive_layout(s->fds[0], &s->hs, &s->layout, err, sizeof(err));
	if (ret)
		return dest_fail(s, MIG_EXIT_MIGRATION, ret, "handshake: %s", err);
	return 0;
}

static bool layouts_equal(const struct pager_layout *a, const struct pager_layout *b)
{
	uint32_t i;

	if (a->n_regions != b->n_regions)
		return false;
	for (i = 0; i < a->n_regions; i++)
		if (a->regions[i].gpa != b->regions[i].gpa || a->regions[i].size != b->regions[i].size)
			return false;
	return true;
}

/* The memory the config implies must be the memory the source will serve. */
static int check_layout(struct dest_session *s)
{
	struct guest_region regions[GUEST_NR_REGIONS];
	struct pager_layout expected = { .n_regions = GUEST_NR_REGIONS };
	unsigned int i;

	guest_regions(&s->guest, regions);
	for (i = 0; i < GUEST_NR_REGIONS; i++)
		expected.regions[i] = (struct pager_region){ .id = i, .gpa = regions[i].gpa,
							     .size = regions[i].size };
	for (i = 0; i < s->layout.n_regions; i++) {
		enum pager_backing b = s->layout.regions[i].backing;

		if ((b != PAGER_BACKING_ANON && b != PAGER_BACKING_SHMEM &&
		     b != PAGER_BACKING_HUGETLB) ||
		    b != s->layout.regions[0].backing)
			return dest_refuse(s, WIRE__ERROR_CODE__ERROR_LAYOUT, -EOPNOTSUPP,
					   "memory layout refused: region %u has backing %d; this "
					   "destination takes anonymous (1), memfd (2) or hugetlb (3) "
					   "memory, the same for every region", i, (int)b);
	}
	if (layouts_equal(&expected, &s->layout))
		return 0;
	return dest_refuse(s, WIRE__ERROR_CODE__ERROR_LAYOUT, -EINVAL,
		      "memory layout refused: %u regions (first 0x%" PRIx64 "+0x%" PRIx64
		      "), the VM config needs %u (first 0x%" PRIx64 "+0x%" PRIx64 ")",
		      s->layout.n_regions, s->layout.regions[0].gpa, s->layout.regions[0].size,
		      expected.n_regions, expected.regions[0].gpa, expected.regions[0].size);
}

int dest_recv_config(struct dest_session *s)
{
	struct mig_vm_config cfg;
	unsigned int type;
	char err[256];
	size_t len;
	int ret;

	ret = dest_recv_frame(s, MIG_HANDSHAKE_TIMEOUT_MS, "the VM config after the layout", &type,
			 &len);
	if (ret)
		return ret;
	if (type != WIRE_VM_CONFIG)
		return dest_refuse(s, WIRE__ERROR_CODE__ERROR_PROTOCOL, -EPROTO,
			      "expected the VM config after the layout (%s)", wire_type_name(type));
	ret = mig_vm_config_decode(s->rx_buf, len, &cfg, err, sizeof(err));
	if (ret)
		return dest_refuse(s, ret == -EINVAL ? WIRE__ERROR_CODE__ERROR_LAYOUT
						: WIRE__ERROR_CODE__ERROR_PROTOCOL,
			      ret, "VM config refused: %s", err);
	s->guest = cfg.guest;
	s->irqchip = cfg.irqchip;
	return check_layout(s);
}

/*
 * Pre-copied pages go straight into the registered memory, discards drop the ones the guest
 * wrote again; the Switchover ends it with the source's memory digest (libpager checks and
 * refuses on both ends).
 */
int dest_recv_precopy(struct dest_session *s)
{
	struct pager_switchover sw;
	char err[WIRE_MAX_ERROR_TEXT];
	int ret;

	/* The guest still runs on the source: this phase lasts as long as it decides. */
	ret = pager_precopy_receive(s->pager, s->fds[0], s->o->timeout_ms, &sw, err, sizeof(err));
	if (ret)
		return dest_fail(s, MIG_EXIT_MIGRATION, ret, "%s", err);
	s->source_digest = sw.memory_digest;
	s->source_state_digest = sw.state_digest;
	return 0;
}
