// SPDX-License-Identifier: GPL-2.0-only
/*
 * Regressions from review, against a scripted source over real TCP: (1) a pager whose every
 * page was preloaded completes as soon as it starts, with no traffic to wake it; (2) a push
 * frame that arrives in pieces does not make the listener spin while it waits for the rest.
 */
#include "check.h"
#include "harness.h"
#include "net.h"
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REGION_SIZE (1u << 20)

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void send_hello(int fd, Wire__Channel channel, uint64_t session)
{
	Wire__Hello h = WIRE__HELLO__INIT;

	h.magic = WIRE_MAGIC;
	h.version = WIRE_VERSION;
	h.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	h.channel = channel;
	h.session_id = session;
	check(!wire_send(fd, WIRE_HELLO, &h.base, 5000), "hello");
}

/* Handshake, then (slow) one zero-flag-less page in two pieces a second apart; then waits. */
static void scripted_source(int lfd, bool slow_page)
{
	static struct wire_arena arena;
	static uint8_t frame[WIRE_FRAME_HDR_SIZE + 64 + 4096];
	Wire__Region region = WIRE__REGION__INIT, *regions[1] = { &region };
	Wire__MemoryLayout layout = WIRE__MEMORY_LAYOUT__INIT;
	Wire__PageHeader ph = WIRE__PAGE_HEADER__INIT;
	int fds[2], demand = -1, push = -1, i;
	ProtobufCMessage *msg;
	unsigned int type;
	ssize_t n;

	wire_arena_init(&arena);
	for (i = 0; i < 2; i++) {
		fds[i] = net_accept(lfd, 10000);
		check(fds[i] >= 0, "accept");
		check(!wire_recv(fds[i], &arena, &type, &msg, 5000) && type == WIRE_HELLO, "hello");
		if (((Wire__Hello *)msg)->channel == WIRE__CHANNEL__CHANNEL_PUSH)
			push = fds[i];
		else
			demand = fds[i];
	}
	send_hello(demand, WIRE__CHANNEL__CHANNEL_DEMAND, ((Wire__Hello *)msg)->session_id);
	send_hello(push, WIRE__CHANNEL__CHANNEL_PUSH, ((Wire__Hello *)msg)->session_id);
	region.size = REGION_SIZE;
	region.backing = WIRE__BACKING__BACKING_ANON;
	layout.n_regions = 1;
	layout.regions = regions;
	check(!wire_send(demand, WIRE_LAYOUT, &layout.base, 5000), "layout");
	if (slow_page) {
		ph.length = 4096;
		memset(frame, 0x5a, 4096);
		ph.checksum = wire_page_checksum(0, 0, 4096, 0, frame, 4096);
		n = wire_encode(WIRE_PAGE, &ph.base, frame, sizeof(frame));
		check(n > 0, "encode");
		memset(frame + n, 0x5a, 4096);
		check(!net_write_full(push, frame, (size_t)n + 100, 5000), "first piece");
		sleep(2);
		check(!net_write_full(push, frame + n + 100, 4096 - 100, 5000), "second piece");
	}
	/* Until the destination hangs up. */
	while (!wire_recv(demand, &arena, &type, &msg, 20000))
		;
	_exit(0);
}

static struct pager *start(bool slow_page, pid_t *pid, uint8_t **mem, bool preload_all)
{
	struct pager_layout layout;
	struct net_addr addr;
	struct pager *p;
	char text[64], err[256];
	int lfd, fds[2], i;

	check(!net_parse_addr("127.0.0.1:0", NULL, &addr), "addr");
	lfd = net_listen(&addr, 2);
	check(lfd >= 0, "listen");
	snprintf(text, sizeof(text), "127.0.0.1:%d", net_local_port(lfd));
	fflush(NULL);
	*pid = fork();
	check(*pid >= 0, "fork");
	if (!*pid) {
		alarm(30);
		scripted_source(lfd, slow_page);
	}
	close(lfd);
	check(!net_parse_addr(text, NULL, &addr), "addr");
	for (i = 0; i < 2; i++)
		check((fds[i] = net_connect(&addr, 5000)) >= 0, "connect");
	check(!pager_handshake_dest(&fds[0], &fds[1], true, NULL, &layout, err, sizeof(err)),
	      "handshake: %s", err);
	check(!pager_create(NULL, &p), "create");
	*mem = mmap(NULL, REGION_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(*mem != MAP_FAILED, "mmap");
	check(!pager_add_region(p, 0, *mem, REGION_SIZE), "add region");
	if (preload_all)
		check(!pager_preload(p, 0, 0, NULL, REGION_SIZE), "preload");
	check(!pager_start(p, fds[0], fds[1]), "start");
	return p;
}

int main(void)
{
	struct timespec t0, t1;
	double cpu, wall;
	uint8_t *mem;
	struct pager *p;
	pid_t pid;
	int ret;

	test_time_bound(60);
	test_require_userfaultfd();

	p = start(false, &pid, &mem, true);
	ret = pager_wait(p, 2000);
	check(ret == 0, "a fully preloaded pager did not complete: %d (%s)", ret, pager_error(p));
	pager_destroy(p);
	check(waitpid(pid, NULL, 0) == pid, "reap");
	printf("fully preloaded: complete at start\n");

	p = start(true, &pid, &mem, false);
	usleep(500 * 1000); /* the first piece is in the push buffer now */
	cpu = cpu_seconds();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	usleep(1000 * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cpu = cpu_seconds() - cpu;
	wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("half a push frame pending: %.3f s of CPU in %.3f s\n", cpu, wall);
	check(cpu < 0.2 * wall, "the listener spins while a push frame is incomplete");
	usleep(1000 * 1000);
	check(mem[100] == 0x5a && pager_page_present(p, mem), "the page assembled from two pieces");
	fflush(NULL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("PASS: no spin on a partial frame, completion without traffic\n");
	return 0;
}
