// SPDX-License-Identifier: GPL-2.0-only
/* The pager's life cycle as its owner sees it: create, register, start, wait, destroy. */
#include "pager_internal.h"
#include "clock.h"
#include "log.h"
#include "uffd.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

/* THREAD_ID attributes each fault to the thread (vCPU) that waits on it. */
#define PAGER_UFFD_FEATURES ((uint64_t)UFFD_FEATURE_THREAD_ID)
#define PAGER_UFFD_IOCTLS ((1ull << _UFFDIO_COPY) | (1ull << _UFFDIO_ZEROPAGE) | (1ull << _UFFDIO_WAKE))

void pager_options_init(struct pager_options *opts)
{
	*opts = (struct pager_options){
		.listener_cpu = -1,
		.dead_peer_ms = 10000,
	};
}

int pager_create(const struct pager_options *opts, struct pager **out)
{
	struct pager *p;
	char err[512];
	int ret;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (opts)
		p->opts = *opts;
	else
		pager_options_init(&p->opts);
	p->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	p->demand_fd = p->push_fd = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->changed, NULL);

	p->uffd = uffd_open(PAGER_UFFD_FEATURES, NULL, err, sizeof(err));
	if (p->uffd < 0) {
		ret = p->uffd;
		pr_err("%s", err);
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
	pthread_cond_destroy(&p->changed);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return ret;
}

/* A resident page would never fault, so it would never be fetched: refuse such memory. */
static int check_untouched(void *addr, uint64_t size, uint32_t page_size)
{
	uint64_t pages = size / page_size, i;
	unsigned char *vec;
	int ret = 0;

	vec = malloc(pages);
	if (!vec)
		return -ENOMEM;
	if (mincore(addr, size, vec)) {
		ret = -errno;
	} else {
		for (i = 0; i < pages; i++) {
			if (vec[i] & 1) {
				pr_err("region at %p: page at offset 0x%llx is already resident; "
				       "register memory before anything touches it",
				       addr, (unsigned long long)(i * page_size));
				ret = -EEXIST;
				break;
			}
		}
	}
	free(vec);
	return ret;
}

int pager_add_region(struct pager *p, uint32_t id, void *addr, uint64_t size)
{
	struct pager_region_state *r;
	char err[512];
	uint32_t i;
	int ret;

	if (p->state != PAGER_IDLE)
		return -EBUSY;
	if (id != p->n_regions || id >= PAGER_MAX_REGIONS) {
		pr_err("region id %u: regions are added in layout order (next is %u)", id,
		       p->n_regions);
		return -EINVAL;
	}
	if (!size || size % p->page_size || (uintptr_t)addr % p->page_size)
		return -EINVAL;
	for (i = 0; i < p->n_regions; i++) {
		const struct pager_region_state *o = &p->regions[i];

		if ((uint8_t *)addr < o->base + o->size && o->base < (uint8_t *)addr + size)
			return -EINVAL;
	}
	ret = check_untouched(addr, size, p->page_size);
	if (ret)
		return ret;
	r = &p->regions[id];
	ret = page_state_init(&r->pages, size / p->page_size);
	if (ret)
		return ret;
	ret = uffd_register_missing(p->uffd, addr, size, PAGER_UFFD_IOCTLS, err, sizeof(err));
	if (ret) {
		pr_err("%s", err);
		page_state_free(&r->pages);
		return ret;
	}
	r->id = id;
	r->base = addr;
	r->size = size;
	r->registered = true;
	p->n_regions++;
	p->pages_total += size / p->page_size;
	return 0;
}

struct pager_region_state *pager_region_of(struct pager *p, uint64_t addr)
{
	uint32_t i;

	for (i = 0; i < p->n_regions; i++) {
		struct pager_region_state *r = &p->regions[i];

		if (addr >= (uintptr_t)r->base && addr - (uintptr_t)r->base < r->size)
			return r;
	}
	return NULL;
}

uint64_t pager_pages_missing_now(const struct pager *p)
{
	uint64_t missing = 0;
	uint32_t i;

	for (i = 0; i < p->n_regions; i++)
		missing += page_state_missing(&p->regions[i].pages);
	return missing;
}

int pager_start(struct pager *p, int demand_fd, int push_fd)
{
	int ret;

	if (p->state != PAGER_IDLE || !p->n_regions)
		return -EINVAL;
	p->demand_fd = demand_fd;
	p->push_fd = push_fd;
	ret = listener_create(p);
	if (ret)
		return ret;
	pthread_mutex_lock(&p->lock);
	p->start_ns = clock_now_ns();
	p->state = PAGER_RUNNING;
	pthread_mutex_unlock(&p->lock);
	ret = pthread_create(&p->thread, NULL, listener_main, p);
	if (ret) {
		pthread_mutex_lock(&p->lock);
		p->state = PAGER_IDLE;
		pthread_mutex_unlock(&p->lock);
		listener_destroy(p);
		return -ret;
	}
	p->thread_started = true;
	if (p->opts.listener_cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(p->opts.listener_cpu, &set);
		ret = pthread_setaffinity_np(p->thread, sizeof(set), &set);
		if (ret)
			pr_warn("listener: cannot pin to CPU %d: %s", p->opts.listener_cpu,
				strerror(ret));
	}
	return 0;
}

void pager_fail(struct pager *p, int error, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&p->lock);
	if (p->state == PAGER_RUNNING) {
		p->state = PAGER_FAILED;
		p->error = error < 0 ? error : -EIO;
		p->end_ns = clock_now_ns();
		snprintf(p->error_text, sizeof(p->error_text),
			 "%s; %llu of %llu pages missing, their faults stay blocked", text,
			 (unsigned long long)pager_pages_missing_now(p),
			 (unsigned long long)p->pages_total);
		pr_err("pager: %s", p->error_text);
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
}

void pager_set_complete(struct pager *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->state == PAGER_RUNNING) {
		p->state = PAGER_COMPLETE;
		p->end_ns = clock_now_ns();
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
}

int pager_wait(struct pager *p, int timeout_ms)
{
	struct timespec deadline;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &deadline);
	if (timeout_ms > 0) {
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&p->lock);
	while (p->state == PAGER_RUNNING && ret != ETIMEDOUT) {
		if (timeout_ms < 0)
			pthread_cond_wait(&p->changed, &p->lock);
		else
			ret = pthread_cond_timedwait(&p->changed, &p->lock, &deadline);
	}
	if (p->state == PAGER_COMPLETE)
		ret = 0;
	else if (p->state == PAGER_FAILED)
		ret = p->error;
	else if (p->state == PAGER_IDLE)
		ret = -EINVAL;
	else
		ret = -ETIMEDOUT;
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void pager_release_push(struct pager *p)
{
	uint64_t one = 1;

	if (__atomic_exchange_n(&p->push_released, true, __ATOMIC_ACQ_REL))
		return;
	if (write(p->ctl_fd, &one, sizeof(one)) != sizeof(one))
		pr_warn("pager: cannot signal the listener: %s", strerror(errno));
}

const char *pager_error(struct pager *p)
{
	const char *text;

	pthread_mutex_lock(&p->lock);
	text = p->state == PAGER_FAILED ? p->error_text : "";
	pthread_mutex_unlock(&p->lock);
	return text;
}

bool pager_page_present(const struct pager *p, const void *addr)
{
	uint32_t i;

	for (i = 0; i < p->n_regions; i++) {
		const struct pager_region_state *r = &p->regions[i];

		if ((const uint8_t *)addr >= r->base && (const uint8_t *)addr < r->base + r->size)
			return page_state_get(&r->pages, ((const uint8_t *)addr - r->base) /
							       p->page_size) == PAGE_PRESENT;
	}
	return false;
}

uint64_t pager_pages_missing(const struct pager *p)
{
	return pager_pages_missing_now(p);
}

void pager_destroy(struct pager *p)
{
	uint64_t one = 1;
	uint32_t i;

	if (!p)
		return;
	if (p->thread_started) {
		__atomic_store_n(&p->stop_requested, true, __ATOMIC_RELEASE);
		if (write(p->ctl_fd, &one, sizeof(one)) != sizeof(one))
			pr_warn("pager: cannot signal the listener: %s", strerror(errno));
		pthread_join(p->thread, NULL);
		listener_destroy(p);
	}
	for (i = 0; i < p->n_regions; i++) {
		struct pager_region_state *r = &p->regions[i];

		/*
		 * Closing the uffd releases blocked faults, which would then map zero pages over
		 * data never received. Make such memory inaccessible instead: a loud failure.
		 */
		if (page_state_missing(&r->pages) && mprotect(r->base, r->size, PROT_NONE))
			pr_err("pager: cannot protect incomplete region %u: %s", r->id,
			       strerror(errno));
		if (r->registered)
			uffd_unregister(p->uffd, r->base, r->size);
		page_state_free(&r->pages);
	}
	if (p->demand_fd >= 0)
		close(p->demand_fd);
	if (p->push_fd >= 0)
		close(p->push_fd);
	close(p->ctl_fd);
	close(p->uffd);
	pthread_cond_destroy(&p->changed);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
