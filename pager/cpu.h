/* SPDX-License-Identifier: GPL-2.0-only */
/* Thread placement for the listener and the source's threads. */
#ifndef PAGER_CPU_H
#define PAGER_CPU_H

#include <pthread.h>

/* Pins thread to one CPU: 0 or -errno. */
int cpu_pin(pthread_t thread, int cpu);

#endif
