/* SPDX-License-Identifier: GPL-2.0-only */
/* The destination pager's shared state: owner-facing calls (pager.c) and the listener thread. */
#ifndef PAGER_INTERNAL_H
#define PAGER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "histogram.h"
#include "page_state.h"
#include "pager.h"

struct pager_region_state {
	uint32_t id;
	uint8_t *base;
	uint64_t size;
	bool registered;
	struct page_state pages;
};

/* Moved forward only (IDLE -> RUNNING -> COMPLETE | FAILED), under pager.lock. */
enum pager_run_state {
	PAGER_IDLE,
	PAGER_RUNNING,
	PAGER_COMPLETE,
	PAGER_FAILED,
};

/* Counters the listener keeps and pager_get_stats() snapshots, under pager.lock. */
struct pager_counters {
	uint64_t pages_demand, pages_push, pages_zero, pages_duplicate;
	uint64_t pages_precopy, pages_discarded;
	uint64_t bytes_received;
	uint64_t faults, faults_coalesced, faults_present;
	uint64_t requests_sent, install_retries;
	uint64_t threads_other_faults;
	uint32_t n_threads;
	struct pager_thread_stats threads[PAGER_MAX_THREAD_STATS];
	struct histogram latency;
};

struct listener;

struct pager {
	struct pager_options opts;
	uint32_t page_size;
	int uffd;
	/* eventfd: the owner wakes the listener after setting stop_requested or push_released. */
	int ctl_fd;
	bool stop_requested; /* atomics */
	bool push_released;
	int demand_fd, push_fd;

	uint32_t n_regions;
	struct pager_region_state regions[PAGER_MAX_REGIONS];
	uint64_t pages_total;

	pthread_t thread;
	bool thread_started;
	struct listener *listener;

	pthread_mutex_t lock;
	pthread_cond_t changed;
	enum pager_run_state state;
	int error;
	char error_text[640];
	uint64_t start_ns, end_ns;
	struct pager_counters counters;
};

/* listener.c */
int listener_create(struct pager *p);
void *listener_main(void *arg);
void listener_destroy(struct pager *p);

/* pager.c: state transitions, callable from the listener. */
void pager_fail(struct pager *p, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void pager_set_complete(struct pager *p);
struct pager_region_state *pager_region_of(struct pager *p, uint64_t addr);
uint64_t pager_pages_missing_now(const struct pager *p);

/*
 * install.c: installs pages [first, first+count) of r, all missing by the page state, from src
 * (or as zero pages), marks them present, tells the observer, wakes the waiters. Returns the
 * pages installed, or -errno after pager_fail().
 */
int64_t pager_install_run(struct pager *p, struct pager_region_state *r, uint64_t first,
			  uint64_t count, const uint8_t *src, bool zero, uint64_t *retries);

/* stats.c: accounting, called by the listener with p->lock held. */
void stats_fault_served_locked(struct pager *p, pid_t tid, uint64_t wait_ns);
void stats_fault_seen_locked(struct pager *p, pid_t tid);

#endif
