/* SPDX-License-Identifier: GPL-2.0-only */
/* Assertions and time bounds for the standalone test programs (exit 0 pass, 1 fail, 77 skip). */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define TEST_SKIP 77

#define check(cond, ...)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                 \
			fputc('\n', stderr);                                          \
			fflush(NULL);                                                 \
			_exit(1);                                                     \
		}                                                                     \
	} while (0)

/* Fails the whole test with a message if it runs longer than `seconds`: never a hang. */
void test_time_bound(unsigned int seconds);

/* 77 when userfaultfd is missing from this kernel; a permission problem is a failure. */
void test_require_userfaultfd(void);

/*
 * Makes sure `count` free 2 MiB hugetlb pages exist, growing the pool by the shortfall (root;
 * shrunk back at exit). 77 when this kernel has no 2 MiB hugetlb pages; failing to get them
 * on a kernel that has them is a failure.
 */
void test_require_huge_pages(unsigned long count);

#endif
