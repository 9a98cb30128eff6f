// SPDX-License-Identifier: GPL-2.0-only
#include "cpu.h"

#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

int cpu_pin(pthread_t thread, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(thread, sizeof(set), &set);
}

int cpu_nice_self(int nice)
{
	if (!nice)
		return 0;
	return setpriority(PRIO_PROCESS, (id_t)gettid(), nice) ? -errno : 0;
}
