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

#define HUGE_2M_DIR "/sys/kernel/mm/hugepages/hugepages-2048kB/"

static unsigned long read_count(const char *name)
{
	char path[128];
	unsigned long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), HUGE_2M_DIR "%s", name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%lu", &n) != 1)
		n = 0;
	fclose(f);
	return n;
}

static int write_nr_hugepages(unsigned long n)
{
	FILE *f = fopen(HUGE_2M_DIR "nr_hugepages", "we");
	int ret;

	if (!f)
		return -errno;
	ret = fprintf(f, "%lu\n", n) < 0 ? -EIO : 0;
	if (fclose(f))
		ret = -errno;
	return ret;
}

static unsigned long huge_pages_added;

/* Gives back what this test added (pages still in use elsewhere stay: the kernel keeps them). */
static void shrink_huge_pool(void)
{
	unsigned long n = read_count("nr_hugepages");

	if (huge_pages_added && n >= huge_pages_added)
		write_nr_hugepages(n - huge_pages_added);
}

void test_require_huge_pages(unsigned long count)
{
	unsigned long free_pages, total;

	if (access(HUGE_2M_DIR, F_OK)) {
		printf("SKIP: this kernel has no 2 MiB hugetlb pages\n");
		exit(TEST_SKIP);
	}
	free_pages = read_count("free_hugepages");
	if (free_pages >= count)
		return;
	total = read_count("nr_hugepages");
	if (write_nr_hugepages(total + count - free_pages) == 0 && !huge_pages_added) {
		huge_pages_added = count - free_pages;
		atexit(shrink_huge_pool);
	}
	free_pages = read_count("free_hugepages");
	if (free_pages < count) {
		fprintf(stderr, "FAIL: %lu free 2 MiB hugetlb pages, this test needs %lu (as root it "
			"grows " HUGE_2M_DIR "nr_hugepages itself)\n", free_pages, count);
		exit(1);
	}
}
