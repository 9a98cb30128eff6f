// SPDX-License-Identifier: GPL-2.0-only
/* The destination's session: its states' steps in order, moved forward in one place. */
#include "dest.h"
#include "clock.h"
#include "digest.h"
#include "log.h"
#include "state_codec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool guest_finished(const struct machine *m)
{
	unsigned int i;

	for (i = 0; i < m->cfg.nr_vcpus; i++)
		if (!m->monitor.vcpu[i].done)
			return false;
	return true;
}

/* Stops the guest: at once for an endless one, else once it finished (or the timeout). */
static int stop_guest(struct dest_session *s)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)s->o->timeout_ms * 1000000ull;

	if (s->guest.program == GUEST_INCREMENTER && !s->guest.count) {
		/* Runs forever: let it run on the complete memory a while, then stop it. */
		usleep(s->o->run_after_complete_ms * 1000u);
	} else {
		while (!guest_finished(s->m) && clock_now_ns() < deadline)
			usleep(1000);
	}
	return machine_stop(s->m);
}

static int step_config(struct dest_session *s)
{
	int ret = dest_recv_config(s);

	return ret ? ret : dest_build(s);
}

/* The guest's own answer, and the memory as received against the source's at switch-over. */
static int step_check(struct dest_session *s)
{
	int ret = stop_guest(s);

	/* The vCPU threads are joined: nothing can hang any more. */
	s->threads_may_hang = false;
	watchdog_stop(s->wd);
	s->wd = NULL;
	if (ret)
		return dest_fail(s, MIG_EXIT_CHECK, ret, "a vCPU failed: %s", strerror(-ret));
	s->received_digest = digest_of_page_hashes(s->rd.hashes, s->rd.n_pages);
	s->digest_match = s->received_digest == s->source_digest;
	s->guest_ok = !machine_check_guest(s->m, s->guest_check, sizeof(s->guest_check));
	pr_info("guest check: %s; memory as received %s the source's at switch-over",
		s->guest_check, s->digest_match ? "matches" : "DIFFERS FROM");
	if (!s->guest_ok)
		return dest_fail(s, MIG_EXIT_CHECK, -EINVAL, "guest check: %s", s->guest_check);
	if (!s->digest_match)
		return dest_fail(s, MIG_EXIT_CHECK, -EINVAL,
				 "memory as received differs from the source's at switch-over");
	s->status = MIG_EXIT_OK;
	return 0;
}

static const struct {
	const char *name;
	int (*step)(struct dest_session *s);
} dest_states[DEST_NR_STATES] = {
	[DEST_ACCEPT] = { "accept", dest_accept },
	[DEST_HANDSHAKE] = { "handshake", dest_handshake },
	[DEST_CONFIG] = { "config", step_config },
	[DEST_PRECOPY] = { "precopy", dest_recv_precopy },
	[DEST_STATE] = { "state", dest_recv_state },
	[DEST_RESTORE] = { "restore", dest_restore },
	[DEST_RUNNING] = { "running", dest_wait_for_memory },
	[DEST_CHECK] = { "check", step_check },
	[DEST_DONE] = { "done", NULL },
	[DEST_FAILED] = { "failed", NULL },
};

const char *dest_state_name(enum dest_state state)
{
	return state < DEST_NR_STATES ? dest_states[state].name : "unknown";
}

int dest_fail(struct dest_session *s, enum mig_exit status, int err, const char *fmt, ...)
{
	char reason[sizeof(s->failure)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	pr_err("%s", reason);
	if (!s->failure[0]) {
		memcpy(s->failure, reason, sizeof(reason));
		s->status = status;
	}
	return err < 0 ? err : -EIO;
}

/* The one place the session changes state: the next one after a step, or FAILED. */
static void dest_advance(struct dest_session *s, int step_result)
{
	enum dest_state next = step_result ? DEST_FAILED : s->state + 1;

	if (step_result)
		s->failed_in = s->state;
	pr_debug("session: %s -> %s", dest_state_name(s->state), dest_state_name(next));
	s->state = next;
	s->entered_ns[next] = clock_now_ns();
}

/* Threads may be blocked for good on pages that will never come: leave without them. */
static void __attribute__((noreturn)) abandon(struct dest_session *s)
{
	dest_write_report(s);
	fflush(NULL);
	_exit(s->status);
}

static void destroy(struct dest_session *s)
{
	unsigned int i;

	dest_reconnect_stop(s);
	for (i = 0; i < 2; i++)
		if (s->fds[i] >= 0)
			close(s->fds[i]);
	if (s->lfd >= 0)
		close(s->lfd);
	watchdog_stop(s->wd);
	pager_destroy(s->pager);
	machine_destroy(s->m);
	for (i = 0; i < GUEST_MAX_VCPUS; i++)
		vcpu_state_free(s->vcpu_states[i]);
	free(s->rd.hashes);
	free(s->rx_buf);
	free(s);
}

void dest_watchdog_stalled(const char *report, void *opaque)
{
	struct dest_session *s = opaque;

	/* On the watchdog's thread: the restoring or vCPU thread is stuck for good. */
	dest_fail(s, MIG_EXIT_STALL, -ETIMEDOUT, "watchdog: %s", report);
	s->failed_in = s->state;
	abandon(s);
}

int mig_dest_run(const struct mig_dest_opts *o)
{
	struct dest_session *s = calloc(1, sizeof(*s));
	enum mig_exit status;

	if (!s)
		return MIG_EXIT_SETUP;
	s->o = o;
	s->state = DEST_ACCEPT;
	s->failed_in = DEST_DONE; /* none */
	s->status = MIG_EXIT_SETUP;
	s->fds[0] = s->fds[1] = s->lfd = -1;
	s->entered_ns[DEST_ACCEPT] = clock_now_ns();
	s->rx_buf = malloc(VCPU_STATE_MAX_ENCODED);
	if (!s->rx_buf)
		dest_advance(s, dest_fail(s, MIG_EXIT_SETUP, -ENOMEM, "out of memory"));
	while (s->state != DEST_DONE && s->state != DEST_FAILED)
		dest_advance(s, dest_states[s->state].step(s));
	if (s->state == DEST_FAILED && s->threads_may_hang)
		abandon(s);
	if (s->state == DEST_DONE)
		dest_await_confirmation(s);
	dest_write_report(s);
	status = s->status;
	destroy(s);
	return status;
}
