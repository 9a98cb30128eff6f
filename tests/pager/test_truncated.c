// SPDX-License-Identifier: GPL-2.0-only
/*
 * A source that closes a connection in the middle of a large page frame (its header and half
 * its payload sent), over real TCP: the destination must take the connection as lost at once,
 * saying it ended mid-frame, never wait for the rest (nor for its silence bound, set far out
 * here), and install nothing of the frame. The handshake is the library's own on both ends;
 * the source then writes the bad frame by hand. Cases: on the demand connection, on the push
 * connection (installed by copy and by UFFDIO_MOVE), and on a session's only connection.
 */
#include "check.h"
#include "clock.h"
#include "net.h"
#include "pager.h"
#include "wire.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define REGION_SIZE (4u << 20)
#define RUN_PAGES 64u
#define SILENCE_MS 20000u  /* far past the bound below: the loss must not wait for it */
#define RECONNECT_MS 200u  /* the source never comes back */
#define LOSS_BOUND_MS 3000u

struct truncating_source {
	pthread_t thread;
	int lfd;
	bool on_push, one_connection;
	char err[512];
	int ret;
};

static uint8_t payload[RUN_PAGES * 4096];

/* A PageHeader for RUN_PAGES pages and half its payload, on fd. */
static void send_half_frame(int fd, uint32_t page_size)
{
	Wire__PageHeader ph = WIRE__PAGE_HEADER__INIT;
	uint8_t head[128];
	ssize_t n;

	ph.offset = 8 * page_size;
	ph.length = RUN_PAGES * page_size;
	memset(payload, 0x5a, sizeof(payload));
	ph.checksum = wire_page_checksum(0, ph.offset, ph.length, 0, payload, ph.length);
	n = wire_encode(WIRE_PAGE, &ph.base, head, sizeof(head));
	check(n > 0 && !net_write_full(fd, head, (size_t)n, 5000), "source: page header");
	check(!net_write_full(fd, payload, ph.length / 2, 5000), "source: half a payload");
}

static void *source_main(void *arg)
{
	struct truncating_source *s = arg;
	struct pager_layout layout = { .n_regions = 1,
				       .regions = { { .size = REGION_SIZE,
						      .backing = PAGER_BACKING_ANON } } };
	uint32_t page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	int fds[2] = { net_accept(s->lfd, 5000), -1 }, cut, keep;

	if (!s->one_connection)
		fds[1] = net_accept(s->lfd, 5000);
	check(fds[0] >= 0 && (s->one_connection || fds[1] >= 0), "source: accept");
	s->ret = pager_handshake_source(&fds[0], &fds[1], false, NULL, &layout, s->err,
					sizeof(s->err));
	check(!s->ret, "source: handshake: %s", s->err);
	cut = s->on_push ? fds[1] : fds[0];
	keep = s->on_push ? fds[0] : fds[1];
	send_half_frame(cut, page_size);
	close(cut);
	/* The other connection stays open and silent until the destination gives up. */
	if (keep >= 0) {
		char byte;

		while (recv(keep, &byte, 1, 0) > 0)
			;
		close(keep);
	}
	return NULL;
}

static void run_case(const char *name, bool on_push, bool one_connection, bool move)
{
	struct truncating_source s = { .on_push = on_push, .one_connection = one_connection };
	struct pager_layout layout;
	struct pager_options opts;
	struct net_addr addr;
	char text[64], err[512];
	uint64_t t0, ms;
	int fds[2] = { -1, -1 }, i, ret;
	struct pager *p;
	uint8_t *mem;

	printf("case: %s\n", name);
	check(!net_parse_addr("127.0.0.1:0", NULL, &addr), "addr");
	s.lfd = net_listen(&addr, 2);
	check(s.lfd >= 0, "listen");
	snprintf(text, sizeof(text), "127.0.0.1:%d", net_local_port(s.lfd));
	check(!net_parse_addr(text, NULL, &addr), "addr");
	check(!pthread_create(&s.thread, NULL, source_main, &s), "thread");
	for (i = 0; i < (one_connection ? 1 : 2); i++) {
		fds[i] = net_connect(&addr, 5000);
		check(fds[i] >= 0, "connect");
	}
	ret = pager_handshake_dest(&fds[0], &fds[1], true, NULL, &layout, err, sizeof(err));
	check(!ret, "handshake: %s", err);

	pager_options_init(&opts);
	opts.silence_timeout_ms = SILENCE_MS;
	opts.reconnect_timeout_ms = RECONNECT_MS;
	opts.install_move = move;
	check(!pager_create(&opts, &p), "pager_create");
	mem = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(mem != MAP_FAILED, "mmap");
	check(!pager_add_region(p, 0, mem, REGION_SIZE), "add region");
	t0 = clock_now_ns();
	check(!pager_start(p, fds[0], fds[1]), "start");
	ret = pager_wait(p, (int)LOSS_BOUND_MS + 5000);
	ms = (clock_now_ns() - t0) / 1000000;
	printf("  after %llu ms: %s\n", (unsigned long long)ms, pager_error(p));
	check(ret != 0 && ret != -ETIMEDOUT, "pager_wait %d: the truncated frame was not noticed",
	      ret);
	check(ms < LOSS_BOUND_MS, "the loss took %llu ms: it waited for the rest of the frame",
	      (unsigned long long)ms);
	check(strstr(pager_error(p), "in the middle of a frame") &&
	      strstr(pager_error(p), on_push ? "push connection" : "demand connection"),
	      "the error does not say the %s connection ended mid-frame: %s",
	      on_push ? "push" : "demand", pager_error(p));
	check(pager_pages_missing(p) == REGION_SIZE / (uint64_t)sysconf(_SC_PAGESIZE),
	      "a page of the truncated frame was installed");
	pager_destroy(p);
	pthread_join(s.thread, NULL);
	close(s.lfd);
	munmap(mem, REGION_SIZE);
}

int main(void)
{
	test_time_bound(60);
	test_require_userfaultfd();
	run_case("demand connection", false, false, false);
	run_case("push connection, copy", true, false, false);
	run_case("push connection, UFFDIO_MOVE", true, false, true);
	run_case("the only connection", false, true, false);
	printf("PASS: every truncated frame ended its connection at once, nothing installed\n");
	return 0;
}
