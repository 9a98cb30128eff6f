/* SPDX-License-Identifier: GPL-2.0-only */
/* The guests' whole runtime: port output and the end of a run. */
#ifndef VMM_GUEST_RT_H
#define VMM_GUEST_RT_H

#include <stdint.h>

#include "guest_abi.h"

/* The "memory" clobber orders every earlier store before the VMM sees the OUT. */
static inline void guest_out(uint16_t port, uint32_t value)
{
	__asm__ volatile("outl %0, %w1" : : "a"(value), "Nd"(port) : "memory");
}

static inline void guest_progress(uint64_t value)
{
	guest_out(GUEST_PORT_PROGRESS, (uint32_t)value);
}

static inline void guest_result(uint64_t value)
{
	guest_out(GUEST_PORT_RESULT_LO, (uint32_t)value);
	guest_out(GUEST_PORT_RESULT_HI, (uint32_t)(value >> 32));
}

/* HLT would fault at CPL3: a finished guest says so forever instead. */
static inline __attribute__((noreturn)) void guest_done(uint32_t status)
{
	for (;;)
		guest_out(GUEST_PORT_DONE, status);
}

/* Every guest's C entry, called by start.S with the registers of guest_abi.h. */
void guest_main(uint64_t index, uint64_t base, uint64_t size, uint64_t seed, uint64_t count)
	__attribute__((noreturn));

#endif
