// SPDX-License-Identifier: GPL-2.0-only
/*
 * Admission on a listening socket (pager_accept_session(), pager_accept_resume()) against
 * strangers on real TCP, each a thread that connects, sends what it sends and reads the
 * answer:
 * - a silent stranger and a trickling one connect first; the real source, connecting after
 *   them with the token, is admitted at once, and the strangers are refused (BUSY);
 * - a silent stranger taken just before the deadline does not keep out the real source
 *   coming just after it (a reconnect loop's short waits);
 * - a hello trickled a byte every 200 ms is refused (TIMEOUT) when its one deadline passes,
 *   not later;
 * - a second demand connection of a session is refused (SESSION);
 * - a source on one connection carrying both channels (v5) is admitted alone, while a demand
 *   connection of its session waits for a push half that never comes (refused BUSY);
 * - while resuming session S: a resume of another session, a new session, and a resume of S
 *   with the wrong token are each refused with an Error naming why.
 */
#include "check.h"
#include "clock.h"
#include "net.h"
#include "pager.h"
#include "wire.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TOKEN "admission-test-token-0123456789"
#define HELLO_MS 1000

struct stranger {
	pthread_t thread;
	const struct net_addr *addr;
	Wire__Channel channel;
	uint64_t session;
	bool resume, silent;
	const char *token;
	unsigned int trickle_ms; /* > 0: one byte of the hello at a time */
	/* what came back */
	int code; /* -1: nothing */
	char text[WIRE_MAX_ERROR_TEXT + 1];
	uint64_t answered_ms; /* after connecting */
};

static size_t encode_hello(const struct stranger *s, uint8_t *frame, size_t cap)
{
	Wire__Hello h = WIRE__HELLO__INIT;
	ssize_t n;

	h.magic = WIRE_MAGIC;
	h.version = WIRE_VERSION;
	h.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	h.channel = s->channel;
	h.session_id = s->session;
	h.resume = s->resume;
	h.token.data = (uint8_t *)s->token;
	h.token.len = strlen(s->token);
	n = wire_encode(WIRE_HELLO, &h.base, frame, cap);
	check(n > 0, "encode hello");
	return (size_t)n;
}

static void *stranger_main(void *arg)
{
	static __thread struct wire_arena arena;
	struct stranger *s = arg;
	uint8_t frame[256];
	ProtobufCMessage *msg;
	unsigned int type;
	size_t len = encode_hello(s, frame, sizeof(frame)), i;
	uint64_t start;
	int fd = net_connect(s->addr, 5000);

	check(fd >= 0, "stranger: connect");
	start = clock_now_ns();
	s->code = -1;
	for (i = 0; !s->silent && i < len; i += s->trickle_ms ? 1 : len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		/* Between two bytes, stop as soon as the answer comes. */
		if (s->trickle_ms && poll(&pfd, 1, (int)s->trickle_ms) > 0)
			break;
		if (net_write_full(fd, frame + i, s->trickle_ms ? 1 : len, 1000))
			break;
	}
	wire_arena_init(&arena);
	if (!wire_recv(fd, &arena, &type, &msg, 15000) && type == WIRE_ERROR) {
		s->code = ((Wire__Error *)msg)->code;
		snprintf(s->text, sizeof(s->text), "%s", ((Wire__Error *)msg)->text);
	}
	s->answered_ms = (clock_now_ns() - start) / 1000000;
	close(fd);
	return NULL;
}

static void start(struct stranger *s, const struct net_addr *addr)
{
	s->addr = addr;
	if (!s->token)
		s->token = TOKEN;
	check(!pthread_create(&s->thread, NULL, stranger_main, s), "thread");
}

static void expect(struct stranger *s, const char *name, int code, const char *words)
{
	pthread_join(s->thread, NULL);
	printf("  %s: Error %d after %llu ms: %s\n", name, s->code,
	       (unsigned long long)s->answered_ms, s->text);
	check(s->code == code && strstr(s->text, words), "%s: expected Error %d naming '%s'",
	      name, code, words);
}

static int listen_local(struct net_addr *addr)
{
	char text[64];
	int lfd;

	check(!net_parse_addr("127.0.0.1:0", NULL, addr), "addr");
	lfd = net_listen(addr, 16);
	check(lfd >= 0, "listen");
	snprintf(text, sizeof(text), "127.0.0.1:%d", net_local_port(lfd));
	check(!net_parse_addr(text, NULL, addr), "addr");
	return lfd;
}

static void handshake_init_token(struct pager_handshake *hs)
{
	pager_handshake_init(hs);
	hs->token = TOKEN;
	hs->token_len = strlen(TOKEN);
	hs->timeout_ms = HELLO_MS;
}

struct real_source {
	pthread_t thread;
	const struct net_addr *addr;
	bool one_connection; /* demand and push on one (channel BOTH) */
	uint64_t session;    /* 0: a random one */
	int ret;
	char err[512];
};

static void *real_source_main(void *arg)
{
	struct real_source *r = arg;
	struct pager_handshake hs;
	struct pager_layout layout = { .n_regions = 1, .regions = { { .size = 1 << 20,
								     .backing = PAGER_BACKING_ANON } } };
	int fds[2] = { net_connect(r->addr, 5000),
		       r->one_connection ? -1 : net_connect(r->addr, 5000) };

	handshake_init_token(&hs);
	hs.session_id = r->session;
	r->ret = pager_handshake_source(&fds[0], &fds[1], true, &hs, &layout, r->err,
					sizeof(r->err));
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return NULL;
}

static void *real_source_after_delay(void *arg)
{
	usleep(300 * 1000);
	return real_source_main(arg);
}

static void strangers_first(void)
{
	struct stranger silent = { .silent = true, .channel = WIRE__CHANNEL__CHANNEL_DEMAND };
	struct stranger slow = { .trickle_ms = 200, .channel = WIRE__CHANNEL__CHANNEL_DEMAND };
	struct real_source real = { 0 };
	struct pager_handshake hs;
	struct pager_layout layout;
	struct net_addr addr;
	char err[512];
	int lfd = listen_local(&addr), fds[2];
	uint64_t t0;

	printf("strangers first, then the real source\n");
	start(&silent, &addr);
	start(&slow, &addr);
	usleep(100 * 1000);
	real.addr = &addr;
	t0 = clock_now_ns();
	check(!pthread_create(&real.thread, NULL, real_source_main, &real), "thread");
	handshake_init_token(&hs);
	check(!pager_accept_session(lfd, &hs, &fds[0], &fds[1], 5000, err, sizeof(err)),
	      "admission: %s", err);
	check((clock_now_ns() - t0) / 1000000 < 500, "the real source waited behind strangers");
	check(!pager_receive_layout(fds[0], &hs, &layout, err, sizeof(err)), "layout: %s", err);
	pthread_join(real.thread, NULL);
	check(!real.ret, "the real source: %s", real.err);
	expect(&silent, "silent", WIRE__ERROR_CODE__ERROR_BUSY, "taken");
	expect(&slow, "trickling", WIRE__ERROR_CODE__ERROR_BUSY, "taken");
	close(fds[0]);
	close(fds[1]);
	close(lfd);
}

/*
 * As a reconnect loop polls (a short wait, again and again): a silent stranger taken just
 * before the deadline must not keep the real source, coming just after it, in the backlog.
 */
static void real_source_after_the_deadline(void)
{
	struct stranger silent = { .silent = true, .channel = WIRE__CHANNEL__CHANNEL_DEMAND };
	struct real_source real = { 0 };
	struct pager_handshake hs;
	struct net_addr addr;
	char err[512];
	int lfd = listen_local(&addr), fds[2];

	printf("a silent stranger, then the real source just past the deadline\n");
	start(&silent, &addr);
	real.addr = &addr;
	handshake_init_token(&hs);
	check(!pthread_create(&real.thread, NULL, real_source_after_delay, &real), "thread");
	check(!pager_accept_session(lfd, &hs, &fds[0], &fds[1], 100, err, sizeof(err)),
	      "the real source was kept out: %s", err);
	close(fds[0]); /* no layout: the source's handshake fails, as it may here */
	close(fds[1]);
	pthread_join(real.thread, NULL);
	expect(&silent, "silent", WIRE__ERROR_CODE__ERROR_BUSY, "taken");
	close(lfd);
}

static void trickled_hello_times_out(void)
{
	struct stranger slow = { .trickle_ms = 200, .channel = WIRE__CHANNEL__CHANNEL_DEMAND };
	struct pager_handshake hs;
	struct net_addr addr;
	char err[512];
	int lfd = listen_local(&addr), fds[2];

	printf("a hello trickled a byte every 200 ms, %d ms for the whole of it\n", HELLO_MS);
	start(&slow, &addr);
	handshake_init_token(&hs);
	check(pager_accept_session(lfd, &hs, &fds[0], &fds[1], 500, err, sizeof(err)) ==
	      -ETIMEDOUT, "admitted a trickled hello");
	expect(&slow, "trickling", WIRE__ERROR_CODE__ERROR_TIMEOUT, "no whole hello within 1000 ms");
	check(slow.answered_ms >= HELLO_MS - 100 && slow.answered_ms < HELLO_MS + 400,
	      "refused after %llu ms", (unsigned long long)slow.answered_ms);
	close(lfd);
}

static void second_demand_refused(void)
{
	struct stranger a = { .channel = WIRE__CHANNEL__CHANNEL_DEMAND, .session = 5 };
	struct stranger b = { .channel = WIRE__CHANNEL__CHANNEL_DEMAND, .session = 5 };
	struct pager_handshake hs;
	struct net_addr addr;
	char err[512];
	int lfd = listen_local(&addr), fds[2];

	printf("two demand connections of one session\n");
	start(&a, &addr);
	usleep(100 * 1000);
	start(&b, &addr);
	handshake_init_token(&hs);
	check(pager_accept_session(lfd, &hs, &fds[0], &fds[1], 500, err, sizeof(err)) ==
	      -ETIMEDOUT, "a pair of two demand connections");
	expect(&b, "second demand", WIRE__ERROR_CODE__ERROR_SESSION, "a second demand connection");
	expect(&a, "first demand", WIRE__ERROR_CODE__ERROR_TIMEOUT, "other connection of session");
	close(lfd);
}

static void one_connection_admitted(void)
{
	struct stranger half = { .channel = WIRE__CHANNEL__CHANNEL_DEMAND, .session = 7 };
	struct real_source real = { .one_connection = true, .session = 7 };
	struct pager_handshake hs;
	struct pager_layout layout;
	struct net_addr addr;
	char err[512];
	int lfd = listen_local(&addr), fds[2];

	printf("one connection for both channels, beside half a pair of its session\n");
	start(&half, &addr);
	usleep(100 * 1000);
	real.addr = &addr;
	check(!pthread_create(&real.thread, NULL, real_source_main, &real), "thread");
	handshake_init_token(&hs);
	check(!pager_accept_session(lfd, &hs, &fds[0], &fds[1], 5000, err, sizeof(err)),
	      "admission: %s", err);
	check(fds[1] == -1 && hs.session_id == 7, "admitted push fd %d, session %llx", fds[1],
	      (unsigned long long)hs.session_id);
	check(!pager_receive_layout(fds[0], &hs, &layout, err, sizeof(err)), "layout: %s", err);
	check(layout.n_regions == 1 && layout.regions[0].size == 1 << 20, "the layout differs");
	pthread_join(real.thread, NULL);
	check(!real.ret, "the real source: %s", real.err);
	expect(&half, "half a pair", WIRE__ERROR_CODE__ERROR_BUSY, "taken");
	close(fds[0]);
	close(lfd);
}

static void resume_strangers(void)
{
	struct stranger other = { .channel = WIRE__CHANNEL__CHANNEL_DEMAND, .session = 0x99,
				  .resume = true };
	struct stranger fresh = { .channel = WIRE__CHANNEL__CHANNEL_PUSH, .session = 0x1234 };
	struct stranger forger = { .channel = WIRE__CHANNEL__CHANNEL_DEMAND, .session = 0x1234,
				   .resume = true, .token = "a-guessed-token-0123456789" };
	struct pager_handshake hs;
	struct net_addr addr;
	struct pager *p;
	char err[512];
	int lfd = listen_local(&addr);

	printf("strangers while session 1234 is to be resumed\n");
	check(!pager_create(NULL, &p), "pager_create");
	start(&other, &addr);
	start(&fresh, &addr);
	start(&forger, &addr);
	handshake_init_token(&hs);
	hs.session_id = 0x1234;
	check(pager_accept_resume(p, lfd, &hs, 500, err, sizeof(err)) == -ETIMEDOUT,
	      "a stranger was taken for the session: %s", err);
	expect(&other, "another session", WIRE__ERROR_CODE__ERROR_SESSION,
	       "this end resumes session 0000000000001234");
	expect(&fresh, "a new session", WIRE__ERROR_CODE__ERROR_SESSION,
	       "awaits connections resuming session");
	expect(&forger, "wrong token", WIRE__ERROR_CODE__ERROR_TOKEN, "wrong session token");
	pager_destroy(p);
	close(lfd);
}

int main(void)
{
	test_time_bound(60);
	test_require_userfaultfd();
	strangers_first();
	real_source_after_the_deadline();
	one_connection_admitted();
	trickled_hello_times_out();
	second_demand_refused();
	resume_strangers();
	printf("PASS: strangers refused with their reasons, the real source admitted at once\n");
	return 0;
}
