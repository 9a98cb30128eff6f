// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pager's life cycle: IDLE -> RUNNING -> COMPLETE | FAILED, forward only, and RUNNING <->
 * DISCONNECTED while a lost connection is replaced; under the lock, with a broadcast on every
 * move for pager_wait() and for owners watching pager_state().
 */
#include "pager_internal.h"
#include "clock.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

/* The CLOCK_REALTIME moment timeout_ms from now, for pthread_cond_timedwait(). */
static struct timespec deadline_after(int timeout_ms)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += timeout_ms / 1000;
	t.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

void run_state_init(struct pager *p)
{
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->push_lock, NULL);
	pthread_cond_init(&p->changed, NULL);
	p->run.state = PAGER_STATE_IDLE;
}

void run_state_destroy(struct pager *p)
{
	pthread_cond_destroy(&p->changed);
	pthread_mutex_destroy(&p->push_lock);
	pthread_mutex_destroy(&p->lock);
}

bool run_state_start(struct pager *p)
{
	bool moved;

	pthread_mutex_lock(&p->lock);
	moved = p->run.state == PAGER_STATE_IDLE;
	if (moved) {
		p->run.start_ns = clock_now_ns();
		p->run.state = PAGER_STATE_RUNNING;
	}
	pthread_mutex_unlock(&p->lock);
	return moved;
}

void run_state_unstart(struct pager *p)
{
	pthread_mutex_lock(&p->lock);
	p->run.state = PAGER_STATE_IDLE;
	p->run.start_ns = 0;
	pthread_mutex_unlock(&p->lock);
}

bool run_state_fail(struct pager *p, int error, const char *text)
{
	bool moved;

	pthread_mutex_lock(&p->lock);
	moved = p->run.state == PAGER_STATE_RUNNING || p->run.state == PAGER_STATE_DISCONNECTED;
	if (moved) {
		if (p->run.state == PAGER_STATE_DISCONNECTED)
			p->run.disconnected_ns += clock_now_ns() - p->run.disconnect_ns;
		p->run.state = PAGER_STATE_FAILED;
		p->run.error = error < 0 ? error : -EIO;
		p->run.end_ns = clock_now_ns();
		snprintf(p->run.error_text, sizeof(p->run.error_text), "%s", text);
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
	return moved;
}

void run_state_complete(struct pager *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->run.state == PAGER_STATE_RUNNING) {
		p->run.state = PAGER_STATE_COMPLETE;
		p->run.end_ns = clock_now_ns();
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
}

enum pager_state run_state_get(struct pager *p)
{
	enum pager_state state;

	pthread_mutex_lock(&p->lock);
	state = p->run.state;
	pthread_mutex_unlock(&p->lock);
	return state;
}

int run_state_wait(struct pager *p, int timeout_ms)
{
	struct timespec deadline = deadline_after(timeout_ms > 0 ? timeout_ms : 0);
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	while ((p->run.state == PAGER_STATE_RUNNING || p->run.state == PAGER_STATE_DISCONNECTED) &&
	       ret != ETIMEDOUT) {
		if (timeout_ms < 0)
			pthread_cond_wait(&p->changed, &p->lock);
		else
			ret = pthread_cond_timedwait(&p->changed, &p->lock, &deadline);
	}
	switch (p->run.state) {
	case PAGER_STATE_COMPLETE:
		ret = 0;
		break;
	case PAGER_STATE_FAILED:
		ret = p->run.error;
		break;
	case PAGER_STATE_IDLE:
		ret = -EINVAL;
		break;
	default:
		ret = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

const char *run_state_error(struct pager *p)
{
	const char *text;

	pthread_mutex_lock(&p->lock);
	text = p->run.state == PAGER_STATE_FAILED ? p->run.error_text : "";
	pthread_mutex_unlock(&p->lock);
	return text;
}

void run_state_disconnect(struct pager *p, const char *why)
{
	pthread_mutex_lock(&p->lock);
	if (p->run.state == PAGER_STATE_RUNNING) {
		p->run.state = PAGER_STATE_DISCONNECTED;
		p->run.disconnect_ns = clock_now_ns();
		snprintf(p->run.disconnect_text, sizeof(p->run.disconnect_text), "%s", why);
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
}

void run_state_reconnect(struct pager *p)
{
	pthread_mutex_lock(&p->lock);
	if (p->run.state == PAGER_STATE_DISCONNECTED) {
		p->run.state = PAGER_STATE_RUNNING;
		p->run.reconnects++;
		p->run.disconnected_ns += clock_now_ns() - p->run.disconnect_ns;
		pthread_cond_broadcast(&p->changed);
	}
	pthread_mutex_unlock(&p->lock);
}

const char *run_state_disconnect_reason(struct pager *p)
{
	const char *text;

	pthread_mutex_lock(&p->lock);
	text = p->run.disconnect_text;
	pthread_mutex_unlock(&p->lock);
	return text;
}

bool run_state_wait_disconnected(struct pager *p, int timeout_ms)
{
	struct timespec deadline = deadline_after(timeout_ms);
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	while (p->run.state == PAGER_STATE_RUNNING && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&p->changed, &p->lock, &deadline);
	ret = p->run.state == PAGER_STATE_DISCONNECTED;
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void run_state_confirm(struct pager *p)
{
	pthread_mutex_lock(&p->lock);
	p->run.confirmed = true;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}

bool run_state_confirmed(struct pager *p)
{
	bool confirmed;

	pthread_mutex_lock(&p->lock);
	confirmed = p->run.confirmed;
	pthread_mutex_unlock(&p->lock);
	return confirmed;
}
