// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pager's public API as its owner sees it: create, register, start, wait, query, destroy.
 * Everything below it is internal; this file only calls down.
 */
#include "pager_internal.h"
#include "clock.h"
#include "cpu.h"
#include "listener.h"
#include "options.h"
#include "uffd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

/* THREAD_ID attributes each fault to the thread (vCPU) that waits on it. */
#define PAGER_UFFD_FEATURES ((uint64_t)UFFD_FEATURE_THREAD_ID)
#define PAGER_UFFD_IOCTLS ((1ull << _UFFDIO_COPY) | (1ull << _UFFDIO_ZEROPAGE) | (1ull << _UFFDIO_WAKE))
/* A memfd region's pages are written through the pager's own mapping, then mapped. */
#define PAGER_UFFD_IOCTLS_MEMFD ((1ull << _UFFDIO_CONTINUE) | (1ull << _UFFDIO_WAKE))
/* hugetlb has no UFFDIO_ZEROPAGE: a zero huge page is copied from zeros. */
#define PAGER_UFFD_IOCTLS_HUGETLB ((1ull << _UFFDIO_COPY) | (1ull << _UFFDIO_WAKE))

/* The first version of struct pager_options ends with log_level: no caller has less. */
#define PAGER_OPTIONS_MIN_SIZE (offsetof(struct pager_options, log_level) + sizeof(int))

void pager_options_defaults(struct pager_options *opts, size_t size)
{
	const struct pager_options defaults = {
		.size = (uint32_t)size,
		.listener_cpu = -1,
		.dead_peer_ms = 10000,
		.log_level = PAGER_LOG_WARN,
		.reconnect_timeout_ms = 30000,
		.request_timeout_ms = 2000,
		.silence_timeout_ms = 5000,
		.listener_nice = -5,
	};

	options_fill(opts, size, &defaults, sizeof(defaults));
}

int pager_create(const struct pager_options *opts, struct pager **out)
{
	uint64_t features;
	struct pager *p;
	char err[512];
	int ret;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pager_options_init(&p->opts);
	if (opts) {
		ret = options_copy(&p->opts, sizeof(p->opts), opts, opts->size,
				   PAGER_OPTIONS_MIN_SIZE);
		if (ret) {
			free(p);
			return ret;
		}
	}
	logger_init(&p->log, p->opts.log_fn, p->opts.log_opaque, p->opts.log_level);
	region_table_init(&p->regions, (uint32_t)sysconf(_SC_PAGESIZE));
	p->demand_fd = p->push_fd = -1;
	run_state_init(p);

	/*
	 * The exact address where the kernel has it (Linux 5.18): a hugetlb fault otherwise
	 * names only its huge page, and the fault observer wants the page touched.
	 */
	if (uffd_probe_features(&features))
		features = 0;
	if (p->opts.install_move && !(features & UFFD_FEATURE_MOVE)) {
		logger_err(&p->log, "pager: install_move needs UFFDIO_MOVE (UFFD_FEATURE_MOVE, "
			   "Linux 6.8), which this kernel does not offer");
		ret = -EOPNOTSUPP;
		goto err_free;
	}
	p->uffd = uffd_open(PAGER_UFFD_FEATURES | (features & UFFD_FEATURE_EXACT_ADDRESS) |
				    (p->opts.install_move ? UFFD_FEATURE_MOVE : 0),
			    NULL, err, sizeof(err));
	if (p->uffd < 0) {
		ret = p->uffd;
		logger_err(&p->log, "%s", err);
		goto err_free;
	}
	p->push_released = !p->opts.hold_push;
	p->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->ctl_fd < 0) {
		ret = -errno;
		goto err_uffd;
	}
	*out = p;
	return 0;

err_uffd:
	close(p->uffd);
err_free:
	run_state_destroy(p);
	free(p);
	return ret;
}

/*
 * One region into the table and registered: anonymous memory (fd < 0) in MISSING mode, in
 * units of unit_pages pages (512: hugetlb); a memfd in MISSING and MINOR mode (MISSING for
 * pages the file does not have yet, MINOR for those the pager wrote through its alias but has
 * not mapped: either way the thread waits for UFFDIO_CONTINUE), after its file side is checked
 * and the alias mapped.
 */
static int add_region(struct pager *p, uint32_t id, void *addr, uint64_t size, int fd,
		      uint64_t fd_offset, uint32_t unit_pages)
{
	bool memfd = fd >= 0, huge = unit_pages > 1;
	char err[512];
	int ret;

	if (run_state_get(p) != PAGER_STATE_IDLE)
		return -EBUSY;
	/* A page already mapped, or already in the file, is refused as resident (mincore). */
	ret = region_table_add(&p->regions, id, addr, size, unit_pages, err, sizeof(err));
	if (ret) {
		if (*err)
			logger_err(&p->log, "%s", err);
		return ret;
	}
	ret = memfd ? region_memfd_attach(&p->regions.r[id], fd, fd_offset, err, sizeof(err))
	      : huge ? region_check_hugetlb(addr, size, err, sizeof(err))
		     : 0;
	if (!ret)
		ret = uffd_register(p->uffd, addr, size,
				    UFFDIO_REGISTER_MODE_MISSING |
					    (memfd ? UFFDIO_REGISTER_MODE_MINOR : 0),
				    memfd  ? PAGER_UFFD_IOCTLS_MEMFD
				    : huge ? PAGER_UFFD_IOCTLS_HUGETLB
					   : PAGER_UFFD_IOCTLS |
						     (p->opts.install_move ? 1ull << _UFFDIO_MOVE : 0),
				    err, sizeof(err));
	if (ret) {
		logger_err(&p->log, "pager: region %u: %s", id, err);
		region_table_drop_last(&p->regions);
		return ret;
	}
	p->regions.r[id].registered = true;
	return 0;
}

int pager_add_region(struct pager *p, uint32_t id, void *addr, uint64_t size)
{
	return add_region(p, id, addr, size, -1, 0, 1);
}

int pager_add_region_hugetlb(struct pager *p, uint32_t id, void *addr, uint64_t size)
{
	/* 2 MiB in whole words of the page bitmaps, as the source needs them: 4 KiB base pages. */
	if ((WIRE_HUGE_PAGE_SIZE / p->regions.page_size) % 64) {
		logger_err(&p->log, "pager: hugetlb regions need 4 KiB base pages (this host has "
				    "%u-byte pages)", p->regions.page_size);
		return -EOPNOTSUPP;
	}
	return add_region(p, id, addr, size, -1, 0, WIRE_HUGE_PAGE_SIZE / p->regions.page_size);
}

int pager_add_region_memfd(struct pager *p, uint32_t id, void *addr, uint64_t size, int fd,
			   uint64_t fd_offset)
{
	uint64_t features = 0;

	if (fd < 0 || fd_offset % p->regions.page_size)
		return -EINVAL;
	if (uffd_probe_features(&features) == 0 && !(features & UFFD_FEATURE_MINOR_SHMEM)) {
		logger_err(&p->log, "pager: this kernel has no userfaultfd minor faults on shmem "
				    "(UFFD_FEATURE_MINOR_SHMEM, Linux 5.14): a memfd region cannot "
				    "be served");
		return -EOPNOTSUPP;
	}
	return add_region(p, id, addr, size, fd, fd_offset, 1);
}

int pager_start(struct pager *p, int demand_fd, int push_fd)
{
	int ret;

	if (run_state_get(p) != PAGER_STATE_IDLE || !p->regions.n)
		return -EINVAL;
	p->demand_fd = demand_fd;
	p->push_fd = push_fd;
	ret = listener_create(p);
	if (ret)
		return ret;
	run_state_start(p);
	ret = pthread_create(&p->thread, NULL, listener_main, p);
	if (ret) {
		run_state_unstart(p);
		listener_destroy(p);
		return -ret;
	}
	p->thread_started = true;
	if (p->opts.listener_cpu >= 0) {
		ret = cpu_pin(p->thread, p->opts.listener_cpu);
		if (ret)
			logger_warn(&p->log, "listener: cannot pin to CPU %d: %s",
				    p->opts.listener_cpu, strerror(-ret));
	}
	return 0;
}

enum pager_state pager_state(struct pager *p)
{
	return run_state_get(p);
}

int pager_wait(struct pager *p, int timeout_ms)
{
	return run_state_wait(p, timeout_ms);
}

const char *pager_error(struct pager *p)
{
	return run_state_error(p);
}

bool pager_completion_confirmed(struct pager *p)
{
	return run_state_confirmed(p);
}

const char *pager_disconnect_reason(struct pager *p)
{
	return run_state_disconnect_reason(p);
}

void pager_signal_listener(struct pager *p)
{
	uint64_t one = 1;

	if (write(p->ctl_fd, &one, sizeof(one)) != sizeof(one))
		logger_warn(&p->log, "pager: cannot signal the listener: %s", strerror(errno));
}

void pager_release_push(struct pager *p)
{
	if (!__atomic_exchange_n(&p->push_released, true, __ATOMIC_ACQ_REL))
		pager_signal_listener(p);
}

bool pager_page_present(const struct pager *p, const void *addr)
{
	const struct region *r = region_find(&p->regions, (uintptr_t)addr);

	return r && page_state_get(&r->pages, region_page_of(&p->regions, r, (uintptr_t)addr)) ==
			    PAGE_PRESENT;
}

uint64_t pager_pages_missing(const struct pager *p)
{
	return region_table_missing(&p->regions);
}

static struct pager_wait_info wait_info(const struct pager *p, uint64_t page_addr, pid_t tid,
				       uint64_t age_ns)
{
	const struct region *r = region_find(&p->regions, page_addr);

	return (struct pager_wait_info){
		.addr = (void *)(uintptr_t)page_addr,
		.region = r ? r->id : 0,
		.offset = r ? page_addr - (uintptr_t)r->base : 0,
		.tid = tid,
		.age_ns = age_ns,
	};
}

int pager_oldest_wait(struct pager *p, struct pager_wait_info *out)
{
	const struct waiter *oldest;
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	oldest = waiters_oldest(&p->waiters);
	if (oldest) {
		*out = wait_info(p, oldest->page_addr, oldest->tid, clock_now_ns() - oldest->since_ns);
		ret = 1;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int pager_take_unserved_fault(struct pager *p, struct pager_wait_info *out)
{
	struct uffd_msg msg;
	uint64_t addr;
	ssize_t n;

	/* Under the lock: pager_start() cannot begin in between and lose this fault. */
	pthread_mutex_lock(&p->lock);
	if (p->run.state != PAGER_STATE_IDLE) {
		pthread_mutex_unlock(&p->lock);
		return -EBUSY;
	}
	n = read(p->uffd, &msg, sizeof(msg));
	pthread_mutex_unlock(&p->lock);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (n != sizeof(msg) || msg.event != UFFD_EVENT_PAGEFAULT)
		return -EIO;
	addr = msg.arg.pagefault.address & ~((uint64_t)p->regions.page_size - 1);
	*out = wait_info(p, addr, (pid_t)msg.arg.pagefault.feat.ptid, 0);
	return 1;
}

void pager_destroy(struct pager *p)
{
	uint32_t i;

	if (!p)
		return;
	if (p->thread_started) {
		__atomic_store_n(&p->stop_requested, true, __ATOMIC_RELEASE);
		pager_signal_listener(p);
		pthread_join(p->thread, NULL);
		listener_destroy(p);
	}
	for (i = 0; i < p->regions.n; i++) {
		struct region *r = &p->regions.r[i];

		/*
		 * Closing the uffd releases blocked faults, which would then map zero pages over
		 * data never received. Make such memory inaccessible instead: a loud failure.
		 */
		if (page_state_missing(&r->pages) && mprotect(r->base, r->size, PROT_NONE))
			logger_err(&p->log, "pager: cannot protect incomplete region %u: %s", r->id,
				   strerror(errno));
		if (r->registered)
			uffd_unregister(p->uffd, r->base, r->size);
	}
	region_table_free(&p->regions);
	waiters_free(&p->waiters);
	if (p->demand_fd >= 0)
		close(p->demand_fd);
	if (p->push_fd >= 0)
		close(p->push_fd);
	/* Handed over by pager_resume() but never taken by the listener. */
	if (p->resume_pending) {
		close(p->resume_fds[0]);
		if (p->resume_fds[1] >= 0)
			close(p->resume_fds[1]);
	}
	close(p->ctl_fd);
	close(p->uffd);
	run_state_destroy(p);
	free(p);
}
