/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Live post-copy migration of a test-guest machine: the source (source.c) runs the
 * guest, stops it, sends the layout, the VM config and every vCPU's state, then serves pages;
 * the destination (a session state machine, dest.h) builds the VM, registers its memory with
 * the pager, starts the listener and only then restores state, so that KVM's own accesses to
 * missing guest pages inside the restore ioctls are served synchronously.
 */
#ifndef VMM_MIGRATE_H
#define VMM_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "guest.h"
#include "pager.h"

/* Exit codes of vmm-source and vmm-dest (docs/operations.md). */
enum mig_exit {
	MIG_EXIT_OK = 0,
	MIG_EXIT_SETUP = 1,     /* usage, KVM or memory setup */
	MIG_EXIT_MIGRATION = 2, /* connection, protocol or pager failure */
	MIG_EXIT_CHECK = 3,     /* the guest's own check or the memory digest failed */
	MIG_EXIT_STALL = 4,     /* the watchdog found an ioctl or vCPU blocked on a page */
};

#define MIG_DEFAULT_PORT 4445
#define MIG_HANDSHAKE_TIMEOUT_MS 10000

struct mig_source_opts {
	struct guest_config guest;
	bool irqchip;
	/* Guest memory: PAGER_BACKING_ANON or _SHMEM; the destination's follows (its layout). */
	enum pager_backing backing;
	/* 2: demand and push apart (the default); 1: both on one connection (protocol v5). */
	unsigned int connections;
	/*
	 * Enable kvmclock as a guest OS would (MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW,
	 * MSR_KVM_STEAL_TIME): their restore makes KVM write guest memory inside KVM_SET_MSRS.
	 */
	bool kvmclock;
	const char *connect; /* the destination's address */
	/* Switch over once every vCPU reported this much progress (0: after switch_after_ms). */
	uint64_t switch_at_progress;
	unsigned int switch_after_ms;
	/* Pre-copy rounds with dirty logging before the switch-over (0: pure post-copy). */
	unsigned int precopy_rounds;
	/*
	 * Memory sent with the vCPUs stopped, so the destination has every page at the
	 * switch-over: after pre-copy rounds the pages written in the last one (instead of
	 * discarding them there), without rounds every page.
	 */
	bool stop_and_copy;
	struct pager_source_options serve;
	int timeout_ms;
	/* After a lost connection, how long to keep redialling the destination (0: fail). */
	unsigned int reconnect_timeout_ms;
	const char *json_path; /* source stats, NULL: none, "-": stdout */
	/* The session token (pager_handshake_init() and the token; the session is per run). */
	struct pager_handshake handshake;
};

struct mig_dest_opts {
	const char *listen;
	int accept_timeout_ms; /* for the source to connect; -1: forever */
	const char *port_file; /* the listening port is written here (for port 0) */
	int listener_cpu;
	bool install_move; /* pushed pages moved into place (pager_options.install_move) */
	unsigned int watchdog_ms;
	int timeout_ms;
	/* A guest that never finishes (the incrementer) runs this long after the last page. */
	unsigned int run_after_complete_ms;
	/* After a lost connection, how long to wait for the source to reconnect (0: fail). */
	unsigned int reconnect_timeout_ms;
	const char *json_path;
	/*
	 * For tests only: restore the state before the listener starts, breaking the rule on
	 * purpose, so that the watchdog's report of a restore ioctl blocked on a page is shown.
	 */
	bool restore_before_listener;
	/* The session token and the most memory a layout may claim (max_memory). */
	struct pager_handshake handshake;
};

/* Each returns an enum mig_exit. */
int mig_source_run(const struct mig_source_opts *opts);
int mig_dest_run(const struct mig_dest_opts *opts);

#endif
