// SPDX-License-Identifier: GPL-2.0-only
/*
 * The relay's run: accept a connection, dial the other end for it, start its four threads,
 * and keep listening, so that a source that redials after a cut (a new session or a resumed
 * one) is relayed too, under the rest of the schedule. Returns once max_connections
 * connections have been relayed to their end, or when stopped.
 */
#include "relay_internal.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ACCEPT_POLL_MS 100
/* A target that is gone refuses at once; one that is starting gets this long. */
#define DIAL_TIMEOUT_MS 1000

int relay_create(const struct relay_options *opts, struct relay **out, char *err,
		 size_t err_len)
{
	struct relay *r = calloc(1, sizeof(*r));
	pthread_condattr_t attr;
	int ret;

	if (!r || !(r->events = calloc(RELAY_MAX_EVENTS, sizeof(*r->events)))) {
		free(r);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	r->opts = *opts;
	if (net_parse_addr(opts->listen, "127.0.0.1", &r->listen_addr) ||
	    net_parse_addr(opts->to, "127.0.0.1", &r->to_addr)) {
		snprintf(err, err_len, "bad address '%s' or '%s'", opts->listen, opts->to);
		ret = -EINVAL;
		goto err_free;
	}
	r->lfd = net_listen(&r->listen_addr, 16);
	if (r->lfd < 0) {
		ret = r->lfd;
		snprintf(err, err_len, "cannot listen on %s: %s", opts->listen, strerror(-ret));
		goto err_free;
	}
	if (opts->port_file && (ret = net_write_port_file(opts->port_file, r->lfd))) {
		snprintf(err, err_len, "cannot write %s: %s", opts->port_file, strerror(-ret));
		close(r->lfd);
		goto err_free;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->changed, &attr);
	pthread_condattr_destroy(&attr);
	r->start_ns = relay_now();
	*out = r;
	return 0;
err_free:
	free(r->events);
	free(r);
	return ret;
}

int relay_port(const struct relay *r)
{
	return net_local_port(r->lfd);
}

void relay_stop(struct relay *r)
{
	atomic_store(&r->stop, true);
}

/* A connection accepted: dial its other end and start relaying. */
static void link_open(struct relay *r, int client_fd)
{
	struct relay_link *l, **tail;
	int server_fd;

	server_fd = net_connect(&r->to_addr, DIAL_TIMEOUT_MS);
	if (server_fd < 0) {
		/* The client sees its connection close, as if the far end had refused it. */
		pr_warn("connection %u: cannot reach %s: %s", r->n_links, r->opts.to,
			strerror(-server_fd));
		close(client_fd);
		r->n_links++;
		return;
	}
	net_tune(client_fd, 0);
	net_tune(server_fd, 0);
	l = calloc(1, sizeof(*l));
	if (!l) {
		pr_err("out of memory for connection %u", r->n_links);
		close(client_fd);
		close(server_fd);
		r->n_links++;
		return;
	}
	*l = (struct relay_link){ .relay = r, .id = r->n_links, .fds = { client_fd, server_fd } };
	pthread_mutex_lock(&r->lock);
	for (tail = &r->links; *tail; tail = &(*tail)->next)
		;
	*tail = l;
	r->n_links++;
	r->links_active++;
	pthread_mutex_unlock(&r->lock);
	pr_debug("connection %u relayed to %s", l->id, r->opts.to);
	if (relay_link_start(l) && !l->started) {
		/* No thread to end it: it is over now (reap_links() closes its sockets). */
		pr_err("connection %u: out of memory", l->id);
		pthread_mutex_lock(&r->lock);
		r->links_active--;
		pthread_mutex_unlock(&r->lock);
	}
}

/* Joins the links whose threads are all over and closes their sockets. */
static void reap_links(struct relay *r)
{
	struct relay_link *l;

	for (l = r->links; l; l = l->next) {
		if (l->joined || atomic_load(&l->threads_left) > 0)
			continue;
		/* From here a cut from another connection of its pair leaves it alone. */
		pthread_mutex_lock(&r->lock);
		l->joined = true;
		pthread_mutex_unlock(&r->lock);
		relay_link_join(l);
		close(l->fds[0]);
		close(l->fds[1]);
		pr_info("connection %u (%s) over: %llu bytes to the server, %llu back%s", l->id,
			relay_channel_name(l->channel), (unsigned long long)l->dir[0].bytes_out,
			(unsigned long long)l->dir[1].bytes_out, l->cut ? ", cut" : "");
	}
}

static void wait_changed(struct relay *r, unsigned int ms)
{
	uint64_t t = relay_now() + (uint64_t)ms * 1000000ull;
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	pthread_mutex_lock(&r->lock);
	pthread_cond_timedwait(&r->changed, &r->lock, &ts);
	pthread_mutex_unlock(&r->lock);
}

static void cut_all(struct relay *r)
{
	struct relay_link *l;

	pthread_mutex_lock(&r->lock);
	for (l = r->links; l; l = l->next)
		relay_link_cut(l);
	pthread_mutex_unlock(&r->lock);
}

/* Every connection so far has ended, and for idle_exit_ms no new one came. */
static bool idle_long_enough(struct relay *r, uint64_t *idle_since)
{
	uint64_t now = clock_now_ns();
	unsigned int active;

	if (!r->opts.idle_exit_ms || !r->n_links)
		return false;
	pthread_mutex_lock(&r->lock);
	active = r->links_active;
	pthread_mutex_unlock(&r->lock);
	if (active) {
		*idle_since = 0;
		return false;
	}
	if (!*idle_since)
		*idle_since = now;
	return now - *idle_since >= r->opts.idle_exit_ms * 1000000ull;
}

int relay_run(struct relay *r)
{
	uint64_t idle_since = 0;
	unsigned int active;
	int fd, ret = 0;

	while (!atomic_load(&r->stop) && r->n_links < r->opts.max_connections) {
		fd = net_accept(r->lfd, ACCEPT_POLL_MS);
		reap_links(r);
		if (fd == -ETIMEDOUT) {
			if (idle_long_enough(r, &idle_since))
				break;
			continue;
		}
		idle_since = 0;
		if (fd < 0) {
			pr_err("accept: %s", strerror(-fd));
			ret = fd;
			break;
		}
		link_open(r, fd);
	}
	/* No more clients: a late one is refused rather than left waiting. */
	close(r->lfd);
	r->lfd = -1;
	for (;;) {
		pthread_mutex_lock(&r->lock);
		active = r->links_active;
		pthread_mutex_unlock(&r->lock);
		if (!active)
			break;
		if (atomic_load(&r->stop) || ret)
			cut_all(r);
		wait_changed(r, ACCEPT_POLL_MS);
	}
	reap_links(r);
	return ret;
}

void relay_destroy(struct relay *r)
{
	struct relay_link *l;
	struct relay_pair *p;

	if (!r)
		return;
	if (r->lfd >= 0)
		close(r->lfd);
	while ((l = r->links)) {
		r->links = l->next;
		free(l);
	}
	while ((p = r->pairs)) {
		r->pairs = p->next;
		free(p);
	}
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->changed);
	free(r->events);
	free(r);
}
