// SPDX-License-Identifier: GPL-2.0-only
/*
 * The incrementer guest with 1 and 2 vCPUs: a bounded run must end with every page of each
 * slice at exactly `passes`; an unbounded run stopped from outside (vcpu_stop() at an
 * arbitrary moment) must leave one edge per slice that agrees with the reported progress.
 */
#include <unistd.h>

#include "kvm_test.h"

static void run_bounded(unsigned int nr_vcpus, bool irqchip)
{
	struct guest_config cfg = {
		.program = GUEST_INCREMENTER, .nr_vcpus = nr_vcpus,
		.work_size = 8ull << 20, .count = 300,
	};
	struct test_guest g;
	unsigned int i;

	test_guest_create(&g, &cfg, irqchip, true);
	TEST_OK(test_guest_run(&g));
	TEST_ASSERT(test_guest_all_done(&g), "a vCPU did not finish");
	for (i = 0; i < nr_vcpus; i++) {
		struct guest_slice s = guest_slice(&cfg, i);
		uint64_t edge;
		uint8_t low;

		TEST_ASSERT(g.mon.vcpu[i].result == cfg.count, "vcpu %u: result %lu", i,
			    (unsigned long)g.mon.vcpu[i].result);
		TEST_OK(guest_incrementer_check(test_guest_slice(&g, i), s.size,
						(int64_t)cfg.count, &low, &edge));
		TEST_ASSERT(edge == 0, "vcpu %u: an edge at page %lu after a full run", i,
			    (unsigned long)edge);
	}
	printf("ok: incrementer, %u vCPU(s)%s, %lu passes over %lu MiB: every page at %lu "
	       "mod 256\n", nr_vcpus, irqchip ? ", irqchip" : "", (unsigned long)cfg.count,
	       (unsigned long)(cfg.work_size >> 20), (unsigned long)cfg.count);
	test_guest_destroy(&g);
}

static void run_stopped(unsigned int nr_vcpus)
{
	struct guest_config cfg = {
		.program = GUEST_INCREMENTER, .nr_vcpus = nr_vcpus, .work_size = 16ull << 20,
	};
	struct test_guest g;
	unsigned int i;

	test_guest_create(&g, &cfg, false, true);
	TEST_OK(vm_vcpus_start(g.vm));
	/* Wait until every vCPU has done some passes, then stop wherever they are. */
	for (i = 0; i < nr_vcpus; i++)
		while (atomic_load(&g.mon.vcpu[i].progress) < 20)
			usleep(1000);
	usleep(3000);
	vm_vcpus_stop(g.vm);
	TEST_OK(vm_vcpus_join(g.vm));
	for (i = 0; i < nr_vcpus; i++) {
		struct guest_slice s = guest_slice(&cfg, i);
		uint64_t passes = atomic_load(&g.mon.vcpu[i].progress), edge;
		uint8_t low;

		TEST_OK(guest_incrementer_check(test_guest_slice(&g, i), s.size, (int64_t)passes,
						&low, &edge));
		printf("ok: incrementer vcpu %u stopped after %lu passes, edge at page %lu of "
		       "%lu\n", i, (unsigned long)passes, (unsigned long)edge,
		       (unsigned long)(s.size / GUEST_PAGE_SIZE));
	}
	test_guest_destroy(&g);
}

int main(void)
{
	kvm_test_init("test_guest_incrementer", 60);
	run_bounded(1, false);
	run_bounded(2, false);
	run_bounded(2, true);
	run_stopped(1);
	run_stopped(2);
	return 0;
}
