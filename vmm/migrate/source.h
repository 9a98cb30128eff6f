/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The source end of a migration (source.c runs it): the handshake and the state it sends
 * (source_send.c), the pre-copy rounds (source_precopy.c) and its JSON report
 * (source_report.c). Internal to vmm/migrate/ and its tests.
 */
#ifndef VMM_MIGRATE_SOURCE_H
#define VMM_MIGRATE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "machine.h"
#include "migrate.h"
#include "migration.pb-c.h"
#include "net.h"
#include "pager.h"

/* One migration, as mig_source_run() carries it from phase to phase. */
struct source_run {
	const struct mig_source_opts *o;
	struct machine *m;
	struct pager_source *src;
	struct pager_layout layout;
	uint64_t *dirty_bitmaps[GUEST_NR_REGIONS];
	int fds[2]; /* demand, push */
	struct pager_handshake hs; /* the options' token; the session once handshaken */
	uint64_t digest;
	uint64_t state_digest; /* of the state frames, sent in the Switchover */
	uint64_t stopped_ns, serving_ns;
	uint64_t precopy_sent, discarded;
	size_t state_bytes;
};

/*
 * Hellos on both sockets, the memory layout, then the VM config on the demand socket.
 * 0, or -errno with the reason in err (always filled, whichever step failed).
 */
int mig_source_handshake(int *demand_fd, int *push_fd, struct pager_handshake *hs,
			 const struct pager_layout *layout, const Mig__VmConfig *config, char *err,
			 size_t err_len);
/*
 * Serves pages until the destination has every page and confirms the memory digest. A lost
 * connection is redialled (addr) and the session resumed, within o->reconnect_timeout_ms.
 * 0; -EBADMSG when the destination's digest differs; or the failure (logged).
 */
int mig_source_serve(struct source_run *run, const struct net_addr *addr);
/*
 * The state encoded first, then the Switchover (memory digest, pre-copied pages, the state's
 * digest), VmState, and one VcpuState per vCPU.
 */
int mig_source_send_state(struct source_run *run);

/*
 * Bounded pre-copy while the guest runs: round 0 sends every page, each later round the pages
 * written during the previous one, until the rounds run out or few pages are left dirty.
 */
int mig_source_precopy(struct source_run *run);
/* After the vCPUs stopped: the pages written since the last round are stale over there. */
int mig_source_precopy_discard(struct source_run *run);
/*
 * Or, stop-and-copy: those pages are sent again, final now that nothing runs (without rounds:
 * every page).
 */
int mig_source_precopy_final(struct source_run *run);

void mig_source_write_report(const struct source_run *run, int status);

#endif
