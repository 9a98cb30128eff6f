// SPDX-License-Identifier: GPL-2.0-only
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

static void on_alarm(int sig)
{
	static const char msg[] = "FAIL: test time bound exceeded (a wait that should end did not)\n";

	(void)sig;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

void test_time_bound(unsigned int seconds)
{
	signal(SIGALRM, on_alarm);
	alarm(seconds);
}

void test_require_userfaultfd(void)
{
	int fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return;
	}
	if (errno == ENOSYS && access("/dev/userfaultfd", F_OK)) {
		printf("SKIP: this kernel has no userfaultfd\n");
		exit(TEST_SKIP);
	}
	if (errno == EPERM && !access("/dev/userfaultfd", R_OK | W_OK))
		return;
	fprintf(stderr, "FAIL: userfaultfd exists but cannot be opened: %s\n", strerror(errno));
	exit(1);
}
