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
#include "net.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define POLL_MS 100

static bool stopping(struct dest_session *s)
{
	return __atomic_load_n(&s->reconnect_stop, __ATOMIC_ACQUIRE);
}

static void take_connections(struct dest_session *s)
{
	char err[512];
	int fds[2], ret;

	fds[0] = net_accept(s->lfd, 0);
	if (fds[0] < 0)
		return;
	fds[1] = net_accept(s->lfd, MIG_HANDSHAKE_TIMEOUT_MS);
	if (fds[1] < 0) {
		pr_warn("reconnect: only one connection came: %s", strerror(-fds[1]));
		close(fds[0]);
		return;
	}
	/* The pager may not have seen the loss the source saw: it waits for that too. */
	ret = pager_resume(s->pager, fds[0], fds[1], false, s->session_id,
			   MIG_HANDSHAKE_TIMEOUT_MS, err, sizeof(err));
	if (!ret) {
		pr_info("reconnect: session %016llx resumed", (unsigned long long)s->session_id);
		return;
	}
	pr_warn("reconnect: refused: %s", err);
	close(fds[0]);
	close(fds[1]);
}

static void *reconnect_main(void *arg)
{
	struct dest_session *s = arg;
	struct pollfd pfd = { .fd = s->lfd, .events = POLLIN };

	while (!stopping(s)) {
		enum pager_state state = pager_state(s->pager);

		if (state == PAGER_STATE_COMPLETE || state == PAGER_STATE_FAILED)
			break;
		if (poll(&pfd, 1, POLL_MS) > 0)
			take_connections(s);
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
