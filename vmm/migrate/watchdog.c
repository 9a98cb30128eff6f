// SPDX-License-Identifier: GPL-2.0-only
/*
 * The restore watchdog (watchdog.h): a thread that looks every bound/10 at the ioctls
 * announced as running and at the pager's oldest waiting fault, and reports the first one
 * that has waited longer than the bound.
 *
 * Locks: `lock` guards the announced ioctls and the thread's life (held only for table
 * updates, so watchdog_enter() never waits for a check); `targets_lock` guards the pager
 * and VM pointers and is held across a whole check, so that once watchdog_set_pager()
 * returns, the previous pager is no longer in use. The check never holds `lock`.
 */
#include "watchdog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define WATCHDOG_REPORT_MAX 1024
#define NSEC_PER_SEC 1000000000ull
#define NSEC_PER_MSEC 1000000ull

struct watched_ioctl {
	const char *name;
	int vcpu_id; /* < 0: a VM-level ioctl */
	pid_t tid;
	uint64_t since_ns;
};

/* A report is one paragraph, built in pieces; what does not fit is cut, never overflowed. */
struct report {
	char text[WATCHDOG_REPORT_MAX];
	size_t used;
};

struct watchdog {
	uint64_t bound_ns, pager_grace_ns;
	uint64_t tick_ns;
	const struct pager_layout *layout;
	void (*on_stall)(const char *report, void *opaque);
	void *opaque;
	const char *(*page_what)(void *opaque, uint64_t gpa);

	pthread_mutex_t lock;
	pthread_cond_t wake; /* on CLOCK_MONOTONIC, like clock_now_ns() */
	bool stopping;
	bool fired;
	unsigned int n_entered;
	struct watched_ioctl entered[WATCHDOG_MAX_ENTERED];

	pthread_mutex_t targets_lock;
	struct pager *pager;
	struct vm *vm;

	pthread_t thread;
	struct report report; /* the watchdog thread's own */
	/* The watchdog thread's own: when the pager last installed a page (any page). */
	uint64_t last_missing, last_progress_ns;
};

static void report_add(struct report *rep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report_add(struct report *rep, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (rep->used >= sizeof(rep->text) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(rep->text + rep->used, sizeof(rep->text) - rep->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		rep->used += (size_t)n;
	if (rep->used > sizeof(rep->text) - 1)
		rep->used = sizeof(rep->text) - 1;
}

static double ns_to_s(uint64_t ns)
{
	return (double)ns / NSEC_PER_SEC;
}

static void report_page(struct report *rep, const struct watchdog *wd,
			const struct pager_wait_info *w)
{
	const struct pager_layout *layout = wd->layout;

	if (layout && w->region < layout->n_regions) {
		uint64_t gpa = layout->regions[w->region].gpa + w->offset;
		const char *what = wd->page_what ? wd->page_what(wd->opaque, gpa) : NULL;

		report_add(rep, "guest page 0x%llx (region %u offset 0x%llx%s%s)",
			   (unsigned long long)gpa, w->region, (unsigned long long)w->offset,
			   what ? ": " : "", what ? what : "");
	} else
		report_add(rep, "the page at host address %p (region %u offset 0x%llx)", w->addr,
			   w->region, (unsigned long long)w->offset);
}

/* Why a page the listener knows of has not arrived: the pager's own state says. */
static void report_pager_state(struct report *rep, struct pager *pager)
{
	enum pager_state state = pager_state(pager);

	if (state == PAGER_STATE_RUNNING)
		report_add(rep, "the pager's listener has requested it from the source, which has "
				"not answered");
	else if (state == PAGER_STATE_COMPLETE)
		report_add(rep, "yet the pager reports every page present");
	else
		report_add(rep, "the pager failed: %s", pager_error(pager));
}

static void report_vcpu_of(struct report *rep, struct vm *vm, pid_t tid)
{
	unsigned int i;

	for (i = 0; vm && i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = vm->vcpus[i];
		const char *ioctl;

		if (atomic_load(&vcpu->run_tid) != tid)
			continue;
		ioctl = vcpu_current_ioctl(vcpu);
		report_add(rep, "vCPU %u (thread %d, %s%s)", vcpu->id, (int)tid,
			   ioctl ? "in " : "not in an ioctl", ioctl ? ioctl : "");
		return;
	}
	report_add(rep, "thread %d (no vCPU's run thread)", (int)tid);
}

/* (a): an announced ioctl ran past the bound. Names it, then the page it waits for. */
static void describe_blocked_ioctl(struct watchdog *wd, const struct watched_ioctl *io,
				   uint64_t now, struct report *rep)
{
	struct pager_wait_info w;
	int r;

	report_add(rep, "%s on ", io->name);
	if (io->vcpu_id >= 0)
		report_add(rep, "vCPU %d", io->vcpu_id);
	else
		report_add(rep, "the VM");
	report_add(rep, " (thread %d) has been blocked for %.1f s", (int)io->tid,
		   ns_to_s(now - io->since_ns));
	if (!wd->pager) {
		report_add(rep, "; no pager is set, so the page it may wait for is unknown");
		return;
	}
	/* Before pager_start() the fault sits unread in the userfaultfd: take it to name it. */
	r = pager_take_unserved_fault(wd->pager, &w);
	if (r == 1) {
		report_add(rep, " on ");
		report_page(rep, wd, &w);
		if (w.tid != io->tid)
			report_add(rep, " (a fault of thread %d)", (int)w.tid);
		report_add(rep, ", which nobody is fetching: the pager's listener is not running "
				"(restore must start after pager_start)");
		return;
	}
	if (r == 0) {
		report_add(rep, " with no fault pending on guest memory (the pager's listener is "
				"not running): it waits for something other than a missing page");
		return;
	}
	if (r != -EBUSY) {
		report_add(rep, "; the pager could not name the page: %s", strerror(-r));
		return;
	}
	/* The listener runs: it knows every waiting fault. */
	r = pager_oldest_wait(wd->pager, &w);
	if (r != 1) {
		report_add(rep, " with no thread waiting for a page: it waits for something else");
		return;
	}
	if (w.tid == io->tid) {
		/* Its own fault: the ioctl's time above says how long. */
		report_add(rep, " on ");
		report_page(rep, wd, &w);
		report_add(rep, ": ");
	} else {
		report_add(rep, "; the oldest fault, of thread %d on ", (int)w.tid);
		report_page(rep, wd, &w);
		report_add(rep, ", has waited %.1f s: ", ns_to_s(w.age_ns));
	}
	report_pager_state(rep, wd->pager);
}

/* (b): a fault (a vCPU in KVM_RUN, most often) has waited past the bound. */
static void describe_waiting_fault(struct watchdog *wd, const struct pager_wait_info *w,
				   struct report *rep)
{
	report_vcpu_of(rep, wd->vm, w->tid);
	report_add(rep, " has been waiting %.1f s for ", ns_to_s(w->age_ns));
	report_page(rep, wd, w);
	report_add(rep, ": ");
	report_pager_state(rep, wd->pager);
}

/* One look. io: the longest-running announced ioctl, if any. True if rep holds a stall. */
static bool watchdog_check(struct watchdog *wd, const struct watched_ioctl *io,
			   struct report *rep)
{
	struct pager_wait_info w;
	bool stalled = false;
	uint64_t now, bound;

	pthread_mutex_lock(&wd->targets_lock);
	now = clock_now_ns();
	bound = wd->bound_ns;
	/* The grace is for a pager that may still recover a page; a failed one never will. */
	if (wd->pager && pager_state(wd->pager) == PAGER_STATE_RUNNING)
		bound += wd->pager_grace_ns;
	/*
	 * A slow link may hold one page past the bound while others keep arriving: that is a
	 * migration in progress. A stall is a wait past the bound with no page installed during
	 * the bound either.
	 */
	/* A lost connection is not a stall of ordering: the pager has its own deadline for it. */
	if ((wd->pager && pager_pages_missing(wd->pager) != wd->last_missing) ||
	    (wd->pager && pager_state(wd->pager) == PAGER_STATE_DISCONNECTED)) {
		wd->last_missing = pager_pages_missing(wd->pager);
		wd->last_progress_ns = now;
	}
	if (now - wd->last_progress_ns <= bound) {
		/* progress within the bound */
	} else if (io && now - io->since_ns > bound) {
		describe_blocked_ioctl(wd, io, now, rep);
		stalled = true;
	} else if (wd->pager && pager_oldest_wait(wd->pager, &w) == 1 && w.age_ns > bound) {
		describe_waiting_fault(wd, &w, rep);
		stalled = true;
	}
	pthread_mutex_unlock(&wd->targets_lock);
	return stalled;
}

static void watchdog_report(struct watchdog *wd, const char *report)
{
	if (wd->on_stall) {
		wd->on_stall(report, wd->opaque);
		return;
	}
	pr_err("watchdog: %s", report);
	/*
	 * _exit, not exit: the stuck thread can never run again, and atexit handlers (or a
	 * sanitizer's exit-time checks) that wait for every thread would hang right here.
	 * exit_group ends the threads sleeping in a fault too.
	 */
	fflush(NULL);
	_exit(WATCHDOG_EXIT_STALL);
}

static struct timespec deadline_after(uint64_t ns)
{
	uint64_t at = clock_now_ns() + ns;

	return (struct timespec){ .tv_sec = (time_t)(at / NSEC_PER_SEC),
				  .tv_nsec = (long)(at % NSEC_PER_SEC) };
}

/* The oldest announced ioctl, copied out under wd->lock. */
static bool oldest_entered(const struct watchdog *wd, struct watched_ioctl *out)
{
	unsigned int i, oldest = 0;

	if (!wd->n_entered)
		return false;
	for (i = 1; i < wd->n_entered; i++)
		if (wd->entered[i].since_ns < wd->entered[oldest].since_ns)
			oldest = i;
	*out = wd->entered[oldest];
	return true;
}

static void *watchdog_main(void *arg)
{
	struct watchdog *wd = arg;
	struct report *rep = &wd->report;
	struct watched_ioctl io;
	bool have_io, stalled;

	pthread_mutex_lock(&wd->lock);
	while (!wd->stopping) {
		struct timespec deadline = deadline_after(wd->tick_ns);

		/* After its one report it only waits to be stopped. */
		if (wd->fired) {
			pthread_cond_wait(&wd->wake, &wd->lock);
			continue;
		}
		pthread_cond_timedwait(&wd->wake, &wd->lock, &deadline);
		if (wd->stopping)
			break;
		have_io = oldest_entered(wd, &io);
		pthread_mutex_unlock(&wd->lock);

		rep->used = 0;
		rep->text[0] = '\0';
		stalled = watchdog_check(wd, have_io ? &io : NULL, rep);

		pthread_mutex_lock(&wd->lock);
		if (stalled) {
			/* Fired before the report goes out: on_stall may ask watchdog_fired(). */
			wd->fired = true;
			pthread_mutex_unlock(&wd->lock);
			watchdog_report(wd, rep->text);
			pthread_mutex_lock(&wd->lock);
		}
	}
	pthread_mutex_unlock(&wd->lock);
	return NULL;
}

int watchdog_start(const struct watchdog_config *cfg, struct watchdog **out)
{
	unsigned int bound_ms = cfg->bound_ms ? cfg->bound_ms : WATCHDOG_DEFAULT_BOUND_MS;
	pthread_condattr_t attr;
	struct watchdog *wd;
	int r;

	wd = calloc(1, sizeof(*wd));
	if (!wd)
		return -ENOMEM;
	wd->bound_ns = bound_ms * NSEC_PER_MSEC;
	wd->pager_grace_ns = cfg->pager_grace_ms * NSEC_PER_MSEC;
	/* Ten looks per bound: a stall is reported at most a tenth of the bound late. */
	wd->tick_ns = wd->bound_ns / 10 ? wd->bound_ns / 10 : 1;
	wd->layout = cfg->layout;
	wd->on_stall = cfg->on_stall;
	wd->opaque = cfg->opaque;
	wd->page_what = cfg->page_what;
	wd->pager = cfg->pager;
	wd->vm = cfg->vm;
	wd->last_progress_ns = clock_now_ns();
	wd->last_missing = cfg->pager ? pager_pages_missing(cfg->pager) : 0;
	pthread_mutex_init(&wd->lock, NULL);
	pthread_mutex_init(&wd->targets_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&wd->wake, &attr);
	pthread_condattr_destroy(&attr);

	r = pthread_create(&wd->thread, NULL, watchdog_main, wd);
	if (r) {
		pr_err("watchdog: pthread_create: %s", strerror(r));
		goto err_free;
	}
	*out = wd;
	return 0;

err_free:
	pthread_cond_destroy(&wd->wake);
	pthread_mutex_destroy(&wd->targets_lock);
	pthread_mutex_destroy(&wd->lock);
	free(wd);
	return -r;
}

void watchdog_set_pager(struct watchdog *wd, struct pager *pager)
{
	pthread_mutex_lock(&wd->targets_lock);
	wd->pager = pager;
	pthread_mutex_unlock(&wd->targets_lock);
}

void watchdog_set_vm(struct watchdog *wd, struct vm *vm)
{
	pthread_mutex_lock(&wd->targets_lock);
	wd->vm = vm;
	pthread_mutex_unlock(&wd->targets_lock);
}

void watchdog_enter(struct watchdog *wd, const char *ioctl_name, int vcpu_id)
{
	pid_t tid = gettid();
	unsigned int i;

	if (!wd)
		return;
	pthread_mutex_lock(&wd->lock);
	/* One ioctl at a time per thread: a second enter replaces the first. */
	for (i = 0; i < wd->n_entered; i++)
		if (wd->entered[i].tid == tid)
			break;
	if (i == WATCHDOG_MAX_ENTERED) {
		pthread_mutex_unlock(&wd->lock);
		pr_warn("watchdog: more than %u threads in watched ioctls: %s on thread %d is not "
			"watched", WATCHDOG_MAX_ENTERED, ioctl_name, (int)tid);
		return;
	}
	if (i == wd->n_entered)
		wd->n_entered++;
	wd->entered[i] = (struct watched_ioctl){
		.name = ioctl_name, .vcpu_id = vcpu_id, .tid = tid, .since_ns = clock_now_ns(),
	};
	pthread_mutex_unlock(&wd->lock);
}

void watchdog_leave(struct watchdog *wd)
{
	pid_t tid = gettid();
	unsigned int i;

	if (!wd)
		return;
	pthread_mutex_lock(&wd->lock);
	for (i = 0; i < wd->n_entered; i++) {
		if (wd->entered[i].tid == tid) {
			wd->entered[i] = wd->entered[--wd->n_entered];
			break;
		}
	}
	pthread_mutex_unlock(&wd->lock);
}

bool watchdog_fired(struct watchdog *wd)
{
	bool fired;

	pthread_mutex_lock(&wd->lock);
	fired = wd->fired;
	pthread_mutex_unlock(&wd->lock);
	return fired;
}

void watchdog_stop(struct watchdog *wd)
{
	if (!wd)
		return;
	pthread_mutex_lock(&wd->lock);
	wd->stopping = true;
	pthread_cond_signal(&wd->wake);
	pthread_mutex_unlock(&wd->lock);
	pthread_join(wd->thread, NULL);
	pthread_cond_destroy(&wd->wake);
	pthread_mutex_destroy(&wd->targets_lock);
	pthread_mutex_destroy(&wd->lock);
	free(wd);
}
