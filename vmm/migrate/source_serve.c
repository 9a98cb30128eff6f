// SPDX-License-Identifier: GPL-2.0-only
/*
 * The source serving pages after the switch-over. From here on neither end holds the whole
 * guest, so a lost connection must not lose it: the source keeps every page, redials the
 * destination and resumes the session (the destination says which pages it has). It ends
 * only when the destination has confirmed every page and the memory digest.
 */
#include "source.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

static int reconnect(struct source_run *run, const struct net_addr *addr)
{
	const struct mig_source_opts *o = run->o;
	char err[512];
	unsigned int i;
	int ret;

	for (i = 0; i < 2; i++) {
		if (run->fds[i] >= 0)
			close(run->fds[i]);
		run->fds[i] = -1;
	}
	ret = pager_source_redial(run->src, (const struct sockaddr *)&addr->ss, addr->len,
				  &run->hs, (int)o->reconnect_timeout_ms, &run->fds[0],
				  &run->fds[1], err, sizeof(err));
	if (ret) {
		pr_err("the destination did not take the session back within %u ms (last attempt: %s)",
		       o->reconnect_timeout_ms, err);
		return ret;
	}
	pr_info("resumed session %016" PRIx64 " on new connections", run->hs.session_id);
	return 0;
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
