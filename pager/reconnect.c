// SPDX-License-Identifier: GPL-2.0-only
/*
 * Public API, the two ends of a reconnect as most owners want them: the destination admits the
 * next pair of connections on its listening socket that resumes its session (admission.c),
 * and resumes with them; the source redials until a deadline and resumes. Owners with other ways to make connections call pager_resume()
 * and pager_source_resume() directly.
 */
#include "pager_internal.h"
#include "clock.h"
#include "handshake.h"
#include "net.h"
#include "source_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define REDIAL_PAUSE_MS 200

/*
 * A failed pager takes no connection any more, nor a complete one the source has confirmed:
 * admission stops waiting.
 */
static bool pager_done(void *opaque)
{
	enum pager_state state = pager_state(opaque);

	return state == PAGER_STATE_FAILED ||
	       (state == PAGER_STATE_COMPLETE && pager_completion_confirmed(opaque));
}

int pager_accept_resume(struct pager *p, int listen_fd, const struct pager_handshake *hs,
			int timeout_ms, char *err, size_t err_len)
{
	const struct admission_stop stop = { .fn = pager_done, .opaque = p };
	struct handshake h;
	int fds[2], ret;

	ret = handshake_init(&h, hs, true, err, err_len);
	if (!ret && !h.hello.session_id) {
		snprintf(err, err_len, "no session to resume (session id 0)");
		ret = -EINVAL;
	}
	if (!ret)
		ret = admission_accept(listen_fd, &h, &stop, fds, timeout_ms, err, err_len);
	if (ret)
		return ret;
	ret = pager_resume_admitted(p, fds, &h, err, err_len);
	if (ret) {
		close(fds[0]);
		if (fds[1] >= 0)
			close(fds[1]);
	}
	return ret;
}

static int redial_once(struct pager_source *src, const struct net_addr *addr, int timeout_ms,
		       const struct pager_handshake *hs, int fds[2], char *err, size_t err_len)
{
	/* As many connections as the session had: one carries both channels. */
	int i, ret, n = src->push_fd < 0 ? 1 : 2;

	fds[0] = fds[1] = -1;
	for (i = 0; i < n; i++) {
		fds[i] = net_connect(addr, timeout_ms);
		if (fds[i] < 0) {
			ret = fds[i];
			snprintf(err, err_len, "connecting: %s", strerror(-ret));
			goto err;
		}
	}
	ret = pager_source_resume(src, &fds[0], &fds[1], true, hs, err, err_len);
	if (!ret)
		return 0;
err:
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ret;
}

int pager_source_redial(struct pager_source *src, const struct sockaddr *addr,
			socklen_t addr_len, const struct pager_handshake *hs, int timeout_ms,
			int *demand_fd, int *push_fd, char *err, size_t err_len)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)timeout_ms * 1000000ull, now;
	struct net_addr to = { .len = addr_len };
	int fds[2], ret = -ETIMEDOUT;

	if (addr_len > sizeof(to.ss))
		return -EINVAL;
	memcpy(&to.ss, addr, addr_len);
	snprintf(err, err_len, "no attempt within %d ms", timeout_ms);
	while ((now = clock_now_ns()) < deadline) {
		ret = redial_once(src, &to, (int)((deadline - now) / 1000000ull) + 1, hs, fds, err,
				  err_len);
		if (!ret) {
			*demand_fd = fds[0];
			*push_fd = fds[1];
			return 0;
		}
		usleep(REDIAL_PAUSE_MS * 1000);
	}
	return ret ? ret : -ETIMEDOUT;
}
