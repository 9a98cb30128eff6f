// SPDX-License-Identifier: GPL-2.0-only
/*
 * A misbehaving source, scripted frame by frame over real TCP, at every step: its hello (a
 * wrong version, the wrong token or session, an undecodable one, none at all), its layout
 * (none, another message, overlapping regions, more memory than the destination accepts),
 * and its pages (outside the layout, an oversized frame, an undecodable message). Each must
 * end in a clear error on the destination, an Error message back to the source naming the
 * problem, and no page installed from bad input.
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

enum misbehaviour {
	BAD_VERSION, WRONG_TOKEN, WRONG_SESSION, UNDECODABLE_HELLO, SILENT_HELLO,
	SILENT_LAYOUT, NOT_A_LAYOUT, OVERLAPPING_LAYOUT, LAYOUT_TOO_BIG,
	PAGE_OUT_OF_RANGE, OVERSIZED_FRAME, UNDECODABLE_BODY, N_CASES
};
enum phase { AT_HELLO, AT_LAYOUT, WHILE_PAGING };

static const struct {
	const char *name;
	enum phase phase;
	const char *dest_error;   /* the destination's error must contain this */
	Wire__ErrorCode code;     /* the Error the source must get back... */
	const char *source_error; /* ...naming this */
} cases[N_CASES] = {
	[BAD_VERSION] = { "wrong version", AT_HELLO, "version", WIRE__ERROR_CODE__ERROR_VERSION,
			  "version 5" },
	[WRONG_TOKEN] = { "wrong token", AT_HELLO, "wrong session token",
			  WIRE__ERROR_CODE__ERROR_TOKEN, "wrong session token" },
	[WRONG_SESSION] = { "another session", AT_HELLO, "session",
			    WIRE__ERROR_CODE__ERROR_SESSION, "this end serves session" },
	[UNDECODABLE_HELLO] = { "undecodable hello", AT_HELLO, "undecodable hello",
				WIRE__ERROR_CODE__ERROR_PROTOCOL, "undecodable hello" },
	[SILENT_HELLO] = { "no hello", AT_HELLO, "no hello within 1000 ms",
			   WIRE__ERROR_CODE__ERROR_TIMEOUT, "no hello within 1000 ms" },
	[SILENT_LAYOUT] = { "no layout", AT_LAYOUT, "no memory layout within 1000 ms",
			    WIRE__ERROR_CODE__ERROR_TIMEOUT, "no memory layout within" },
	[NOT_A_LAYOUT] = { "another message for the layout", AT_LAYOUT,
			   "expected the memory layout, got a page-request",
			   WIRE__ERROR_CODE__ERROR_PROTOCOL, "expected the memory layout" },
	[OVERLAPPING_LAYOUT] = { "overlapping regions", AT_LAYOUT, "overlap",
				 WIRE__ERROR_CODE__ERROR_LAYOUT, "memory layout refused" },
	[LAYOUT_TOO_BIG] = { "more memory than accepted", AT_LAYOUT, "this destination accepts",
			     WIRE__ERROR_CODE__ERROR_LAYOUT, "4.0 MiB (4194304 bytes)" },
	[PAGE_OUT_OF_RANGE] = { "page outside the layout", WHILE_PAGING, "outside region",
				WIRE__ERROR_CODE__ERROR_RANGE, "outside region" },
	/* A stream whose framing is lost is taken for damaged: a reconnect would mend it. */
	[OVERSIZED_FRAME] = { "oversized frame", WHILE_PAGING, "oversized",
			      WIRE__ERROR_CODE__ERROR_STREAM, "oversized" },
	[UNDECODABLE_BODY] = { "undecodable body", WHILE_PAGING, "undecodable",
			       WIRE__ERROR_CODE__ERROR_STREAM, "undecodable" },
};

#define REGION_SIZE (1u << 20)
#define TOKEN "bad-source-test-token-0123456789"

static void send_hello(int fd, Wire__Channel channel, uint64_t session, uint32_t version,
		       const char *token)
{
	Wire__Hello h = WIRE__HELLO__INIT;

	h.magic = WIRE_MAGIC;
	h.version = version;
	h.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	h.channel = channel;
	h.session_id = session;
	h.token.data = (uint8_t *)token;
	h.token.len = strlen(token);
	check(!wire_send(fd, WIRE_HELLO, &h.base, 5000), "fake source: hello");
}

static void send_raw(int fd, enum wire_type type, uint32_t len, const void *body, size_t n)
{
	uint8_t frame[WIRE_FRAME_HDR_SIZE + 64];

	wire_frame_hdr_encode(frame, type, len);
	memcpy(frame + WIRE_FRAME_HDR_SIZE, body, n);
	check(!net_write_full(fd, frame, WIRE_FRAME_HDR_SIZE + n, 5000), "fake source: frame");
}

/* n regions of `size` bytes each, `step` bytes apart. */
static void send_layout(int fd, unsigned int n, uint64_t size, uint64_t step)
{
	static Wire__Region regions[WIRE_MAX_REGIONS];
	static Wire__Region *ptrs[WIRE_MAX_REGIONS];
	Wire__MemoryLayout layout = WIRE__MEMORY_LAYOUT__INIT;
	unsigned int i;

	for (i = 0; i < n; i++) {
		wire__region__init(&regions[i]);
		regions[i].id = i;
		regions[i].guest_phys_addr = i * step;
		regions[i].size = size;
		regions[i].backing = WIRE__BACKING__BACKING_ANON;
		ptrs[i] = &regions[i];
	}
	layout.n_regions = n;
	layout.regions = ptrs;
	check(!wire_send(fd, WIRE_LAYOUT, &layout.base, 5000), "fake source: layout");
}

/* The answering hellos, wrong where the case says so. */
static void answer_hellos(int demand, int push, uint64_t session, enum misbehaviour bad)
{
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	switch (bad) {
	case SILENT_HELLO:
		return;
	case UNDECODABLE_HELLO:
		send_raw(demand, WIRE_HELLO, sizeof(garbage), garbage, sizeof(garbage));
		return;
	default:
		send_hello(demand, WIRE__CHANNEL__CHANNEL_DEMAND,
			   bad == WRONG_SESSION ? session + 1 : session,
			   bad == BAD_VERSION ? WIRE_VERSION + 1 : WIRE_VERSION,
			   bad == WRONG_TOKEN ? "another-token-0123456789" : TOKEN);
		send_hello(push, WIRE__CHANNEL__CHANNEL_PUSH, session, WIRE_VERSION, TOKEN);
	}
}

static void misbehave(int demand, int push, enum misbehaviour bad)
{
	Wire__PageHeader ph = WIRE__PAGE_HEADER__INIT;
	Wire__PageRequest req = WIRE__PAGE_REQUEST__INIT;
	uint8_t frame[256];
	ssize_t n;

	switch (bad) {
	case NOT_A_LAYOUT:
		req.count = 1;
		check(!wire_send(demand, WIRE_PAGE_REQUEST, &req.base, 5000), "fake source: request");
		return;
	case OVERLAPPING_LAYOUT:
		send_layout(demand, 2, REGION_SIZE, REGION_SIZE / 2);
		return;
	case LAYOUT_TOO_BIG:
		send_layout(demand, WIRE_MAX_REGIONS, 1ull << 46, 1ull << 46);
		return;
	case PAGE_OUT_OF_RANGE:
	case OVERSIZED_FRAME:
	case UNDECODABLE_BODY:
		send_layout(demand, 1, REGION_SIZE, 0);
		break;
	default:
		return; /* nothing more: the destination is waiting in vain */
	}
	if (bad == PAGE_OUT_OF_RANGE) {
		ph.offset = REGION_SIZE; /* one page past the end */
		ph.length = (uint32_t)sysconf(_SC_PAGESIZE);
		ph.flags = WIRE_PAGE_FLAG_ZERO;
		n = wire_encode(WIRE_PAGE, &ph.base, frame, sizeof(frame));
		check(n > 0 && !net_write_full(push, frame, (size_t)n, 5000), "fake source: page");
	} else if (bad == OVERSIZED_FRAME) {
		send_raw(push, WIRE_PAGE_REQUEST, 1u << 30, NULL, 0);
	} else {
		send_raw(push, WIRE_PAGE, 6, "\xff\xff\xff\xff\xff\xff", 6);
	}
}

/* The fake source: a correct exchange up to the chosen misbehaviour, then listen for Error. */
static void fake_source(int lfd, enum misbehaviour bad)
{
	static struct wire_arena arena;
	const Wire__Error *e;
	ProtobufCMessage *msg;
	unsigned int type;
	int fds[2], demand, push, i;
	uint64_t session = 0;

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
	answer_hellos(demand, push, session, bad);
	if (cases[bad].phase != AT_HELLO)
		misbehave(demand, push, bad);
	/* The destination must say why it stops. */
	check(!wire_recv(demand, &arena, &type, &msg, 10000), "fake source: no reply to %s", cases[bad].name);
	check(type == WIRE_ERROR, "fake source: got a %s message, expected an error", wire_type_name(type));
	e = (const Wire__Error *)msg;
	check(e->code == cases[bad].code && strstr(e->text, cases[bad].source_error),
	      "fake source: error code %d for %s: %s", e->code, cases[bad].name, e->text);
	printf("  source got error %d: %s\n", e->code, e->text);
	fflush(NULL);
	_exit(0);
}

/* The destination's pager on the handshaken sockets: it must fail, having installed nothing. */
static void run_pager(enum misbehaviour bad, int fds[2])
{
	struct pager_options opts;
	struct pager *p;
	uint8_t *mem;
	int ret;

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

static void run_case(enum misbehaviour bad)
{
	struct pager_handshake hs;
	struct pager_layout layout;
	struct net_addr addr;
	char text[64], err[512];
	int lfd, port, fds[2], i, ret, status;
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
	pager_handshake_init(&hs);
	hs.token = TOKEN;
	hs.token_len = strlen(TOKEN);
	hs.timeout_ms = 1000;
	hs.max_memory = 4u << 20;
	ret = pager_handshake_dest(&fds[0], &fds[1], true, &hs, &layout, err, sizeof(err));
	if (cases[bad].phase != WHILE_PAGING) {
		check(ret != 0, "the handshake went through %s", cases[bad].name);
		printf("  destination: %s\n", err);
		check(strstr(err, cases[bad].dest_error), "error does not name the problem: %s", err);
	} else {
		check(!ret, "handshake: %s", err);
		run_pager(bad, fds);
	}
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	check(waitpid(pid, &status, 0) == pid, "waitpid");
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the fake source saw no proper error");
}

int main(void)
{
	int bad;

	test_time_bound(90);
	test_require_userfaultfd();
	for (bad = 0; bad < N_CASES; bad++)
		run_case((enum misbehaviour)bad);
	printf("PASS: every misbehaviour ended in a clear error on both ends\n");
	return 0;
}
