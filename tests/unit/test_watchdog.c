// SPDX-License-Identifier: GPL-2.0-only
/*
 * The watchdog's own contract, without KVM or a pager (test_restore_order runs it against
 * real blocked ioctls and vCPUs):
 *   - watchdog_stop() returns at once, not after a tick (here a tick would be 6 s);
 *   - ioctls that end within the bound are never reported, while threads enter and leave
 *     as it looks (the run that TSan checks);
 *   - one that does not is reported once, within the bound plus a tick, naming the ioctl,
 *     the vCPU and the thread, and saying no pager can name the page.
 */
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "log.h"
#include "watchdog.h"

#define BOUND_MS 200
#define CHURN_THREADS 4
#define CHURN_ROUNDS 400

struct stalls {
	pthread_mutex_t lock;
	unsigned int calls;
	uint64_t first_ns;
	char report[1024];
};

static void on_stall(const char *report, void *opaque)
{
	struct stalls *s = opaque;

	pthread_mutex_lock(&s->lock);
	if (!s->calls++) {
		s->first_ns = clock_now_ns();
		snprintf(s->report, sizeof(s->report), "%s", report);
	}
	pthread_mutex_unlock(&s->lock);
}

static unsigned int stall_calls(struct stalls *s)
{
	unsigned int n;

	pthread_mutex_lock(&s->lock);
	n = s->calls;
	pthread_mutex_unlock(&s->lock);
	return n;
}

struct churn {
	struct watchdog *wd;
	int vcpu_id;
};

/* Short restore steps, each far within the bound. */
static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	unsigned int i;

	for (i = 0; i < CHURN_ROUNDS; i++) {
		watchdog_enter(c->wd, "KVM_SET_REGS", c->vcpu_id);
		usleep(500);
		watchdog_leave(c->wd);
	}
	return NULL;
}

static void check_bounded_stop(void)
{
	struct watchdog_config cfg = { .bound_ms = 60000 };
	struct watchdog *wd;
	uint64_t start;

	check(!watchdog_start(&cfg, &wd), "watchdog_start");
	usleep(10000);
	start = clock_now_ns();
	watchdog_stop(wd);
	check(clock_now_ns() - start < 100000000ull,
	      "watchdog_stop took %.3f s with a 6 s tick", (clock_now_ns() - start) / 1e9);
	printf("ok: watchdog_stop returned in %.1f us with a 6 s tick\n",
	       (clock_now_ns() - start) / 1e3);
}

int main(void)
{
	struct stalls stalls = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct watchdog_config cfg = { .bound_ms = BOUND_MS, .on_stall = on_stall,
				       .opaque = &stalls };
	struct churn churn[CHURN_THREADS];
	pthread_t threads[CHURN_THREADS];
	char expected[128];
	struct watchdog *wd;
	uint64_t entered;
	unsigned int i;

	log_set_prefix("test_watchdog");
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_time_bound(60);
	check_bounded_stop();

	check(!watchdog_start(&cfg, &wd), "watchdog_start");
	for (i = 0; i < CHURN_THREADS; i++) {
		churn[i] = (struct churn){ .wd = wd, .vcpu_id = (int)i };
		check(!pthread_create(&threads[i], NULL, churn_thread, &churn[i]), "pthread_create");
	}
	for (i = 0; i < CHURN_THREADS; i++)
		pthread_join(threads[i], NULL);
	check(stall_calls(&stalls) == 0 && !watchdog_fired(wd),
	      "a report for ioctls that all ended within the bound: %s", stalls.report);
	printf("ok: %u threads x %u short ioctls, no report\n", CHURN_THREADS, CHURN_ROUNDS);

	watchdog_enter(wd, "KVM_SET_MSRS", 3);
	entered = clock_now_ns();
	while (!stall_calls(&stalls) && clock_now_ns() - entered < 5 * BOUND_MS * 1000000ull)
		usleep(1000);
	check(stall_calls(&stalls) == 1, "no report %u ms after the bound", 4 * BOUND_MS);
	check(watchdog_fired(wd), "watchdog_fired() is false after a report");
	check(stalls.first_ns - entered >= BOUND_MS * 1000000ull &&
	      stalls.first_ns - entered <= (BOUND_MS + BOUND_MS / 10 + 200) * 1000000ull,
	      "reported %.3f s after the ioctl began, bound %u ms",
	      (stalls.first_ns - entered) / 1e9, BOUND_MS);
	snprintf(expected, sizeof(expected), "KVM_SET_MSRS on vCPU 3 (thread %d) has been blocked",
		 (int)gettid());
	check(strstr(stalls.report, expected), "report lacks \"%s\": %s", expected, stalls.report);
	check(strstr(stalls.report, "no pager is set"), "report: %s", stalls.report);
	printf("ok: reported %.1f ms after the ioctl began (bound %u ms): %s\n",
	       (stalls.first_ns - entered) / 1e6, BOUND_MS, stalls.report);

	usleep(3 * BOUND_MS * 1000);
	check(stall_calls(&stalls) == 1, "%u reports, expected exactly one",
	      stall_calls(&stalls));
	watchdog_leave(wd);
	watchdog_stop(wd);
	printf("ok: one report only\n");
	return 0;
}
