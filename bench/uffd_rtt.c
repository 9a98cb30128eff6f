// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-uffd-rtt: the local userfaultfd round trip per 4 KiB page, the first half of the limit
 * the pager's fault latency is divided by. A faulting thread (cpu-a) reads one byte of a missing
 * page; a handler thread (cpu-b) reads the fault from the userfaultfd, installs the page with
 * UFFDIO_COPY and wakes the faulting thread. Timed by the faulting thread: fault, handler,
 * copy, wake, exactly what a thread blocked on the pager sees minus the network.
 */
#include "clock.h"
#include "log.h"
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct handler {
	int uffd, cpu;
	uint64_t faults; /* to serve before returning */
	const void *page; /* the data every fault is given */
	uint64_t ps;
};

static int uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);

	if (fd < 0)
		die("userfaultfd: %s (needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1)",
		    strerror(errno));
	if (ioctl(fd, UFFDIO_API, &api))
		die("UFFDIO_API: %s", strerror(errno));
	return fd;
}

static void *handler_main(void *arg)
{
	struct handler *h = arg;
	struct uffd_msg msg;
	uint64_t i;

	probe_pin_self(h->cpu);
	for (i = 0; i < h->faults; i++) {
		/* A blocking read: the handler sleeps until the fault, as the pager's listener does. */
		ssize_t n = read(h->uffd, &msg, sizeof(msg));

		if (n != sizeof(msg))
			die("reading the userfaultfd: %s", n < 0 ? strerror(errno) : "short read");
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			die("unexpected userfaultfd event %u", msg.event);
		struct uffdio_copy copy = {
			.dst = msg.arg.pagefault.address & ~(h->ps - 1),
			.src = (uintptr_t)h->page,
			.len = h->ps,
		};
		if (ioctl(h->uffd, UFFDIO_COPY, &copy))
			die("UFFDIO_COPY: %s", strerror(errno));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct probe_opts o = { .cpu_a = -1, .cpu_b = -1, .iters = 20000, .warmup = 500 };
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), pages, i;
	struct probe_samples samples;
	struct handler h;
	pthread_t thread;
	uint8_t *mem;
	void *page;
	struct json j;

	probe_parse(argc, argv, "The userfaultfd round trip of one 4 KiB page: fault, handler, "
		    "UFFDIO_COPY, wake.", &o);
	pages = o.iters + o.warmup;
	mem = mmap(NULL, pages * ps, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	page = aligned_alloc(ps, ps);
	if (mem == MAP_FAILED || !page)
		die("out of memory");
	memset(page, 0x5a, ps);
	/* The pager disables THP on its ranges too: 4 KiB installs, 4 KiB faults. */
	madvise(mem, pages * ps, MADV_NOHUGEPAGE);
	h = (struct handler){ .uffd = uffd_open(), .cpu = o.cpu_b, .faults = pages, .page = page,
			      .ps = ps };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)mem, .len = pages * ps },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(h.uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER: %s", strerror(errno));
	probe_samples_init(&samples, o.iters);
	probe_pin_self(o.cpu_a);
	if (pthread_create(&thread, NULL, handler_main, &h))
		die("cannot start the handler thread");
	for (i = 0; i < pages; i++) {
		uint64_t t0 = clock_now_ns();

		if (*(volatile uint8_t *)(mem + i * ps) != 0x5a)
			die("page %llu has the wrong data", (unsigned long long)i);
		if (i >= o.warmup)
			probe_samples_add(&samples, clock_now_ns() - t0);
	}
	pthread_join(thread, NULL);
	probe_json_begin(&j, "uffd_rtt", &o);
	probe_samples_write(&j, &samples);
	probe_json_end(&j);
	return 0;
}
