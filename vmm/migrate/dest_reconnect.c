// SPDX-License-Identifier: GPL-2.0-only
/*
 * Recovery on the destination: the source redials after a lost connection, and this thread
 * takes its new connections to the pager (pager_resume()). It runs from the listener's start
 * to the end of the session, apart from the thread that restores state or waits for memory,
 * because that thread may itself be blocked on a page the lost connection was bringing.
 * A connection that is not the session's (a stranger, another session) is refused and closed;
 * the migration goes on waiting.
 */
#include "dest.h"
#include "log.h"

#include <errno.h>
#include <unistd.h>

#define POLL_MS 100

static bool stopping(struct dest_session *s)
{
	return __atomic_load_n(&s->reconnect_stop, __ATOMIC_ACQUIRE);
}

static void *reconnect_main(void *arg)
{
	struct dest_session *s = arg;
	char err[512];
	int ret;

	while (!stopping(s)) {
		enum pager_state state = pager_state(s->pager);

		if (state == PAGER_STATE_FAILED ||
		    (state == PAGER_STATE_COMPLETE && pager_completion_confirmed(s->pager)))
			break;
		ret = pager_accept_resume(s->pager, s->lfd, &s->hs, POLL_MS, err, sizeof(err));
		if (!ret)
			pr_info("reconnect: session %016llx resumed",
				(unsigned long long)s->hs.session_id);
		else if (ret != -ETIMEDOUT && ret != -ECANCELED)
			pr_warn("reconnect: refused: %s", err);
	}
	return NULL;
}

void dest_await_confirmation(struct dest_session *s)
{
	uint64_t waited = 0;

	if (!s->pager || pager_state(s->pager) != PAGER_STATE_COMPLETE)
		return;
	/* A loss took the Complete: the source redials, and the resumed session tells it. */
	/* A lost Complete is noticed after the silence bound, then the source redials. */
	while (!pager_completion_confirmed(s->pager) &&
	       waited < s->o->reconnect_timeout_ms + DEST_SILENCE_TIMEOUT_MS) {
		usleep(20 * 1000);
		waited += 20;
	}
	if (!pager_completion_confirmed(s->pager))
		pr_warn("the source never acknowledged the completion: it cannot know the guest is "
			"here");
}

int dest_reconnect_start(struct dest_session *s)
{
	int ret = -pthread_create(&s->reconnector, NULL, reconnect_main, s);

	s->reconnector_started = !ret;
	return ret;
}

void dest_reconnect_stop(struct dest_session *s)
{
	if (!s->reconnector_started)
		return;
	__atomic_store_n(&s->reconnect_stop, true, __ATOMIC_RELEASE);
	pthread_join(s->reconnector, NULL);
	s->reconnector_started = false;
}
