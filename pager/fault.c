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

/* Waiters change on the listener only; p->lock lets pager_oldest_wait() read them. */
static int add_waiter(struct listener *l, uint64_t page_addr, pid_t tid, uint64_t now)
{
	int ret = 0;

	pthread_mutex_lock(&l->p->lock);
	if (l->n_waiters == l->cap_waiters) {
		size_t cap = l->cap_waiters ? 2 * l->cap_waiters : 64;
		struct waiter *w = realloc(l->waiters, cap * sizeof(*w));

		if (!w) {
			ret = -ENOMEM;
			goto out;
		}
		l->waiters = w;
		l->cap_waiters = cap;
	}
	l->waiters[l->n_waiters++] = (struct waiter){
		.page_addr = page_addr,
		.tid = tid,
		.since_ns = now,
	};
out:
	pthread_mutex_unlock(&l->p->lock);
	return ret;
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

int pager_oldest_wait(struct pager *p, struct pager_wait_info *out)
{
	const struct waiter *oldest = NULL;
	struct pager_region_state *r;
	struct listener *l;
	size_t i;
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	l = p->listener;
	for (i = 0; l && i < l->n_waiters; i++)
		if (!oldest || l->waiters[i].since_ns < oldest->since_ns)
			oldest = &l->waiters[i];
	if (oldest) {
		r = pager_region_of(p, oldest->page_addr);
		*out = (struct pager_wait_info){
			.addr = (void *)(uintptr_t)oldest->page_addr,
			.region = r ? r->id : 0,
			.offset = r ? oldest->page_addr - (uintptr_t)r->base : 0,
			.tid = oldest->tid,
			.age_ns = clock_now_ns() - oldest->since_ns,
		};
		ret = 1;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

int pager_take_unserved_fault(struct pager *p, struct pager_wait_info *out)
{
	struct pager_region_state *r;
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
	r = pager_region_of(p, addr);
	*out = (struct pager_wait_info){
		.addr = (void *)(uintptr_t)addr,
		.region = r ? r->id : 0,
		.offset = r ? addr - (uintptr_t)r->base : 0,
		.tid = (pid_t)msg.arg.pagefault.feat.ptid,
	};
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
	uint64_t page;
	int ret;

	if (!r) {
		pr_warn("pager: fault at 0x%llx outside every region", (unsigned long long)addr);
		return 0;
	}
	page = (addr - (uintptr_t)r->base) / p->page_size;
	stats_fault_seen(p, tid);
	switch (page_state_get(&r->pages, page)) {
	case PAGE_PRESENT:
		/* Installed between the fault and this read: the thread may still sleep. */
		pthread_mutex_lock(&p->lock);
		p->counters.faults_present++;
		pthread_mutex_unlock(&p->lock);
		return uffd_wake(p->uffd, (void *)(uintptr_t)addr, p->page_size);
	case PAGE_REQUESTED:
		pthread_mutex_lock(&p->lock);
		p->counters.faults_coalesced++;
		pthread_mutex_unlock(&p->lock);
		return add_waiter(l, addr, tid, now);
	case PAGE_ABSENT:
		break;
	}
	ret = add_waiter(l, addr, tid, now);
	if (ret)
		return ret;
	page_state_request(&r->pages, page);
	ret = queue_request(l, r, page);
	if (!ret) {
		pthread_mutex_lock(&p->lock);
		p->counters.requests_sent++;
		pthread_mutex_unlock(&p->lock);
	}
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
