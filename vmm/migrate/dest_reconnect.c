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

		if (state == PAGER_STATE_COMPLETE || state == PAGER_STATE_FAILED)
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
