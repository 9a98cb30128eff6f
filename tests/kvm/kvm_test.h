/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared by the kvm tests: the skip rule, the watchdog, and a test guest with its memory.
 * Each test is a standalone program: exit 0 pass, 1 fail, 77 skip (only without /dev/kvm).
 */
#ifndef TESTS_KVM_TEST_H
#define TESTS_KVM_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "guest.h"
#include "kvm.h"
#include "log.h"

#define KVM_TEST_SKIP 77

/* Names the test in the log, skips without /dev/kvm, fails after timeout_s seconds. */
void kvm_test_init(const char *name, unsigned int timeout_s);
/* Re-arms the watchdog with a description of the wait it bounds. */
void kvm_test_watch(const char *what, unsigned int timeout_s);

#define TEST_ASSERT(cond, ...)                                                            \
	do {                                                                              \
		if (!(cond)) {                                                            \
			pr_err("%s:%d: assertion failed: %s", __FILE__, __LINE__, #cond); \
			die(__VA_ARGS__);                                                 \
		}                                                                         \
	} while (0)
#define TEST_OK(expr) TEST_ASSERT((expr) == 0, "%s", #expr)

/*
 * Collects what is logged to stderr between begin and end (which echoes it back to stderr
 * and returns it, malloc'd), so a test can check an error report's content.
 */
struct stderr_capture {
	int saved_fd;
	FILE *tmp;
};
void stderr_capture_begin(struct stderr_capture *c);
char *stderr_capture_end(struct stderr_capture *c);

/* A guest VM with its memory mapped by the test (as the pager's caller would). */
struct test_guest {
	struct guest_config cfg;
	struct vm *vm;
	struct guest_region regions[GUEST_NR_REGIONS];
	void *mem[GUEST_NR_REGIONS];
	struct guest_monitor mon;
};

/*
 * The VM, its memory slots and vCPUs, and the guest monitor; with boot, the boot area is
 * written and each vCPU set to the CPL3 entry. Without, it is an empty destination.
 */
void test_guest_create(struct test_guest *g, const struct guest_config *cfg, bool irqchip,
		       bool boot);
void test_guest_destroy(struct test_guest *g);
/* Runs every vCPU on its own thread until each stops; returns the first error. */
int test_guest_run(struct test_guest *g);
void *test_guest_slice(struct test_guest *g, unsigned int index);
/* Every vCPU reported DONE with status 0 and a result. */
bool test_guest_all_done(const struct test_guest *g);

#endif
