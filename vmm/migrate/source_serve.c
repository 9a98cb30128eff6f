// SPDX-License-Identifier: GPL-2.0-only
/*
 * The source serving pages after the switch-over. From here on neither end holds the whole
 * guest, so a lost connection must not lose it: the source keeps every page, redials the
 * destination and resumes the session (the destination says which pages it has). It ends
 * only when the destination has confirmed every page and the memory digest.
 */
#include "source.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#define REDIAL_PAUSE_MS 200

static void close_fds(struct source_run *run)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		if (run->fds[i] >= 0)
			close(run->fds[i]);
		run->fds[i] = -1;
	}
}

/* One attempt: two connections, then the resume handshake. 0, or -errno with err. */
static int redial_once(struct source_run *run, const struct net_addr *addr, int timeout_ms,
		       char *err, size_t err_len)
{
	unsigned int i;

	for (i = 0; i < 2; i++) {
		run->fds[i] = net_connect(addr, timeout_ms);
		if (run->fds[i] < 0) {
			snprintf(err, err_len, "connecting: %s", strerror(-run->fds[i]));
			return run->fds[i];
		}
	}
	return pager_source_resume(run->src, &run->fds[0], &run->fds[1], true, run->session_id,
				   MIG_HANDSHAKE_TIMEOUT_MS, err, err_len);
}

static int reconnect(struct source_run *run, const struct net_addr *addr)
{
	const struct mig_source_opts *o = run->o;
	uint64_t deadline = clock_now_ns() + (uint64_t)o->reconnect_timeout_ms * 1000000ull;
	char err[512] = "no attempt";
	uint64_t now;
	int ret = -ETIMEDOUT;

	while ((now = clock_now_ns()) < deadline) {
		close_fds(run);
		ret = redial_once(run, addr, (int)((deadline - now) / 1000000ull) + 1, err,
				  sizeof(err));
		if (!ret) {
			pr_info("resumed session %016" PRIx64 " on new connections", run->session_id);
			return 0;
		}
		pr_warn("reconnecting to %s: %s", o->connect, err);
		usleep(REDIAL_PAUSE_MS * 1000);
	}
	close_fds(run);
	pr_err("the destination did not take the session back within %u ms (last attempt: %s)",
	       o->reconnect_timeout_ms, err);
	return ret ? ret : -ETIMEDOUT;
}

/* Every page is over there: the destination's digest of them must be the source's. */
static int confirm_digest(struct source_run *run)
{
	struct pager_source_stats st;

	pager_source_get_stats(run->src, &st);
	if (!st.dest_digest_valid) {
		pr_err("the destination did not confirm the memory digest");
		return -EBADMSG;
	}
	if (st.dest_digest != run->digest) {
		pr_err("the destination's memory digest %016" PRIx64 " differs from the source's "
		       "%016" PRIx64 ": pages were lost or damaged", st.dest_digest, run->digest);
		return -EBADMSG;
	}
	pr_info("the destination confirmed every page, digest %016" PRIx64, run->digest);
	return 0;
}

int mig_source_serve(struct source_run *run, const struct net_addr *addr)
{
	const struct mig_source_opts *o = run->o;
	int ret;

	for (;;) {
		ret = pager_source_serve(run->src, run->fds[0], run->fds[1]);
		if (ret != -ENOTCONN || !o->reconnect_timeout_ms)
			break;
		pr_warn("connection to the destination lost (%s); reconnecting",
			pager_source_error(run->src));
		ret = reconnect(run, addr);
		if (ret)
			return ret;
	}
	if (ret) {
		pr_err("serving pages: %s", pager_source_error(run->src));
		return ret;
	}
	return confirm_digest(run);
}
