// SPDX-License-Identifier: GPL-2.0-only
#include "page_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvm_test.h"
#include "net.h"

#define SERVER_IO_TIMEOUT_MS 20000

/* The child: never returns, and fails by _exit (it must not run the parent's atexit work). */
static void __attribute__((noreturn))
page_server_child(const struct guest_region *regions, void *const mem[], unsigned int n,
		  int port_fd, int result_fd)
{
	struct pager_source_options opts;
	struct pager_source *src;
	struct pager_layout layout;
	struct pager_handshake hs;
	struct net_addr addr;
	int lfd, fds[2], port, result;
	char err[512] = "";
	unsigned int i;

	/* A source must not outlive the test that started it, whatever happens to the test. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(120);
	pager_source_options_init(&opts);
	opts.push = false;
	opts.prepage_window = 0;
	opts.io_timeout_ms = SERVER_IO_TIMEOUT_MS;
	if (pager_source_create(&opts, &src))
		_exit(2);
	for (i = 0; i < n; i++)
		if (pager_source_add_region(src, i, regions[i].gpa, mem[i], regions[i].size))
			_exit(2);
	pager_source_layout(src, &layout);

	if (net_parse_addr("127.0.0.1:0", NULL, &addr))
		_exit(2);
	lfd = net_listen(&addr, 2);
	if (lfd < 0)
		_exit(2);
	port = net_local_port(lfd);
	if (write(port_fd, &port, sizeof(port)) != sizeof(port))
		_exit(2);
	for (i = 0; i < 2; i++) {
		fds[i] = net_accept(lfd, SERVER_IO_TIMEOUT_MS);
		if (fds[i] < 0)
			_exit(2);
	}
	pager_handshake_init(&hs);
	hs.timeout_ms = SERVER_IO_TIMEOUT_MS;
	result = pager_handshake_source(&fds[0], &fds[1], false, &hs, &layout, err, sizeof(err));
	if (result)
		fprintf(stderr, "page server: handshake: %s\n", err);
	else
		result = pager_source_serve(src, fds[0], fds[1]);
	if (result)
		fprintf(stderr, "page server: %s\n", pager_source_error(src));
	if (write(result_fd, &result, sizeof(result)) != sizeof(result))
		_exit(2);
	_exit(0);
}

void page_server_start(struct page_server *ps, const struct guest_region *regions,
		       void *const mem[], unsigned int n)
{
	int port_pipe[2], result_pipe[2];
	struct pollfd pfd;

	TEST_ASSERT(!pipe2(port_pipe, O_CLOEXEC) && !pipe2(result_pipe, O_CLOEXEC), "pipe: %s",
		    strerror(errno));
	fflush(NULL);
	ps->pid = fork();
	TEST_ASSERT(ps->pid >= 0, "fork: %s", strerror(errno));
	if (ps->pid == 0) {
		close(port_pipe[0]);
		close(result_pipe[0]);
		page_server_child(regions, mem, n, port_pipe[1], result_pipe[1]);
	}
	close(port_pipe[1]);
	close(result_pipe[1]);
	pfd = (struct pollfd){ .fd = port_pipe[0], .events = POLLIN };
	TEST_ASSERT(poll(&pfd, 1, 10000) == 1, "the page server did not listen within 10 s");
	TEST_ASSERT(read(port_pipe[0], &ps->port, sizeof(ps->port)) == sizeof(ps->port),
		    "the page server died before listening");
	close(port_pipe[0]);
	ps->result_fd = result_pipe[0];
}

void page_server_connect(const struct page_server *ps, int fds[2], struct pager_layout *layout)
{
	struct net_addr addr;
	char text[64], err[512] = "";
	int i, r;

	snprintf(text, sizeof(text), "127.0.0.1:%d", ps->port);
	TEST_OK(net_parse_addr(text, NULL, &addr));
	for (i = 0; i < 2; i++) {
		fds[i] = net_connect(&addr, 10000);
		TEST_ASSERT(fds[i] >= 0, "connect to the page server: %s", strerror(-fds[i]));
	}
	r = pager_handshake_dest(&fds[0], &fds[1], true, NULL, layout, err, sizeof(err));
	TEST_ASSERT(r == 0, "handshake with the page server: %s", err);
}

int page_server_finish(struct page_server *ps, int timeout_ms)
{
	struct pollfd pfd = { .fd = ps->result_fd, .events = POLLIN };
	int result, status;

	TEST_ASSERT(poll(&pfd, 1, timeout_ms) == 1, "the page server did not end within %d ms",
		    timeout_ms);
	TEST_ASSERT(read(ps->result_fd, &result, sizeof(result)) == sizeof(result),
		    "the page server died without a result");
	close(ps->result_fd);
	TEST_ASSERT(waitpid(ps->pid, &status, 0) == ps->pid, "waitpid: %s", strerror(errno));
	TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "page server exit status %#x", status);
	ps->pid = 0;
	return result;
}

void page_server_kill(struct page_server *ps)
{
	if (ps->pid <= 0)
		return;
	kill(ps->pid, SIGKILL);
	waitpid(ps->pid, NULL, 0);
	close(ps->result_fd);
	ps->pid = 0;
}
