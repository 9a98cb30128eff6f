// SPDX-License-Identifier: GPL-2.0-only
#include "child_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "kvm_test.h"

#define NSEC_PER_MSEC 1000000ull

static void __attribute__((noreturn)) child_main(int (*fn)(void *), void *arg, int out_fd)
{
	int status;

	if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0)
		_exit(2);
	close(out_fd);
	setvbuf(stdout, NULL, _IONBF, 0);
	status = fn(arg);
	fflush(NULL);
	_exit(status);
}

struct marks {
	const char *start, *event;
	size_t start_end; /* where the output after `start` begins */
	uint64_t start_at, event_at;
};

/* Appends what the child wrote; notes when `start`, then `event` after it, show up. */
static bool collect(int fd, struct child_result *res, size_t *len, size_t *cap,
		    struct marks *m)
{
	const char *hit;
	ssize_t n;

	if (*cap - *len < 4096) {
		*cap = *cap * 2 + 4096;
		res->output = realloc(res->output, *cap);
		TEST_ASSERT(res->output, "out of memory");
	}
	n = read(fd, res->output + *len, *cap - *len - 1);
	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	*len += (size_t)n;
	res->output[*len] = '\0';
	if (m->start && !res->saw_start && (hit = strstr(res->output, m->start))) {
		res->saw_start = true;
		m->start_at = clock_now_ns();
		m->start_end = (size_t)(hit - res->output) + strlen(m->start);
	}
	if (res->saw_start && m->event && !res->saw_event &&
	    strstr(res->output + m->start_end, m->event)) {
		res->saw_event = true;
		m->event_at = clock_now_ns();
	}
	return true;
}

void child_run(int (*fn)(void *arg), void *arg, const char *start_mark,
	       const char *event_mark, unsigned int hard_limit_ms, struct child_result *res)
{
	struct marks m = { .start = start_mark, .event = event_mark };
	uint64_t start, deadline, now;
	size_t len = 0, cap = 0;
	int pipefd[2], r;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	TEST_ASSERT(!pipe2(pipefd, O_CLOEXEC), "pipe: %s", strerror(errno));
	fflush(NULL);
	start = clock_now_ns();
	deadline = start + hard_limit_ms * NSEC_PER_MSEC;
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(pipefd[0]);
		child_main(fn, arg, pipefd[1]);
	}
	close(pipefd[1]);

	/* Output until EOF (the child is gone) or the hard limit. */
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };

		now = clock_now_ns();
		if (now >= deadline)
			break;
		r = poll(&pfd, 1, (int)((deadline - now) / NSEC_PER_MSEC) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		TEST_ASSERT(r >= 0, "poll: %s", strerror(errno));
		if (r == 1 && !collect(pipefd[0], res, &len, &cap, &m))
			break;
	}
	/* EOF comes with the exit; a child still there at the limit is killed. */
	while ((r = waitpid(pid, &res->status, WNOHANG)) == 0 && clock_now_ns() < deadline)
		usleep(1000);
	if (r == 0) {
		kill(pid, SIGKILL);
		res->killed = true;
		TEST_ASSERT(waitpid(pid, &res->status, 0) == pid, "waitpid: %s", strerror(errno));
	}
	now = clock_now_ns();
	res->elapsed_ns = now - start;
	if (res->saw_event) {
		res->event_ns = m.event_at - m.start_at;
		res->exit_ns = now - m.event_at;
	}
	close(pipefd[0]);
	if (!res->output)
		res->output = calloc(1, 1);
	TEST_ASSERT(res->output, "out of memory");
	fprintf(stderr, "---- child output ----\n%s---- end of child output ----\n", res->output);
}
