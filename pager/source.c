// SPDX-License-Identifier: GPL-2.0-only
/*
 * The source page server's public API. Two threads serve, one per socket, so a demand answer
 * never queues behind the push: the caller's thread runs the demand loop (source_demand.c),
 * a push thread streams the rest (source_push.c).
 */
#include "source_internal.h"
#include "json.h"
#include "layout_wire.h"
#include "net.h"
#include "options.h"
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The first version of struct pager_source_options ends with log_level. */
#define SOURCE_OPTIONS_MIN_SIZE (offsetof(struct pager_source_options, log_level) + sizeof(int))

void pager_source_options_defaults(struct pager_source_options *opts, size_t size)
{
	const struct pager_source_options defaults = {
		.size = (uint32_t)size,
		.push = true,
		/* One 256 KiB frame: a quarter of the frames (and installs) of 16 pages. */
		.push_run_pages = 64,
		.prepage_window = 64,
		.demand_cpu = -1,
		.push_cpu = -1,
		.io_timeout_ms = 30000,
		/*
		 * Below the demand thread: where the two share a CPU, a woken demand thread does not
		 * wait a scheduler slice behind the push (measured with the source on a CPU of its
		 * own: fault p99 0.7 ms at nice 10, 3.2 ms at 0).
		 */
		.push_nice = 10,
		.log_level = PAGER_LOG_WARN,
	};

	options_fill(opts, size, &defaults, sizeof(defaults));
}

int pager_source_create(const struct pager_source_options *opts, struct pager_source **out)
{
	struct pager_source *src = calloc(1, sizeof(*src));
	int ret;

	if (!src)
		return -ENOMEM;
	pager_source_options_init(&src->opts);
	if (opts) {
		ret = options_copy(&src->opts, sizeof(src->opts), opts, opts->size,
				   SOURCE_OPTIONS_MIN_SIZE);
		if (ret) {
			free(src);
			return ret;
		}
	}
	if (!src->opts.push_run_pages || src->opts.push_run_pages > WIRE_MAX_REQUEST_PAGES)
		src->opts.push_run_pages = WIRE_MAX_REQUEST_PAGES;
	logger_init(&src->log, src->opts.log_fn, src->opts.log_opaque, src->opts.log_level);
	src->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
	src->demand_fd = src->push_fd = -1;
	pthread_mutex_init(&src->lock, NULL);
	pthread_mutex_init(&src->send_lock, NULL);
	*out = src;
	return 0;
}

static int add_region(struct pager_source *src, uint32_t id, uint64_t gpa, const void *addr,
		      uint64_t size, uint32_t unit_pages)
{
	uint64_t unit = (uint64_t)unit_pages * src->page_size, words;
	struct source_region *r;

	if (id != src->n_regions || id >= PAGER_MAX_REGIONS || !size || size % unit || gpa % unit)
		return -EINVAL;
	/* Units are whole words of the page bitmaps (mark_unit()): 4 KiB base pages, so far. */
	if (unit_pages > 1 && unit_pages % 64)
		return -EOPNOTSUPP;
	r = &src->regions[id];
	r->unit_pages = unit_pages;
	r->n_pages = size / src->page_size;
	words = (r->n_pages + 63) / 64;
	r->sent = calloc(words, sizeof(uint64_t));
	r->requested = calloc(words, sizeof(uint64_t));
	if (!r->sent || !r->requested) {
		free(r->sent);
		free(r->requested);
		return -ENOMEM;
	}
	r->id = id;
	r->gpa = gpa;
	r->base = addr;
	r->size = size;
	src->n_regions++;
	return 0;
}

int pager_source_add_region(struct pager_source *src, uint32_t id, uint64_t gpa,
			    const void *addr, uint64_t size)
{
	return add_region(src, id, gpa, addr, size, 1);
}

int pager_source_add_region_hugetlb(struct pager_source *src, uint32_t id, uint64_t gpa,
				    const void *addr, uint64_t size)
{
	return add_region(src, id, gpa, addr, size, WIRE_HUGE_PAGE_SIZE / src->page_size);
}

void pager_source_layout(const struct pager_source *src, struct pager_layout *layout)
{
	uint32_t i;

	layout->n_regions = src->n_regions;
	for (i = 0; i < src->n_regions; i++)
		layout->regions[i] = (struct pager_region){
			.id = src->regions[i].id,
			.gpa = src->regions[i].gpa,
			.size = src->regions[i].size,
			.backing = src->regions[i].unit_pages > 1 ? PAGER_BACKING_HUGETLB
								   : PAGER_BACKING_ANON,
		};
}

int pager_source_serve(struct pager_source *src, int demand_fd, int push_fd)
{
	struct wire_layout *layout = malloc(sizeof(*layout));
	struct pager_layout public_layout;
	bool push_started = false;
	pthread_t push_thread;
	int ret;

	if (!layout)
		return -ENOMEM;
	/* Served again after a resume: the last session's outcome is history. */
	pthread_mutex_lock(&src->lock);
	src->error = 0;
	src->lost = false;
	src->error_text[0] = 0;
	pthread_mutex_unlock(&src->lock);
	__atomic_store_n(&src->stop, false, __ATOMIC_RELEASE);
	__atomic_store_n(&src->prepage_hint, 0, __ATOMIC_RELEASE);
	pager_source_layout(src, &public_layout);
	layout_to_wire(&public_layout, layout);
	src->demand_fd = demand_fd;
	src->push_fd = push_fd < 0 ? -1 : push_fd;
	net_tune(demand_fd, (unsigned int)src->opts.io_timeout_ms);
	if (push_fd >= 0)
		net_tune(push_fd, (unsigned int)src->opts.io_timeout_ms);
	__atomic_store_n(&src->push_finished, false, __ATOMIC_RELEASE);
	if (src->opts.push) {
		ret = -pthread_create(&push_thread, NULL, source_push_main, src);
		if (ret)
			goto out;
		push_started = true;
	} else {
		/* No push: say so at once, so that a quiet push socket is not taken for a dead one. */
		Wire__PushDone none = WIRE__PUSH_DONE__INIT;

		ret = source_send_msg(src, source_push_socket(src), WIRE_PUSH_DONE, &none.base);
		if (ret) {
			source_lost(src, ret, "push connection: %s", strerror(-ret));
			ret = -ENOTCONN;
			goto out;
		}
	}
	ret = source_demand_loop(src, layout);
	if (push_started) {
		/*
		 * Whatever the outcome, the push is over: a push thread blocked sending pages the
		 * destination no longer reads must not keep us here.
		 */
		__atomic_store_n(&src->stop, true, __ATOMIC_RELEASE);
		/* On the only connection, only when the push is still sending: it is the owner's. */
		if (src->push_fd >= 0 || !__atomic_load_n(&src->push_finished, __ATOMIC_ACQUIRE))
			shutdown(source_push_socket(src), SHUT_RDWR);
		pthread_join(push_thread, NULL);
	}
	pthread_mutex_lock(&src->lock);
	if (src->error)
		ret = src->lost ? -ENOTCONN : src->error;
	pthread_mutex_unlock(&src->lock);
out:
	free(layout);
	return ret;
}

const char *pager_source_error(struct pager_source *src)
{
	return src->error_text;
}

void pager_source_get_stats(struct pager_source *src, struct pager_source_stats *out)
{
	out->requests = __atomic_load_n(&src->stats.requests, __ATOMIC_RELAXED);
	out->pages_demand = __atomic_load_n(&src->stats.pages_demand, __ATOMIC_RELAXED);
	out->pages_push = __atomic_load_n(&src->stats.pages_push, __ATOMIC_RELAXED);
	out->pages_zero = __atomic_load_n(&src->stats.pages_zero, __ATOMIC_RELAXED);
	out->duplicate_requests = __atomic_load_n(&src->stats.duplicate_requests, __ATOMIC_RELAXED);
	out->prepage_jumps = __atomic_load_n(&src->stats.prepage_jumps, __ATOMIC_RELAXED);
	out->bytes_sent = __atomic_load_n(&src->stats.bytes_sent, __ATOMIC_RELAXED);
	out->pages_precopy = __atomic_load_n(&src->stats.pages_precopy, __ATOMIC_RELAXED);
	out->pages_discarded = __atomic_load_n(&src->stats.pages_discarded, __ATOMIC_RELAXED);
	out->reconnects = __atomic_load_n(&src->stats.reconnects, __ATOMIC_RELAXED);
	out->pages_resent = __atomic_load_n(&src->stats.pages_resent, __ATOMIC_RELAXED);
	pthread_mutex_lock(&src->lock);
	out->dest_digest_valid = src->stats.dest_digest_valid;
	out->dest_digest = src->stats.dest_digest;
	pthread_mutex_unlock(&src->lock);
}

void pager_source_stats_write_json(const struct pager_source_stats *s, FILE *out)
{
	struct json j;

	json_init(&j, out);
	json_object_begin(&j);
	json_kv_u64(&j, "requests", s->requests);
	json_kv_u64(&j, "pages_demand", s->pages_demand);
	json_kv_u64(&j, "pages_push", s->pages_push);
	json_kv_u64(&j, "pages_zero", s->pages_zero);
	json_kv_u64(&j, "duplicate_requests", s->duplicate_requests);
	json_kv_u64(&j, "prepage_jumps", s->prepage_jumps);
	json_kv_u64(&j, "pages_precopy", s->pages_precopy);
	json_kv_u64(&j, "pages_discarded", s->pages_discarded);
	json_kv_u64(&j, "bytes_sent", s->bytes_sent);
	json_kv_u64(&j, "reconnects", s->reconnects);
	json_kv_u64(&j, "pages_resent", s->pages_resent);
	json_object_end(&j);
}

void pager_source_destroy(struct pager_source *src)
{
	uint32_t i;

	if (!src)
		return;
	for (i = 0; i < src->n_regions; i++) {
		free(src->regions[i].sent);
		free(src->regions[i].requested);
	}
	pthread_mutex_destroy(&src->lock);
	pthread_mutex_destroy(&src->send_lock);
	free(src);
}
