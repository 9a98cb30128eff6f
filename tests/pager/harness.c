// SPDX-License-Identifier: GPL-2.0-only
#include "harness.h"
#include "check.h"
#include "digest.h"
#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

void source_params_init(struct source_params *sp, uint64_t size)
{
	memset(sp, 0, sizeof(*sp));
	sp->size = size;
	sp->regions = 1;
	sp->pattern = (struct pattern){ .seed = 42, .zero_every = 8 };
	pager_source_options_init(&sp->opts);
}

static void source_child(const struct source_params *sp, int port_fd, int report_fd)
{
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), region_size = sp->size / sp->regions, off;
	struct source_report report = { 0 };
	struct pager_source *src;
	struct pager_layout layout;
	struct net_addr addr;
	struct digest d;
	uint8_t *image;
	int lfd, fds[2], port, i;
	char err[512];

	image = mmap(NULL, sp->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(image != MAP_FAILED, "source image: %s", strerror(errno));
	check(!pager_source_create(&sp->opts, &src), "source create");
	for (i = 0, off = 0; i < (int)sp->regions; i++, off += region_size) {
		pattern_fill(&sp->pattern, (uint32_t)i, image + off, region_size, ps);
		check(!(sp->hugetlb ? pager_source_add_region_hugetlb
				    : pager_source_add_region)(src, (uint32_t)i, (uint64_t)i << 32,
							       image + off, region_size),
		      "add region");
	}
	digest_init(&d);
	digest_update_pages(&d, image, sp->size, ps);
	report.digest = digest_final(&d);
	pager_source_layout(src, &layout);

	check(!net_parse_addr("127.0.0.1:0", NULL, &addr), "addr");
	lfd = net_listen(&addr, 2);
	check(lfd >= 0, "listen: %s", strerror(-lfd));
	port = net_local_port(lfd);
	check(write(port_fd, &port, sizeof(port)) == sizeof(port), "port pipe");
	for (i = 0; i < 2; i++) {
		fds[i] = net_accept(lfd, 20000);
		check(fds[i] >= 0, "source accept: %s", strerror(-fds[i]));
	}
	report.status = pager_handshake_source(&fds[0], &fds[1], false, NULL, &layout, err,
					       sizeof(err));
	if (!report.status)
		report.status = pager_source_serve(src, fds[0], fds[1]);
	pager_source_get_stats(src, &report.stats);
	check(write(report_fd, &report, sizeof(report)) == sizeof(report), "report pipe");
	_exit(0);
}

void test_source_start(const struct source_params *sp, struct test_source *ts)
{
	int port_pipe[2], report_pipe[2];
	struct pollfd pfd;

	check(!pipe2(port_pipe, O_CLOEXEC) && !pipe2(report_pipe, O_CLOEXEC), "pipe");
	fflush(NULL);
	ts->pid = fork();
	check(ts->pid >= 0, "fork: %s", strerror(errno));
	if (ts->pid == 0) {
		close(port_pipe[0]);
		close(report_pipe[0]);
		/* The source must not outlive a failed test. */
		alarm(120);
		source_child(sp, port_pipe[1], report_pipe[1]);
	}
	close(port_pipe[1]);
	close(report_pipe[1]);
	pfd = (struct pollfd){ .fd = port_pipe[0], .events = POLLIN };
	check(poll(&pfd, 1, 30000) == 1, "source did not start listening within 30 s");
	check(read(port_pipe[0], &ts->port, sizeof(ts->port)) == sizeof(ts->port),
	      "source died before listening");
	close(port_pipe[0]);
	ts->report_fd = report_pipe[0];
}

void test_source_finish(struct test_source *ts, struct source_report *report)
{
	struct pollfd pfd = { .fd = ts->report_fd, .events = POLLIN };
	int status;

	check(poll(&pfd, 1, 30000) == 1, "source did not finish within 30 s");
	check(read(ts->report_fd, report, sizeof(*report)) == sizeof(*report),
	      "source died without a report");
	close(ts->report_fd);
	check(waitpid(ts->pid, &status, 0) == ts->pid, "waitpid");
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "source exit status 0x%x", status);
}

static void dest_prepare(struct test_dest *td, int port, const struct pager_options *opts,
			 int fds[2], enum pager_backing backing)
{
	bool memfd = backing == PAGER_BACKING_SHMEM, huge = backing == PAGER_BACKING_HUGETLB;
	struct net_addr addr;
	char text[64], err[512];
	int i, ret;
	uint32_t r;

	memset(td, 0, sizeof(*td));
	for (r = 0; r < PAGER_MAX_REGIONS; r++)
		td->memfds[r] = -1;
	td->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	snprintf(text, sizeof(text), "127.0.0.1:%d", port);
	check(!net_parse_addr(text, NULL, &addr), "addr");
	for (i = 0; i < 2; i++) {
		fds[i] = net_connect(&addr, 10000);
		check(fds[i] >= 0, "connect: %s", strerror(-fds[i]));
	}
	ret = pager_handshake_dest(&fds[0], &fds[1], true, NULL, &td->layout, err, sizeof(err));
	check(!ret, "handshake: %s", err);
	ret = pager_create(opts, &td->pager);
	check(!ret, "pager_create: %s", strerror(-ret));
	for (r = 0; r < td->layout.n_regions; r++) {
		uint64_t size = td->layout.regions[r].size;

		if (memfd) {
			td->memfds[r] = memfd_create("test-dest", MFD_CLOEXEC);
			check(td->memfds[r] >= 0 && !ftruncate(td->memfds[r], (off_t)size),
			      "memfd: %s", strerror(errno));
			td->bases[r] = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
					    td->memfds[r], 0);
		} else if (huge) {
			td->bases[r] = mmap(NULL, size, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		} else {
			td->bases[r] = mmap(NULL, size, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		}
		check(td->bases[r] != MAP_FAILED, "mmap: %s", strerror(errno));
		if (!huge)
			madvise(td->bases[r], size, MADV_NOHUGEPAGE);
		ret = memfd  ? pager_add_region_memfd(td->pager, r, td->bases[r], size, td->memfds[r], 0)
		      : huge ? pager_add_region_hugetlb(td->pager, r, td->bases[r], size)
			     : pager_add_region(td->pager, r, td->bases[r], size);
		if (ret == -EOPNOTSUPP && memfd) {
			printf("SKIP: this kernel has no userfaultfd minor faults on shmem\n");
			exit(77);
		}
		check(!ret, "pager_add_region%s: %s", memfd ? "_memfd" : huge ? "_hugetlb" : "",
		      strerror(-ret));
		td->pages_total += size / td->page_size;
	}
}

void test_dest_prepare(struct test_dest *td, int port, const struct pager_options *opts,
		       int fds[2])
{
	dest_prepare(td, port, opts, fds, PAGER_BACKING_ANON);
}

void test_dest_prepare_memfd(struct test_dest *td, int port, const struct pager_options *opts,
			     int fds[2])
{
	dest_prepare(td, port, opts, fds, PAGER_BACKING_SHMEM);
}

void test_dest_prepare_hugetlb(struct test_dest *td, int port, const struct pager_options *opts,
			       int fds[2])
{
	dest_prepare(td, port, opts, fds, PAGER_BACKING_HUGETLB);
}

void test_dest_start(struct test_dest *td, int port, const struct pager_options *opts)
{
	int fds[2], ret;

	test_dest_prepare(td, port, opts, fds);
	ret = pager_start(td->pager, fds[0], fds[1]);
	check(!ret, "pager_start: %s", strerror(-ret));
}

uint64_t test_dest_digest(const struct test_dest *td)
{
	struct digest d;
	uint32_t r;

	digest_init(&d);
	for (r = 0; r < td->layout.n_regions; r++)
		digest_update_pages(&d, td->bases[r], td->layout.regions[r].size, td->page_size);
	return digest_final(&d);
}

uint64_t test_pfn_of(int fd, const void *addr, uint32_t page_size)
{
	uint64_t entry = 0;
	off_t off = (off_t)((uintptr_t)addr / page_size * sizeof(entry));

	check(pread(fd, &entry, sizeof(entry), off) == sizeof(entry), "pagemap read");
	check(entry & (1ull << 63), "page at %p is not present", addr);
	return entry & ((1ull << 55) - 1);
}

int64_t test_dest_check_zero_pages(const struct test_dest *td, const struct pattern *pattern)
{
	uint64_t zero_pfn = 0, page, pfn;
	int64_t zeros = 0;
	uint32_t r;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	check(fd >= 0, "pagemap: %s", strerror(errno));
	for (r = 0; r < td->layout.n_regions; r++) {
		for (page = 0; page < td->layout.regions[r].size / td->page_size; page++) {
			const uint8_t *addr = td->bases[r] + page * td->page_size;

			pfn = test_pfn_of(fd, addr, td->page_size);
			if (!pfn) {
				close(fd);
				return -1; /* PFNs hidden from this process */
			}
			if (pattern_page_is_zero(pattern, r, page)) {
				if (!zero_pfn)
					zero_pfn = pfn;
				check(pfn == zero_pfn, "zero page %u:%llu mapped to pfn 0x%llx, not the zero page 0x%llx",
				      r, (unsigned long long)page, (unsigned long long)pfn,
				      (unsigned long long)zero_pfn);
				zeros++;
			} else {
				check(!zero_pfn || pfn != zero_pfn,
				      "data page %u:%llu mapped to the zero page", r,
				      (unsigned long long)page);
			}
		}
	}
	close(fd);
	return zeros;
}

void *test_walker_main(void *arg)
{
	struct test_walker *w = arg;
	uint64_t pages = w->td->pages_total, i;
	uint8_t *expected = malloc(w->td->page_size);

	check(expected != NULL, "malloc");
	for (i = 0; i < pages; i++) {
		uint64_t page = (w->start + i * w->stride) % pages;
		const uint8_t *addr = w->td->bases[0] + page * w->td->page_size;

		pattern_fill_page(w->pattern, 0, page, expected, w->td->page_size);
		if (memcmp(addr, expected, w->td->page_size)) {
			w->bad++;
			w->bad_page = page;
		}
	}
	free(expected);
	return NULL;
}
