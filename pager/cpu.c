// SPDX-License-Identifier: GPL-2.0-only
#include "cpu.h"

#include <sched.h>

int cpu_pin(pthread_t thread, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(thread, sizeof(set), &set);
}
