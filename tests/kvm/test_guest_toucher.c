// SPDX-License-Identifier: GPL-2.0-only
/*
 * The random toucher with 1 and 2 vCPUs: the host replays each vCPU's seeded steps on its
 * own copy; the guest's result and its memory must both match the replay.
 */
#include <string.h>

#include "kvm_test.h"

static void run(unsigned int nr_vcpus, bool irqchip, uint64_t seed)
{
	struct guest_config cfg = {
		.program = GUEST_TOUCHER, .nr_vcpus = nr_vcpus, .work_size = 8ull << 20,
		.seed = seed, .count = 4 * GUEST_TOUCHER_PROGRESS_ITERS,
	};
	struct test_guest g;
	unsigned int i;

	test_guest_create(&g, &cfg, irqchip, true);
	TEST_OK(test_guest_run(&g));
	TEST_ASSERT(test_guest_all_done(&g), "a vCPU did not finish");
	for (i = 0; i < nr_vcpus; i++) {
		struct guest_slice s = guest_slice(&cfg, i);
		void *sim = calloc(1, s.size);
		uint64_t want;

		TEST_ASSERT(sim, "out of memory");
		want = guest_toucher_simulate(seed, i, sim, s.size, cfg.count);
		TEST_ASSERT(g.mon.vcpu[i].result == want, "vcpu %u: result %#lx, want %#lx", i,
			    (unsigned long)g.mon.vcpu[i].result, (unsigned long)want);
		TEST_ASSERT(!memcmp(sim, test_guest_slice(&g, i), s.size),
			    "vcpu %u: memory differs from the replay", i);
		TEST_ASSERT(g.mon.vcpu[i].progress == 4, "vcpu %u: progress %lu", i,
			    (unsigned long)g.mon.vcpu[i].progress);
		printf("ok: toucher, %u vCPU(s)%s, vcpu %u: %lu steps over %lu MiB, result %#lx, "
		       "memory matches the replay\n", nr_vcpus, irqchip ? ", irqchip" : "", i,
		       (unsigned long)cfg.count, (unsigned long)(s.size >> 20),
		       (unsigned long)want);
		free(sim);
	}
	test_guest_destroy(&g);
}

int main(void)
{
	kvm_test_init("test_guest_toucher", 60);
	run(1, false, 7);
	run(2, false, 0xdeadbeef);
	run(2, true, 99);
	return 0;
}
