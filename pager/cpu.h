/* SPDX-License-Identifier: GPL-2.0-only */
/* Thread placement and priority for the pager's and the source's threads. */
#ifndef PAGER_CPU_H
#define PAGER_CPU_H

#include <pthread.h>

/* Pins thread to one CPU: 0 or -errno. */
int cpu_pin(pthread_t thread, int cpu);
/* The calling thread's nice value (0 leaves it): 0 or -errno (-EACCES: not permitted). */
int cpu_nice_self(int nice);

#endif
