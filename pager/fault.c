// SPDX-License-Identifier: GPL-2.0-only
/* Fault path, first half: a uffd event becomes a waiter and, at most once a page, a request. */
#include "fault.h"
#include "clock.h"
#include "uffd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * One page (a hugetlb region: one 2 MiB page) asked for; with no room in the send queue now,
 * it goes with a later turn.
 */
static int fault_request(struct fault_reader *f, struct tx_queue *tx, const struct region *r,
			 uint64_t page, uint32_t page_size, uint64_t now)
{
	struct request *rq = requests_add(f->requests, r->id, page, r->unit_pages);

	if (!rq)
		return -ENOMEM;
	requests_send(rq, tx, page_size, now);
	return 0;
}

/*
 * A fault on a memfd page already installed: the kernel dropped its mapping since (reclaim,
 * MADV_DONTNEED, a THP collapse), leaving the page in the file, so the thread took a minor
 * fault that a wake alone would only repeat. Map the file page again (and wake); -EEXIST: it
 * is mapped already, the wake is all it needs. Any other failure means the installed page is
 * gone from the file: the pager fails rather than let the thread see anything else.
 */
static int fault_remap(struct pager *p, uint64_t addr)
{
	int ret;

	uffd_continue(p->uffd, (void *)(uintptr_t)addr, p->regions.page_size, true, &ret);
	if (ret == -EEXIST || ret == -EAGAIN)
		return uffd_wake(p->uffd, (void *)(uintptr_t)addr, p->regions.page_size);
	if (ret)
		logger_err(&p->log, "pager: the installed memfd page at 0x%llx cannot be mapped "
				    "again (UFFDIO_CONTINUE: %s): was the file punched?",
			   (unsigned long long)addr, strerror(-ret));
	return ret;
}

static int fault_handle(struct pager *p, struct fault_reader *f, struct tx_queue *tx,
			const struct uffd_msg *msg, uint64_t now)
{
	uint64_t addr = msg->arg.pagefault.address & ~((uint64_t)p->regions.page_size - 1);
	pid_t tid = (pid_t)msg->arg.pagefault.feat.ptid;
	struct region *r = region_find(&p->regions, addr);
	enum page_status status;
	bool wake = false;
	uint64_t page, unit;
	int ret = 0;

	if (!r) {
		logger_warn(&p->log, "pager: fault at 0x%llx outside every region",
			    (unsigned long long)addr);
		return 0;
	}
	page = region_page_of(&p->regions, r, addr);
	if (p->opts.on_fault)
		p->opts.on_fault(p->opts.on_fault_opaque, r->id, page, tid);
	/* A hugetlb fault is on its whole 2 MiB page: its first page stands for it. */
	page = region_unit_first(r, page);
	addr = (uintptr_t)region_page_addr(&p->regions, r, page);
	unit = (uint64_t)r->unit_pages * p->regions.page_size;
	/* All of this fault's bookkeeping in one critical section: it is the hot path. */
	pthread_mutex_lock(&p->lock);
	status = page_state_get(&r->pages, page);
	/* Installed between the fault and this read: no waiter, but the thread may still sleep. */
	wake = status == PAGE_PRESENT;
	if (!wake)
		ret = waiters_add(&p->waiters, addr, tid, now);
	/*
	 * The push receiver installs concurrently: it sets a page present, then looks for the
	 * waited mark, and serves (under this lock) only if it finds one. Marked after the waiter
	 * is listed, then the present bit read again: if the page is present now, its installer
	 * may have missed the mark, so the waiter is served here (and no request goes out).
	 */
	if (!wake && !ret && page_state_mark_waited(&r->pages, page)) {
		waiters_serve(&p->waiters, addr, unit, &p->counters);
		wake = true;
	}
	/*
	 * Requests are the listener's alone: the first fault on an absent page sends one. Not
	 * sent (being installed, see above): counted with the faults that waited on a request.
	 */
	if (status == PAGE_ABSENT && (wake || !page_state_request(&r->pages, page)))
		status = PAGE_REQUESTED;
	if (!ret)
		counters_fault(&p->counters, tid, status);
	pthread_mutex_unlock(&p->lock);
	if (ret)
		return ret;
	if (status == PAGE_ABSENT)
		return fault_request(f, tx, r, page, p->regions.page_size, now);
	if (wake && r->alias)
		return fault_remap(p, addr);
	return wake ? uffd_wake(p->uffd, (void *)(uintptr_t)addr, unit) : 0;
}

int fault_read_all(struct pager *p, struct fault_reader *f, struct tx_queue *tx, char *err,
		   size_t err_len)
{
	ssize_t n;
	size_t i;
	int ret;

	for (;;) {
		n = read(p->uffd, f->msgs, sizeof(f->msgs));
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			ret = -errno;
			snprintf(err, err_len, "reading userfaultfd: %s", strerror(errno));
			return ret;
		}
		if (n % sizeof(struct uffd_msg)) {
			snprintf(err, err_len, "short read of %zd bytes from userfaultfd", n);
			return -EIO;
		}
		for (i = 0; i < (size_t)n / sizeof(struct uffd_msg); i++) {
			if (f->msgs[i].event != UFFD_EVENT_PAGEFAULT) {
				logger_warn(&p->log, "pager: unexpected userfaultfd event %u",
					    f->msgs[i].event);
				continue;
			}
			ret = fault_handle(p, f, tx, &f->msgs[i], clock_now_ns());
			if (ret) {
				snprintf(err, err_len, "serving a fault: %s", strerror(-ret));
				return ret;
			}
		}
		if ((size_t)n < sizeof(f->msgs))
			return 0;
	}
}
