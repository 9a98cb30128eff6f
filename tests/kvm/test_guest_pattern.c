// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pattern guest with 1 and 2 vCPUs: each vCPU's checksum must equal the one the host
 * computes, the guest must count no mismatch, and the memory must hold the pattern.
 */
#include "guests/guest_math.h"
#include "kvm_test.h"

static void run(unsigned int nr_vcpus, bool irqchip, uint64_t seed)
{
	struct guest_config cfg = {
		.program = GUEST_PATTERN, .nr_vcpus = nr_vcpus, .work_size = 16ull << 20,
		.seed = seed,
	};
	struct test_guest g;
	unsigned int i;

	test_guest_create(&g, &cfg, irqchip, true);
	TEST_OK(test_guest_run(&g));
	TEST_ASSERT(test_guest_all_done(&g), "a vCPU did not finish");
	for (i = 0; i < nr_vcpus; i++) {
		struct guest_slice s = guest_slice(&cfg, i);
		const uint64_t *mem = test_guest_slice(&g, i);
		uint64_t want = guest_pattern_expected(seed, s.gpa, s.size), off;
		uint64_t progress = 2 * s.size / GUEST_PATTERN_PROGRESS_BYTES;

		TEST_ASSERT(g.mon.vcpu[i].result == want, "vcpu %u: checksum %#lx, want %#lx", i,
			    (unsigned long)g.mon.vcpu[i].result, (unsigned long)want);
		TEST_ASSERT(g.mon.vcpu[i].progress == progress, "vcpu %u: progress %lu, want %lu",
			    i, (unsigned long)g.mon.vcpu[i].progress, (unsigned long)progress);
		for (off = 0; off < s.size; off += 8)
			TEST_ASSERT(mem[off / 8] == guest_pattern_word(seed, s.gpa + off),
				    "vcpu %u: word at %#lx", i, (unsigned long)(s.gpa + off));
		printf("ok: pattern, %u vCPU(s)%s, vcpu %u: %lu MiB at %#lx, checksum %#lx\n",
		       nr_vcpus, irqchip ? ", irqchip" : "", i, (unsigned long)(s.size >> 20),
		       (unsigned long)s.gpa, (unsigned long)want);
	}
	test_guest_destroy(&g);
}

int main(void)
{
	kvm_test_init("test_guest_pattern", 60);
	run(1, false, 1);
	run(2, false, 0x1234567890abcdefull);
	run(2, true, 42);
	return 0;
}
