// SPDX-License-Identifier: GPL-2.0-only
/*
 * Wall clock reader: reads KVM's kvmclock wall clock (struct pvclock_wall_clock, layout in
 * guest_abi.h) at the guest-physical address in R8 and reports its `sec`, so a test can check
 * that what KVM wrote into guest memory during a restore is what the guest reads.
 *
 * Progress 1 comes first, before the wall clock is read: the host sees the first exit of the
 * vCPU's first KVM_RUN with the structure still untouched by the guest. KVM updates the
 * structure under a version that is odd while it writes (the pvclock protocol): a read
 * counts only if the version is even, non-zero (written at least once) and the same before
 * and after. Status 0 with result = sec, or 1 if no such read came in GUEST_WALLCLOCK_TRIES.
 */
#include "guest_rt.h"

static inline uint32_t wallclock_field(uint64_t gpa, unsigned int offset)
{
	return *(const volatile uint32_t *)(gpa + offset);
}

/* x86 keeps loads in order; only the compiler must not move them across this. */
#define compiler_barrier() __asm__ volatile("" : : : "memory")

void guest_main(uint64_t index, uint64_t base, uint64_t size, uint64_t seed, uint64_t count)
{
	uint64_t wallclock_gpa = count;
	uint32_t before, after, sec = 0;
	unsigned int tries;

	guest_progress(1);
	for (tries = 0; tries < GUEST_WALLCLOCK_TRIES; tries++) {
		before = wallclock_field(wallclock_gpa, GUEST_WALLCLOCK_VERSION);
		compiler_barrier();
		sec = wallclock_field(wallclock_gpa, GUEST_WALLCLOCK_SEC);
		compiler_barrier();
		after = wallclock_field(wallclock_gpa, GUEST_WALLCLOCK_VERSION);
		if (before == after && before && !(before & 1)) {
			guest_progress(2);
			guest_result(sec);
			guest_done(0);
		}
	}
	guest_result(sec);
	guest_done(1);
}
