/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The restore watchdog: turns "a thread has been blocked on a guest page that nobody will
 * serve" into one clear error naming the ioctl or vCPU and the page, instead of a silent hang.
 *
 * Why it is needed: a KVM ioctl that touches a missing page of guest memory registered with
 * userfaultfd (KVM_SET_MSRS of MSR_KVM_WALL_CLOCK_NEW or MSR_KVM_SYSTEM_TIME_NEW, and
 * KVM_SET_NESTED_STATE on a host that maps the vmcb12 pages at once) sleeps in the kernel
 * until the page is installed. No signal but SIGKILL ends that sleep, so the thread can
 * neither time out nor be interrupted; only another thread can notice and end the process
 * (exit_group ends a thread stuck in a fault).
 *
 * A thread wakes every bound/10 and, when no page at all was installed during the last bound
 * (a slow link that delays one page while others arrive is progress, not a stall), reports a
 * stall when either
 *   (a) an ioctl announced with watchdog_enter() has run longer than the bound: the report
 *       names it, its vCPU and thread, and the page it waits for. Before pager_start()
 *       nobody reads the userfaultfd, so the page comes from pager_take_unserved_fault()
 *       (the wrong restore order; taking the fault off the userfaultfd leaves its thread
 *       blocked for good, which it already was); after it, from pager_oldest_wait();
 *   (b) any fault (a vCPU in KVM_RUN, a restore step, any thread) has waited longer than the
 *       bound for its page (pager_oldest_wait()): the report maps the waiting thread to its
 *       vCPU (vcpu->run_tid) and that vCPU's current ioctl, names the page, and says the
 *       source has not answered (or why the pager failed).
 * It reports once, then only waits to be stopped.
 */
#ifndef VMM_WATCHDOG_H
#define VMM_WATCHDOG_H

#include "kvm.h"
#include "pager.h"

struct watchdog;

struct watchdog_config {
	unsigned int bound_ms;                 /* 0: default 2000 */
	/*
	 * While the pager's listener runs, a wait may last this much longer: an unanswered request
	 * is the pager's to recover (it asks again, and takes a silent connection as lost), not
	 * an ordering stall. Before the listener runs, or once the pager failed (no page will
	 * come), the bound alone counts.
	 */
	unsigned int pager_grace_ms;
	struct pager *pager;                   /* may be NULL until watchdog_set_pager() */
	const struct pager_layout *layout;     /* to print guest-physical addresses; may be NULL */
	struct vm *vm;                         /* its vCPUs are watched; may be NULL */
	/* Called once, from the watchdog thread, with a one-paragraph report. NULL: pr_err the
	 * report and exit(WATCHDOG_EXIT_STALL) (exit_group also ends threads stuck in a fault).
	 * The exit is _exit() after fflush(NULL): no atexit handler can wait on a stuck thread. */
	void (*on_stall)(const char *report, void *opaque);
	void *opaque;
	/*
	 * What lives at a guest page, for the report ("kvmclock system time"), or NULL: e.g. what
	 * the vCPU state being restored points at there. May itself be NULL. Called with opaque.
	 */
	const char *(*page_what)(void *opaque, uint64_t gpa);
};

#define WATCHDOG_EXIT_STALL 4
#define WATCHDOG_DEFAULT_BOUND_MS 2000
/* Restore threads that can be inside a watched ioctl at once (one per vCPU, and the VM's). */
#define WATCHDOG_MAX_ENTERED (2 * VM_MAX_VCPUS)

/*
 * Starts the watchdog thread. The VM's vCPUs must all exist by now (or by
 * watchdog_set_vm()): the watchdog reads the vCPU table without the VM's knowledge.
 */
int watchdog_start(const struct watchdog_config *cfg, struct watchdog **out);
/*
 * Sets (or clears, with NULL) the pager to ask. When it returns the watchdog no longer uses
 * the previous pager: clear it before pager_destroy() if the watchdog outlives the pager.
 */
void watchdog_set_pager(struct watchdog *wd, struct pager *pager);
/* The same for the VM whose vCPUs a stalled thread is mapped to (after its last vCPU exists). */
void watchdog_set_vm(struct watchdog *wd, struct vm *vm);
/*
 * The caller is about to run a blocking ioctl (a restore step): a stall names it.
 * vcpu_id < 0 (e.g. RESTORE_VM) names a VM-level ioctl. Any thread, one ioctl at a time per
 * thread; leave ends the calling thread's. wd may be NULL (nothing is watched).
 */
void watchdog_enter(struct watchdog *wd, const char *ioctl_name, int vcpu_id);
void watchdog_leave(struct watchdog *wd);
/* Whether a stall was reported (through on_stall). */
bool watchdog_fired(struct watchdog *wd);
void watchdog_stop(struct watchdog *wd);   /* joins the thread, frees */

#endif
