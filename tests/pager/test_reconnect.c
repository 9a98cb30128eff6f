// SPDX-License-Identifier: GPL-2.0-only
/*
 * Recovery after lost connections, over real TCP and a real userfaultfd: a source thread
 * serves a pattern image; the destination's threads fault pages in; a cutter destroys both
 * connections at set points (shutdown() on the source's sockets: both ends see the loss).
 * The source redials, both resume the session, and the migration completes: every page equal
 * to the source's, each fault answered with the right data, no present page sent again.
 * Both ends carry a session token; the destination admits the source with
 * pager_accept_session() and every resume with pager_accept_resume().
 * Cases: demand only with three cuts; push and demand with three cuts; push and demand on one
 * connection carrying both channels (protocol v5), three cuts, each resumed on one connection.
 */
#include "check.h"
#include "clock.h"
#include "net.h"
#include "pager.h"
#include "pattern.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#define SIZE (32ull << 20)
#define CUTS 3
#define TOUCHERS 2

static const struct pattern pattern = { .seed = 42, .zero_every = 7 };
static const char token[] = "reconnect-test-token-0123456789";

struct run {
	bool push;
	int connections; /* 2, or 1 carrying both channels */
	uint64_t page_size, pages;
	uint8_t *image, *mem;
	int lfd;
	struct net_addr addr;
	struct pager_handshake src_hs, dst_hs; /* the token; each end's session, once known */

	/* the source thread's sockets, for the cutter */
	pthread_mutex_t lock;
	int src_fds[2];
	struct pager_source *src;
	int serve_result;

	struct pager *pager;
	bool done;
	unsigned int cuts;
};

static void source_connect(struct run *r, int fds[2])
{
	int i;

	fds[1] = -1;
	for (i = 0; i < r->connections; i++) {
		fds[i] = net_connect(&r->addr, 5000);
		check(fds[i] >= 0, "source: connect: %s", strerror(-fds[i]));
	}
}

static void publish_fds(struct run *r, const int fds[2])
{
	pthread_mutex_lock(&r->lock);
	r->src_fds[0] = fds[0];
	r->src_fds[1] = fds[1];
	pthread_mutex_unlock(&r->lock);
}

/* Serves; after a lost connection redials and resumes, as vmm-source does. */
static void *source_main(void *arg)
{
	struct run *r = arg;
	char err[512];
	int fds[2], ret;

	for (;;) {
		ret = pager_source_serve(r->src, fds[0] = r->src_fds[0], fds[1] = r->src_fds[1]);
		if (ret != -ENOTCONN)
			break;
		publish_fds(r, (int[]){ -1, -1 });
		close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
		ret = pager_source_redial(r->src, (const struct sockaddr *)&r->addr.ss, r->addr.len,
					  &r->src_hs, 5000, &fds[0], &fds[1], err, sizeof(err));
		check(!ret, "source: redial: %s", err);
		check((fds[1] < 0) == (r->connections == 1), "source: redialled %s connections",
		      fds[1] < 0 ? "one" : "two");
		publish_fds(r, fds);
	}
	r->serve_result = ret;
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return NULL;
}

/* The destination's side of recovery: new connections go to pager_resume(). */
static void *reconnect_main(void *arg)
{
	struct run *r = arg;
	char err[512];
	int ret;

	while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		ret = pager_accept_resume(r->pager, r->lfd, &r->dst_hs, 50, err, sizeof(err));
		check(!ret || ret == -ETIMEDOUT || ret == -ECANCELED, "dest: pager_accept_resume: %s",
		      err);
	}
	return NULL;
}

/* Touches every page in a stride, checking each against the source's image as it lands. */
static void *toucher_main(void *arg)
{
	struct run *r = ((struct run **)arg)[0];
	uint64_t start = (uint64_t)(uintptr_t)((void **)arg)[1], page;

	for (page = start; page < r->pages; page += TOUCHERS) {
		uint64_t off = page * r->page_size;

		check(!memcmp(r->mem + off, r->image + off, r->page_size),
		      "page %llu differs from the source's", (unsigned long long)page);
		if (page % 64 == 0)
			usleep(200); /* slow enough for the cuts to land mid-run */
	}
	return NULL;
}

/* Cuts both connections when a quarter, half, three quarters of the pages are present. */
static void *cutter_main(void *arg)
{
	struct run *r = arg;
	unsigned int i;

	for (i = 0; i < CUTS; i++) {
		uint64_t want = r->pages * (i + 1) / (CUTS + 1);
		int fds[2];

		while (r->pages - pager_pages_missing(r->pager) < want) {
			if (pager_state(r->pager) == PAGER_STATE_COMPLETE)
				return NULL;
			usleep(200);
		}
		/* Only a running session is cut: the previous resume must have landed. */
		while (pager_state(r->pager) != PAGER_STATE_RUNNING) {
			if (pager_state(r->pager) != PAGER_STATE_DISCONNECTED)
				return NULL;
			usleep(200);
		}
		do {
			pthread_mutex_lock(&r->lock);
			fds[0] = r->src_fds[0];
			fds[1] = r->src_fds[1];
			if (fds[0] >= 0) {
				shutdown(fds[0], SHUT_RDWR);
				if (fds[1] >= 0)
					shutdown(fds[1], SHUT_RDWR);
			}
			pthread_mutex_unlock(&r->lock);
			if (fds[0] < 0)
				usleep(200);
		} while (fds[0] < 0);
		r->cuts++;
		printf("  cut %u at %llu pages present\n", r->cuts,
		       (unsigned long long)(r->pages - pager_pages_missing(r->pager)));
	}
	return NULL;
}

struct source_handshake {
	struct run *r;
	int fds[2];
	struct pager_layout layout;
	int ret;
	char err[512];
};

static void *source_handshake_main(void *arg)
{
	struct source_handshake *hs = arg;

	hs->ret = pager_handshake_source(&hs->fds[0], &hs->fds[1], true, &hs->r->src_hs,
					 &hs->layout, hs->err, sizeof(hs->err));
	return NULL;
}

static void setup(struct run *r, bool push, int connections)
{
	struct pager_source_options sopts;
	struct source_handshake hs;
	struct pager_options opts;
	struct pager_layout layout;
	char err[512], text[64];
	int dfds[2];
	pthread_t t;

	memset(r, 0, sizeof(*r));
	r->push = push;
	r->connections = connections;
	r->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	r->pages = SIZE / r->page_size;
	pthread_mutex_init(&r->lock, NULL);
	r->image = malloc(SIZE);
	check(r->image, "image");
	pattern_fill(&pattern, 0, r->image, SIZE, r->page_size);
	pager_handshake_init(&r->src_hs);
	r->src_hs.token = token;
	r->src_hs.token_len = sizeof(token) - 1;
	r->src_hs.timeout_ms = 5000;
	r->dst_hs = r->src_hs;

	pager_source_options_init(&sopts);
	sopts.push = push;
	sopts.push_run_pages = 4; /* many frames, so that a cut lands inside the push */
	check(!pager_source_create(&sopts, &r->src), "source create");
	check(!pager_source_add_region(r->src, 0, 0, r->image, SIZE), "source region");

	check(!net_parse_addr("127.0.0.1:0", NULL, &r->addr), "addr");
	r->lfd = net_listen(&r->addr, 4);
	check(r->lfd >= 0, "listen");
	snprintf(text, sizeof(text), "127.0.0.1:%d", net_local_port(r->lfd));
	check(!net_parse_addr(text, NULL, &r->addr), "addr");

	/* The source dials and speaks first, on its own thread; the destination accepts. */
	memset(&hs, 0, sizeof(hs));
	hs.r = r;
	source_connect(r, hs.fds);
	pager_source_layout(r->src, &hs.layout);
	check(!pthread_create(&t, NULL, source_handshake_main, &hs), "thread");
	check(!pager_accept_session(r->lfd, &r->dst_hs, &dfds[0], &dfds[1], 5000, err,
				    sizeof(err)), "dest admission: %s", err);
	check((dfds[1] < 0) == (connections == 1), "dest admitted %s connections",
	      dfds[1] < 0 ? "one" : "two");
	check(!pager_receive_layout(dfds[0], &r->dst_hs, &layout, err, sizeof(err)),
	      "dest layout: %s", err);
	pthread_join(t, NULL);
	check(!hs.ret, "source handshake: %s", hs.err);
	check(r->dst_hs.session_id == r->src_hs.session_id && r->src_hs.session_id,
	      "the ends name different sessions");
	publish_fds(r, hs.fds);

	r->mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(r->mem != MAP_FAILED, "mmap");
	pager_options_init(&opts);
	opts.reconnect_timeout_ms = 10000;
	check(!pager_create(&opts, &r->pager), "pager create");
	check(!pager_add_region(r->pager, 0, r->mem, SIZE), "add region");
	check(!pager_start(r->pager, dfds[0], dfds[1]), "start");
}

static void run_case(bool push, int connections)
{
	pthread_t source, reconnector, cutter, touchers[TOUCHERS];
	void *args[TOUCHERS][2];
	struct pager_source_stats sst;
	struct pager_stats st;
	struct run r;
	uint64_t i;
	int ret;

	printf("case: %s, %d connection%s, %d cuts\n", push ? "push and demand" : "demand only",
	       connections, connections == 1 ? "" : "s", CUTS);
	setup(&r, push, connections);
	check(!pthread_create(&source, NULL, source_main, &r), "thread");
	check(!pthread_create(&reconnector, NULL, reconnect_main, &r), "thread");
	check(!pthread_create(&cutter, NULL, cutter_main, &r), "thread");
	for (i = 0; i < TOUCHERS; i++) {
		args[i][0] = &r;
		args[i][1] = (void *)(uintptr_t)i;
		check(!pthread_create(&touchers[i], NULL, toucher_main, args[i]), "thread");
	}
	ret = pager_wait(r.pager, 30000);
	check(!ret, "the migration did not complete: %d %s", ret, pager_error(r.pager));
	for (i = 0; i < TOUCHERS; i++)
		pthread_join(touchers[i], NULL);
	pthread_join(cutter, NULL);
	pthread_join(source, NULL);
	__atomic_store_n(&r.done, true, __ATOMIC_RELEASE);
	pthread_join(reconnector, NULL);
	check(!r.serve_result, "source: %s", pager_source_error(r.src));
	check(!memcmp(r.mem, r.image, SIZE), "destination memory differs from the source's");
	pager_get_stats(r.pager, &st);
	pager_source_get_stats(r.src, &sst);
	printf("  %u cuts, %llu reconnects, %.1f ms disconnected, %llu requests, %llu re-requested, "
	       "%llu resent by the source, %llu duplicates, %llu pages on demand\n", r.cuts,
	       (unsigned long long)st.reconnects, (double)st.disconnected_ns / 1e6,
	       (unsigned long long)st.requests_sent, (unsigned long long)st.pages_rerequested, (unsigned long long)sst.pages_resent,
	       (unsigned long long)st.pages_duplicate, (unsigned long long)st.pages_demand);
	check(r.cuts == CUTS, "only %u cuts landed before completion", r.cuts);
	check(st.reconnects == CUTS && sst.reconnects == CUTS, "reconnects: %llu here, %llu there",
	      (unsigned long long)st.reconnects, (unsigned long long)sst.reconnects);
	/*
	 * Each page installed once (a present page is never installed again); what the source
	 * sent again is what the cuts left in flight, never what the destination had.
	 */
	check(st.pages_demand + st.pages_push + st.pages_zero == r.pages,
	      "pages by origin do not add up to the region");
	check(!push || (st.pages_push > 0 && sst.pages_push > 0), "nothing pushed: %llu here, %llu "
	      "sent", (unsigned long long)st.pages_push, (unsigned long long)sst.pages_push);
	/*
	 * A duplicate is a race: a page requested while its pushed copy was on the way (the push
	 * receiver installs on its own thread, and on one connection the pushed copy is ahead in
	 * the stream), or a request sent again. So each one is a requested page's; present pages
	 * sent again after a cut would add thousands of pushed duplicates beyond that.
	 */
	check(st.pages_duplicate <= st.requests_sent + st.pages_rerequested,
	      "%llu duplicate pages (%llu requests, %llu pages asked again): present pages were "
	      "sent again", (unsigned long long)st.pages_duplicate,
	      (unsigned long long)st.requests_sent, (unsigned long long)st.pages_rerequested);
	pager_destroy(r.pager);
	pager_source_destroy(r.src);
	close(r.lfd);
	munmap(r.mem, SIZE);
	free(r.image);
}

int main(void)
{
	test_time_bound(120);
	test_require_userfaultfd();
	run_case(false, 2);
	run_case(true, 2);
	run_case(true, 1);
	printf("PASS: every cut resumed, every page as the source has it\n");
	return 0;
}
