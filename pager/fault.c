// SPDX-License-Identifier: GPL-2.0-only
/* Fault path, first half: a uffd event becomes a waiter and, at most once a page, a request. */
#include "listener.h"
#include "clock.h"
#include "log.h"
#include "uffd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Waiters change on the listener only, under p->lock (held by the caller) for their readers. */
static int add_waiter_locked(struct listener *l, uint64_t page_addr, pid_t tid, uint64_t now)
{
	if (l->n_waiters == l->cap_waiters) {
		size_t cap = l->cap_waiters ? 2 * l->cap_waiters : 64;
		struct waiter *w = realloc(l->waiters, cap * sizeof(*w));

		if (!w)
			return -ENOMEM;
		l->waiters = w;
		l->cap_waiters = cap;
	}
	l->waiters[l->n_waiters++] = (struct waiter){
		.page_addr = page_addr,
		.tid = tid,
		.since_ns = now,
	};
	return 0;
}

/* Every waiter on [addr, addr+len) was just woken by an install: account for it. */
void fault_wake_range(struct listener *l, uint64_t addr, uint64_t len)
{
	struct pager *p = l->p;
	uint64_t now = 0;
	size_t i = 0;

	pthread_mutex_lock(&p->lock);
	while (i < l->n_waiters) {
		struct waiter *w = &l->waiters[i];

		if (w->page_addr - addr >= len) {
			i++;
			continue;
		}
		if (!now)
			now = clock_now_ns();
		stats_fault_served_locked(p, w->tid, now - w->since_ns);
		*w = l->waiters[--l->n_waiters];
	}
	pthread_mutex_unlock(&p->lock);
}

static struct pager_wait_info wait_info(struct pager *p, uint64_t page_addr, pid_t tid,
				       uint64_t age_ns)
{
	struct pager_region_state *r = pager_region_of(p, page_addr);

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
	const struct waiter *oldest = NULL;
	struct listener *l;
	size_t i;
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	l = p->listener;
	for (i = 0; l && i < l->n_waiters; i++)
		if (!oldest || l->waiters[i].since_ns < oldest->since_ns)
			oldest = &l->waiters[i];
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
	if (p->state != PAGER_IDLE) {
		pthread_mutex_unlock(&p->lock);
		return -EBUSY;
	}
	n = read(p->uffd, &msg, sizeof(msg));
	pthread_mutex_unlock(&p->lock);
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	if (n != sizeof(msg) || msg.event != UFFD_EVENT_PAGEFAULT)
		return -EIO;
	addr = msg.arg.pagefault.address & ~((uint64_t)p->page_size - 1);
	*out = wait_info(p, addr, (pid_t)msg.arg.pagefault.feat.ptid, 0);
	return 1;
}

static int queue_request(struct listener *l, const struct pager_region_state *r, uint64_t page)
{
	Wire__PageRequest req = WIRE__PAGE_REQUEST__INIT;

	req.region = r->id;
	req.offset = page * l->p->page_size;
	req.count = 1;
	req.request_id = ++l->next_request_id;
	return listener_queue_frame(l, WIRE_PAGE_REQUEST, &req.base);
}

static int handle_fault(struct listener *l, const struct uffd_msg *msg, uint64_t now)
{
	struct pager *p = l->p;
	uint64_t addr = msg->arg.pagefault.address & ~((uint64_t)p->page_size - 1);
	pid_t tid = (pid_t)msg->arg.pagefault.feat.ptid;
	struct pager_region_state *r = pager_region_of(p, addr);
	enum page_status status;
	uint64_t page;
	int ret = 0;

	if (!r) {
		pr_warn("pager: fault at 0x%llx outside every region", (unsigned long long)addr);
		return 0;
	}
	page = (addr - (uintptr_t)r->base) / p->page_size;
	status = page_state_get(&r->pages, page);
	if (status == PAGE_ABSENT) {
		page_state_request(&r->pages, page);
		ret = queue_request(l, r, page);
		if (ret)
			return ret;
	}
	/* All of this fault's bookkeeping in one critical section: it is the hot path. */
	pthread_mutex_lock(&p->lock);
	stats_fault_seen_locked(p, tid);
	switch (status) {
	case PAGE_PRESENT:
		p->counters.faults_present++;
		break;
	case PAGE_REQUESTED:
		p->counters.faults_coalesced++;
		ret = add_waiter_locked(l, addr, tid, now);
		break;
	case PAGE_ABSENT:
		p->counters.requests_sent++;
		ret = add_waiter_locked(l, addr, tid, now);
		break;
	}
	pthread_mutex_unlock(&p->lock);
	/* Installed between the fault and this read: the thread may still sleep. */
	if (status == PAGE_PRESENT)
		ret = uffd_wake(p->uffd, (void *)(uintptr_t)addr, p->page_size);
	return ret;
}

int fault_read_all(struct listener *l)
{
	struct pager *p = l->p;
	ssize_t n;
	size_t i;
	int ret;

	for (;;) {
		n = read(p->uffd, l->msgs, sizeof(l->msgs));
		if (n < 0) {
			if (errno == EAGAIN)
				return 0;
			if (errno == EINTR)
				continue;
			ret = -errno;
			pager_fail(p, ret, "reading userfaultfd: %s", strerror(errno));
			return ret;
		}
		if (n % sizeof(struct uffd_msg)) {
			pager_fail(p, -EIO, "short read of %zd bytes from userfaultfd", n);
			return -EIO;
		}
		for (i = 0; i < (size_t)n / sizeof(struct uffd_msg); i++) {
			uint64_t now = clock_now_ns();

			if (l->msgs[i].event != UFFD_EVENT_PAGEFAULT) {
				pr_warn("pager: unexpected userfaultfd event %u", l->msgs[i].event);
				continue;
			}
			ret = handle_fault(l, &l->msgs[i], now);
			if (ret) {
				pager_fail(p, ret, "serving a fault: %s", strerror(-ret));
				return ret;
			}
		}
		if ((size_t)n < sizeof(l->msgs))
			return 0;
	}
}
