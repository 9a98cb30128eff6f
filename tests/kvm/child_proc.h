/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A scenario that must end its own process (a watchdog's exit) runs in a forked child, with
 * its stdout and stderr captured. A KVM ioctl blocked in a userfaultfd fault ignores every
 * signal but SIGKILL, so the parent's hard limit, enforced with SIGKILL, is what bounds the
 * wait: a child that outlives it is a failure, never a hang.
 */
#ifndef TESTS_KVM_CHILD_PROC_H
#define TESTS_KVM_CHILD_PROC_H

#include <stdbool.h>
#include <stdint.h>

struct child_result {
	int status;		/* from waitpid */
	bool killed;		/* outlived the hard limit: SIGKILLed by the parent */
	uint64_t elapsed_ns;	/* fork to exit */
	bool saw_start, saw_event;
	uint64_t event_ns;	/* from the output of `start` to that of `event` */
	uint64_t exit_ns;	/* from the output of `event` to the exit */
	char *output;		/* everything the child printed, malloc'd, NUL-terminated */
};

/*
 * Runs fn(arg) in a child (its return value is the exit status) and waits for it at most
 * hard_limit_ms. Times when the child first prints `start`, then `event` after it (a report),
 * as this process receives them. The output is echoed to stderr for the test log.
 */
void child_run(int (*fn)(void *arg), void *arg, const char *start, const char *event,
	       unsigned int hard_limit_ms, struct child_result *res);

#endif
