/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The destination's one migration, as a session state machine that dest_session.c alone moves
 * forward (dest_advance()):
 *
 *   ACCEPT     both connections from the source, admitted by their hellos (the session
 *              token): strangers are refused and the wait goes on
 *   HANDSHAKE  the memory layout, within the memory this destination accepts (libpager)
 *   CONFIG     the VmConfig; the VM built, its memory registered with the pager, untouched
 *   PRECOPY    pre-copied pages and discards, up to the Switchover message
 *   STATE      VmState and one VcpuState per vCPU, decoded and checked
 *   RESTORE    watchdog, then the listener, and only then the state restored (KVM's own
 *              accesses to missing pages inside the ioctls are served meanwhile), vCPUs started
 *   RUNNING    post-copy: the guest runs while the rest of its memory arrives
 *   CHECK      the guest stopped; its own check and the memory digest as received
 *   DONE, FAILED
 *
 * A state's step returns 0 to go on to the next state, or fails through dest_fail(), which
 * records the exit status and the reason for the report. Receiving and decoding are in
 * dest_recv.c, building and restoring in dest_restore.c, the progress line in
 * dest_progress.c, the JSON report in dest_report.c.
 */
#ifndef VMM_MIGRATE_DEST_H
#define VMM_MIGRATE_DEST_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dest_faults.h"
#include "machine.h"
#include "migrate.h"
#include "pager.h"
#include "vcpu_state.h"
#include "watchdog.h"

enum dest_state {
	DEST_ACCEPT,
	DEST_HANDSHAKE,
	DEST_CONFIG,
	DEST_PRECOPY,
	DEST_STATE,
	DEST_RESTORE,
	DEST_RUNNING,
	DEST_CHECK,
	DEST_DONE,
	DEST_FAILED,
	DEST_NR_STATES,
};

const char *dest_state_name(enum dest_state state);

/* Every page's hash as installed, before the guest could write to it. */
struct received_digest {
	uint64_t *hashes;
	uint64_t region_first[GUEST_NR_REGIONS]; /* index of each region's first page */
	uint64_t n_pages;
	uint64_t zero_hash;
};

#define DEST_MAX_RESTORE_STEPS (8 + GUEST_MAX_VCPUS * 16)
/* Each restore ioctl as it ran, for the report; and the watchdog told which one runs. */
struct restore_log {
	struct watchdog *wd;
	struct restore_faults *faults;
	unsigned int n;
	struct {
		const char *ioctl;
		uint32_t vcpu;
		uint64_t ns;
		uint32_t faults; /* pages faulted inside it, served by the listener */
	} steps[DEST_MAX_RESTORE_STEPS];
};

struct dest_session {
	const struct mig_dest_opts *o;
	enum dest_state state;
	enum dest_state failed_in;
	uint64_t entered_ns[DEST_NR_STATES]; /* when each state began (0: never) */
	enum mig_exit status;
	char failure[640]; /* the first failure's reason; a source's Error text fits whole */
	/* A vCPU or restore thread may be blocked for good on a page: no joining them. */
	bool threads_may_hang;

	int fds[2]; /* demand, push; -1 once the pager owns them */
	unsigned int connections; /* admitted: 2, or 1 carrying both channels (v5) */
	int lfd;    /* the listening socket, kept for the source to reconnect */
	struct pager_handshake hs; /* the options' token and limit; the session once admitted */
	pthread_t reconnector;
	bool reconnector_started, reconnect_stop;
	void *rx_buf; /* one received frame body, up to VCPU_STATE_MAX_ENCODED */
	struct pager_layout layout;
	struct guest_config guest;
	bool irqchip;
	struct machine *m;
	struct pager *pager;
	struct watchdog *wd;

	uint64_t source_digest, received_digest;
	/* The state frames' digest: the source's (its Switchover) and the frames' as received. */
	uint64_t source_state_digest, state_digest;
	bool state_digest_match;
	struct received_digest rd;
	struct vm_state vm_state;
	struct vcpu_state *vcpu_states[GUEST_MAX_VCPUS];
	size_t state_bytes;
	struct restore_log restore;
	struct restore_faults faults;
	pid_t restore_tid;
	bool guest_ok, digest_match;
	char guest_check[256];
};

/*
 * Fails the session: the exit status, and the reason (logged; the first one is kept for the
 * report). Returns err, or -EIO when err is not negative, for the step to return.
 */
int dest_fail(struct dest_session *s, enum mig_exit status, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* dest_recv.c: the steps that read the source. */
int dest_accept(struct dest_session *s);
int dest_handshake(struct dest_session *s);
int dest_recv_config(struct dest_session *s);
int dest_recv_precopy(struct dest_session *s);
/*
 * Tells the source why what it sent is refused (an Error frame, code a Wire__ErrorCode), and
 * fails the session with the same words.
 */
int dest_refuse(struct dest_session *s, int code, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/*
 * Receives the next frame's body on the demand socket into s->rx_buf. 0 with *type and *len
 * set; on an Error frame from the source or a receive error the session has failed already.
 */
int dest_recv_frame(struct dest_session *s, int timeout_ms, const char *expected,
		    unsigned int *type, size_t *len);

/*
 * dest_state.c: the VM and vCPU state, received whole, checked against the state digest of
 * the source's Switchover, and only then decoded.
 */
int dest_recv_state(struct dest_session *s);

/* dest_restore.c */
/* The VM and its memory, mapped, untouched and registered with the pager. */
int dest_build(struct dest_session *s);
/* Watchdog and listener first, then the state in the documented order, then the vCPUs. */
int dest_restore(struct dest_session *s);

/*
 * dest_reconnect.c: from the listener's start, a thread that hands the source's new
 * connections to the pager after a lost one (pager_resume()).
 */
int dest_reconnect_start(struct dest_session *s);
/*
 * The watchdog's report (a thread blocked on a page nobody fetches): the failure, the JSON
 * report, exit 4, without waiting for the stuck threads.
 */
void dest_watchdog_stalled(const char *report, void *opaque) __attribute__((noreturn));
void dest_reconnect_stop(struct dest_session *s);
/*
 * Every page is here: waits (within the reconnect time) until the source knows it too, when
 * a lost connection took the Complete message; the reconnect thread tells it.
 */
void dest_await_confirmation(struct dest_session *s);

/* A lost answer is asked again well within the watchdog's bound. */
#define DEST_REQUEST_TIMEOUT_MS(o) ((o)->watchdog_ms / 2 ? (o)->watchdog_ms / 2 : 1)
#define DEST_SILENCE_TIMEOUT_MS 5000

/* dest_progress.c: waits for every page, drawing a progress line on a terminal. */
int dest_wait_for_memory(struct dest_session *s);

/* dest_report.c: the JSON report (docs/operations.md) and the stats summary. */
void dest_write_report(struct dest_session *s);

#endif
