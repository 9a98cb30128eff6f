// SPDX-License-Identifier: GPL-2.0-only
/*
 * A misbehaving source, scripted frame by frame over real TCP: a wrong protocol version, a page
 * outside the layout, an oversized frame, an undecodable message. Each must end in a clear
 * error on the destination, an Error message back to the source naming the problem, and no
 * page installed from bad input.
 */
#include "check.h"
#include "harness.h"
#include "net.h"
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

enum misbehaviour { BAD_VERSION, PAGE_OUT_OF_RANGE, OVERSIZED_FRAME, UNDECODABLE_BODY };

static const struct {
	const char *name;
	const char *dest_error;   /* the destination's error must contain this */
	Wire__ErrorCode code;     /* the Error the source must get back */
} cases[] = {
	[BAD_VERSION] = { "wrong version", "version", WIRE__ERROR_CODE__ERROR_VERSION },
	[PAGE_OUT_OF_RANGE] = { "page outside the layout", "outside region", WIRE__ERROR_CODE__ERROR_RANGE },
	/* A stream whose framing is lost is taken for damaged: a reconnect would mend it. */
	[OVERSIZED_FRAME] = { "oversized frame", "oversized", WIRE__ERROR_CODE__ERROR_STREAM },
	[UNDECODABLE_BODY] = { "undecodable body", "undecodable", WIRE__ERROR_CODE__ERROR_STREAM },
};

#define REGION_SIZE (1u << 20)

static void send_hello(int fd, Wire__Channel channel, uint64_t session, uint32_t version)
{
	Wire__Hello h = WIRE__HELLO__INIT;

	h.magic = WIRE_MAGIC;
	h.version = version;
	h.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	h.channel = channel;
	h.session_id = session;
	check(!wire_send(fd, WIRE_HELLO, &h.base, 5000), "fake source: hello");
}

/* The fake source: a correct handshake up to the chosen misbehaviour, then listen for Error. */
static void fake_source(int lfd, enum misbehaviour bad)
{
	static struct wire_arena arena;
	Wire__Region region = WIRE__REGION__INIT, *regions[1] = { &region };
	Wire__MemoryLayout layout = WIRE__MEMORY_LAYOUT__INIT;
	Wire__PageHeader ph = WIRE__PAGE_HEADER__INIT;
	uint8_t frame[256];
	ProtobufCMessage *msg;
	unsigned int type;
	int fds[2], demand, push, i;
	uint64_t session = 0;
	ssize_t n;

	wire_arena_init(&arena);
	for (i = 0; i < 2; i++) {
		fds[i] = net_accept(lfd, 10000);
		check(fds[i] >= 0, "fake source: accept");
	}
	demand = fds[0];
	push = fds[1];
	for (i = 0; i < 2; i++) {
		check(!wire_recv(fds[i], &arena, &type, &msg, 5000) && type == WIRE_HELLO, "fake source: no hello");
		session = ((Wire__Hello *)msg)->session_id;
		if (((Wire__Hello *)msg)->channel == WIRE__CHANNEL__CHANNEL_PUSH)
			push = fds[i];
		else
			demand = fds[i];
	}
	send_hello(demand, WIRE__CHANNEL__CHANNEL_DEMAND, session,
		   bad == BAD_VERSION ? WIRE_VERSION + 1 : WIRE_VERSION);
	send_hello(push, WIRE__CHANNEL__CHANNEL_PUSH, session, WIRE_VERSION);
	if (bad != BAD_VERSION) {
		region.id = 0;
		region.size = REGION_SIZE;
		region.backing = WIRE__BACKING__BACKING_ANON;
		layout.n_regions = 1;
		layout.regions = regions;
		check(!wire_send(demand, WIRE_LAYOUT, &layout.base, 5000), "fake source: layout");
	}
	switch (bad) {
	case BAD_VERSION:
		break;
	case PAGE_OUT_OF_RANGE:
		ph.region = 0;
		ph.offset = REGION_SIZE; /* one page past the end */
		ph.length = (uint32_t)sysconf(_SC_PAGESIZE);
		ph.flags = WIRE_PAGE_FLAG_ZERO;
		n = wire_encode(WIRE_PAGE, &ph.base, frame, sizeof(frame));
		check(n > 0 && !net_write_full(push, frame, (size_t)n, 5000), "fake source: page");
		break;
	case OVERSIZED_FRAME:
		wire_frame_hdr_encode(frame, WIRE_PAGE_REQUEST, 1u << 30);
		check(!net_write_full(push, frame, WIRE_FRAME_HDR_SIZE, 5000), "fake source: frame");
		break;
	case UNDECODABLE_BODY:
		wire_frame_hdr_encode(frame, WIRE_PAGE, 6);
		memcpy(frame + WIRE_FRAME_HDR_SIZE, "\xff\xff\xff\xff\xff\xff", 6);
		check(!net_write_full(push, frame, WIRE_FRAME_HDR_SIZE + 6, 5000), "fake source: frame");
		break;
	}
	/* The destination must say why it stops. */
	check(!wire_recv(demand, &arena, &type, &msg, 10000), "fake source: no reply to %s", cases[bad].name);
	check(type == WIRE_ERROR, "fake source: got a %s message, expected an error", wire_type_name(type));
	check(((Wire__Error *)msg)->code == cases[bad].code, "fake source: error code %d for %s: %s",
	      ((Wire__Error *)msg)->code, cases[bad].name, ((Wire__Error *)msg)->text);
	printf("  source got error %d: %s\n", ((Wire__Error *)msg)->code, ((Wire__Error *)msg)->text);
	fflush(NULL);
	_exit(0);
}

static void run_case(enum misbehaviour bad)
{
	struct pager_options opts;
	struct pager_layout layout;
	struct net_addr addr;
	struct pager *p;
	char text[64], err[512];
	int lfd, port, fds[2], i, ret, status;
	uint8_t *mem;
	pid_t pid;

	printf("case: %s\n", cases[bad].name);
	check(!net_parse_addr("127.0.0.1:0", NULL, &addr), "addr");
	lfd = net_listen(&addr, 2);
	check(lfd >= 0, "listen");
	port = net_local_port(lfd);
	fflush(NULL);
	pid = fork();
	check(pid >= 0, "fork");
	if (!pid) {
		alarm(30);
		fake_source(lfd, bad);
	}
	close(lfd);
	snprintf(text, sizeof(text), "127.0.0.1:%d", port);
	check(!net_parse_addr(text, NULL, &addr), "addr");
	for (i = 0; i < 2; i++) {
		fds[i] = net_connect(&addr, 5000);
		check(fds[i] >= 0, "connect");
	}
	ret = pager_handshake_dest(&fds[0], &fds[1], true, 0, &layout, 5000, err, sizeof(err));
	if (bad == BAD_VERSION) {
		check(ret != 0, "a hello of a later version was accepted");
		printf("  destination: %s\n", err);
		check(strstr(err, cases[bad].dest_error), "error does not name the problem: %s", err);
	} else {
		check(!ret, "handshake: %s", err);
		pager_options_init(&opts);
		opts.reconnect_timeout_ms = 300; /* the fake source never comes back */
		check(!pager_create(&opts, &p), "pager_create");
		mem = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		check(mem != MAP_FAILED, "mmap");
		check(!pager_add_region(p, 0, mem, REGION_SIZE), "add region");
		check(!pager_start(p, fds[0], fds[1]), "start");
		ret = pager_wait(p, 10000);
		check(ret != 0 && ret != -ETIMEDOUT, "pager_wait %d for %s", ret, cases[bad].name);
		printf("  destination: %s\n", pager_error(p));
		check(strstr(pager_error(p), cases[bad].dest_error), "error does not name the problem: %s",
		      pager_error(p));
		check(pager_pages_missing(p) == REGION_SIZE / (uint64_t)sysconf(_SC_PAGESIZE),
		      "a page was installed from bad input");
		pager_destroy(p);
		fds[0] = fds[1] = -1;
		munmap(mem, REGION_SIZE);
	}
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	check(waitpid(pid, &status, 0) == pid, "waitpid");
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the fake source saw no proper error");
}

int main(void)
{
	test_time_bound(60);
	test_require_userfaultfd();
	run_case(BAD_VERSION);
	run_case(PAGE_OUT_OF_RANGE);
	run_case(OVERSIZED_FRAME);
	run_case(UNDECODABLE_BODY);
	printf("PASS: every misbehaviour ended in a clear error on both ends\n");
	return 0;
}
