// SPDX-License-Identifier: GPL-2.0-only
/*
 * Save -> encode -> decode -> restore into a second VM in this process, with the guest's
 * memory copied over, for each guest: the guest must carry on and produce its correct
 * final answer. The restored vCPU's state is also read back and compared with the saved one.
 *
 *   pattern, 2 vCPUs, irqchip + PIT: stopped mid-write by its progress port
 *   incrementer, 1 vCPU: stopped from outside at an arbitrary instruction
 *   toucher, 2 vCPUs, irqchip + PIT: stopped by its progress port
 */
#include <string.h>
#include <unistd.h>

#include "kvm_test.h"
#include "state_codec.h"
#include "vcpu_state.h"

static unsigned int steps_run;

static void step_end(void *opaque, uint32_t vcpu_id, const char *ioctl, int err,
		     uint64_t elapsed_ns)
{
	steps_run++;
	if (vcpu_id == RESTORE_VM)
		pr_debug("restore vm: %s -> %d (%lu ns)", ioctl, err, (unsigned long)elapsed_ns);
	else
		pr_debug("restore vcpu %u: %s -> %d (%lu ns)", vcpu_id, ioctl, err,
			 (unsigned long)elapsed_ns);
}

static const struct restore_hooks hooks = { .end = step_end };

/* The migration stream's view: every state goes through its protobuf encoding. */
static void vcpu_state_through_codec(const struct vcpu_state *in, struct vcpu_state *out)
{
	size_t cap = vcpu_state_encoded_size(in);
	char err[256] = "";
	void *buf = malloc(cap);
	ssize_t len;

	TEST_ASSERT(buf && cap, "encoded size %zu", cap);
	len = vcpu_state_encode(in, buf, cap);
	TEST_ASSERT(len == (ssize_t)cap, "vcpu_state_encode: %zd of %zu", len, cap);
	TEST_ASSERT(vcpu_state_decode(buf, len, out, err, sizeof(err)) == 0,
		    "vcpu_state_decode: %s", err);
	free(buf);
}

static void vm_state_through_codec(const struct vm_state *in, struct vm_state *out)
{
	char buf[VM_STATE_MAX_ENCODED], err[256] = "";
	ssize_t len = vm_state_encode(in, buf, sizeof(buf));

	TEST_ASSERT(len > 0, "vm_state_encode: %zd", len);
	TEST_ASSERT(vm_state_decode(buf, len, out, err, sizeof(err)) == 0, "vm_state_decode: %s",
		    err);
}

/* MSRs that move on their own while a guest exists: the TSC and what is derived from it. */
static bool msr_is_clock(uint32_t index)
{
	return index == 0x10 /* IA32_TSC */ || index == 0x3b /* TSC_ADJUST */ ||
	       index == 0x6e0 /* TSC_DEADLINE */ || index == 0x4b564d02 /* async PF */;
}

/* What a restore must reproduce exactly (the clocks and timers aside). */
static void compare_states(const struct vcpu_state *a, const struct vcpu_state *b)
{
	uint32_t i, n = 0;

	TEST_ASSERT(a->parts == b->parts, "parts %#x, read back %#x", a->parts, b->parts);
	TEST_ASSERT(!memcmp(&a->regs, &b->regs, sizeof(a->regs)), "regs differ");
	if (a->parts & VCPU_PART_SREGS2)
		TEST_ASSERT(!memcmp(&a->sregs2, &b->sregs2, sizeof(a->sregs2)), "sregs2 differ");
	else
		TEST_ASSERT(!memcmp(&a->sregs, &b->sregs, sizeof(a->sregs)), "sregs differ");
	/* The legacy area and the XSAVE header: x87, SSE registers, XSTATE_BV. */
	TEST_ASSERT(!memcmp(a->xsave, b->xsave, 576), "XSAVE legacy area or header differs");
	TEST_ASSERT(!memcmp(&a->xcrs, &b->xcrs, sizeof(a->xcrs)), "XCRs differ");
	TEST_ASSERT(!memcmp(&a->debugregs, &b->debugregs, sizeof(a->debugregs)),
		    "debug registers differ");
	TEST_ASSERT(!memcmp(&a->events, &b->events, sizeof(a->events)), "vCPU events differ");
	TEST_ASSERT(a->mp_state.mp_state == b->mp_state.mp_state, "MP state %u, read back %u",
		    a->mp_state.mp_state, b->mp_state.mp_state);
	TEST_ASSERT(a->ncpuid == b->ncpuid &&
		    !memcmp(a->cpuid, b->cpuid, a->ncpuid * sizeof(a->cpuid[0])),
		    "CPUID differs");
	TEST_ASSERT(a->nmsrs == b->nmsrs, "%u MSRs, read back %u", a->nmsrs, b->nmsrs);
	for (i = 0; i < a->nmsrs; i++) {
		if (msr_is_clock(a->msrs[i].index))
			continue;
		TEST_ASSERT(a->msrs[i].index == b->msrs[i].index &&
			    a->msrs[i].data == b->msrs[i].data,
			    "MSR %#x = %#llx, read back %#x = %#llx", a->msrs[i].index,
			    a->msrs[i].data, b->msrs[i].index, b->msrs[i].data);
		n++;
	}
	if (a->parts & VCPU_PART_LAPIC) {
		/* All but the timer's current count (APIC_TMCCT at 0x390), which runs. */
		TEST_ASSERT(!memcmp(a->lapic.regs, b->lapic.regs, 0x390) &&
			    !memcmp(a->lapic.regs + 0x3a0, b->lapic.regs + 0x3a0,
				    sizeof(a->lapic.regs) - 0x3a0), "LAPIC differs");
	}
	pr_debug("vcpu %u: restored state matches (%u MSRs compared)", a->vcpu_id, n);
}

/*
 * Saves src (stopped), moves it through the codec into a new VM dst with the same memory,
 * restores it there in the documented order, and checks it reads back the same.
 */
static void migrate(struct test_guest *src, struct test_guest *dst, bool irqchip)
{
	unsigned int i, n = src->cfg.nr_vcpus;
	struct vm_state vm_saved, vm_moved;

	TEST_OK(vm_state_save(src->vm, &vm_saved));
	vm_state_through_codec(&vm_saved, &vm_moved);

	test_guest_create(dst, &src->cfg, irqchip, false);
	for (i = 0; i < GUEST_NR_REGIONS; i++)
		memcpy(dst->mem[i], src->mem[i], src->regions[i].size);

	steps_run = 0;
	TEST_OK(vm_state_restore_devices(dst->vm, &vm_moved, &hooks));
	for (i = 0; i < n; i++) {
		struct vcpu_state *saved = vcpu_state_alloc(), *moved = vcpu_state_alloc();
		struct vcpu_state *back = vcpu_state_alloc();

		TEST_ASSERT(saved && moved && back, "out of memory");
		TEST_OK(vcpu_state_save(src->vm->vcpus[i], saved));
		vcpu_state_through_codec(saved, moved);
		TEST_OK(vcpu_state_restore(dst->vm->vcpus[i], moved, &hooks));
		TEST_OK(vcpu_state_save(dst->vm->vcpus[i], back));
		compare_states(saved, back);
		printf("ok: vcpu %u restored: parts %#x, %u MSRs, XSAVE %u bytes, rip %#llx\n", i,
		       saved->parts, saved->nmsrs, saved->xsave_size, saved->regs.rip);
		vcpu_state_free(saved);
		vcpu_state_free(moved);
		vcpu_state_free(back);
	}
	TEST_OK(vm_state_restore_clock(dst->vm, &vm_moved, &hooks));
	printf("ok: %u restore steps ran for %u vCPU(s)%s\n", steps_run, n,
	       irqchip ? " with irqchip and PIT" : "");
	/* The source is gone, as after a migration: only the copy may produce the answer. */
	test_guest_destroy(src);
}

static void roundtrip_pattern(void)
{
	struct guest_config cfg = {
		.program = GUEST_PATTERN, .nr_vcpus = 2, .work_size = 32ull << 20, .seed = 0x5eed,
	};
	struct test_guest src, dst;
	unsigned int i;

	test_guest_create(&src, &cfg, true, true);
	for (i = 0; i < cfg.nr_vcpus; i++)
		src.mon.vcpu[i].stop_at_progress = 10; /* 10 of 16 MiB written */
	TEST_OK(test_guest_run(&src));
	for (i = 0; i < cfg.nr_vcpus; i++)
		TEST_ASSERT(!src.mon.vcpu[i].done && src.mon.vcpu[i].progress == 10,
			    "vcpu %u: progress %lu before the migration", i,
			    (unsigned long)src.mon.vcpu[i].progress);
	migrate(&src, &dst, true);
	TEST_OK(test_guest_run(&dst));
	TEST_ASSERT(test_guest_all_done(&dst), "the pattern guest did not finish");
	for (i = 0; i < cfg.nr_vcpus; i++) {
		struct guest_slice s = guest_slice(&cfg, i);
		uint64_t want = guest_pattern_expected(cfg.seed, s.gpa, s.size);

		TEST_ASSERT(dst.mon.vcpu[i].result == want, "vcpu %u: checksum %#lx, want %#lx",
			    i, (unsigned long)dst.mon.vcpu[i].result, (unsigned long)want);
		printf("ok: pattern vcpu %u finished after the migration: checksum %#lx\n", i,
		       (unsigned long)want);
	}
	test_guest_destroy(&dst);
}

static void roundtrip_incrementer(void)
{
	struct guest_config cfg = {
		.program = GUEST_INCREMENTER, .nr_vcpus = 1, .work_size = 64ull << 20,
	};
	struct test_guest src, dst;
	uint64_t passes = 0, edge = 0, more = 25;
	enum vcpu_stop_reason why;
	unsigned int attempt;
	uint8_t low;

	test_guest_create(&src, &cfg, false, true);
	/*
	 * The guest spends most of its time in the OUT of each pass, so a stop often lands on
	 * a pass boundary: stop and resume until one lands inside a pass (an edge).
	 */
	for (attempt = 1; attempt <= 200; attempt++) {
		TEST_OK(vcpu_thread_start(src.vm->vcpus[0]));
		while (atomic_load(&src.mon.vcpu[0].progress) < 3)
			usleep(100);
		usleep(200 + (attempt * 37) % 500);
		vcpu_stop(src.vm->vcpus[0]);
		TEST_OK(vcpu_thread_join(src.vm->vcpus[0], &why));
		TEST_ASSERT(why == VCPU_STOP_REQUEST, "stop reason %d", why);
		passes = atomic_load(&src.mon.vcpu[0].progress);
		TEST_OK(guest_incrementer_check(src.mem[1], cfg.work_size, (int64_t)passes, &low,
						&edge));
		if (edge)
			break;
	}
	printf("ok: incrementer stopped from outside %u time(s), resumed in place, now %lu "
	       "passes and an edge at page %lu\n", attempt, (unsigned long)passes,
	       (unsigned long)edge);

	migrate(&src, &dst, false);
	dst.mon.vcpu[0].stop_at_progress = passes + more;
	TEST_OK(test_guest_run(&dst));
	TEST_ASSERT(dst.mon.vcpu[0].progress == passes + more, "progress %lu",
		    (unsigned long)dst.mon.vcpu[0].progress);
	/* Stopped at a progress report: the partial pass was finished, no edge remains. */
	TEST_OK(guest_incrementer_check(dst.mem[1], cfg.work_size, (int64_t)(passes + more), &low,
					&edge));
	TEST_ASSERT(edge == 0, "an edge at page %lu", (unsigned long)edge);
	printf("ok: incrementer carried on to %lu passes, every page at %u\n",
	       (unsigned long)(passes + more), low);
	test_guest_destroy(&dst);
}

static void roundtrip_toucher(void)
{
	struct guest_config cfg = {
		.program = GUEST_TOUCHER, .nr_vcpus = 2, .work_size = 8ull << 20,
		.seed = 0xfeed, .count = 8 * GUEST_TOUCHER_PROGRESS_ITERS,
	};
	struct test_guest src, dst;
	unsigned int i;

	test_guest_create(&src, &cfg, true, true);
	for (i = 0; i < cfg.nr_vcpus; i++)
		src.mon.vcpu[i].stop_at_progress = 3;
	TEST_OK(test_guest_run(&src));
	migrate(&src, &dst, true);
	TEST_OK(test_guest_run(&dst));
	TEST_ASSERT(test_guest_all_done(&dst), "the toucher did not finish");
	for (i = 0; i < cfg.nr_vcpus; i++) {
		struct guest_slice s = guest_slice(&cfg, i);
		void *sim = calloc(1, s.size);
		uint64_t want;

		TEST_ASSERT(sim, "out of memory");
		want = guest_toucher_simulate(cfg.seed, i, sim, s.size, cfg.count);
		TEST_ASSERT(dst.mon.vcpu[i].result == want, "vcpu %u: result %#lx, want %#lx", i,
			    (unsigned long)dst.mon.vcpu[i].result, (unsigned long)want);
		TEST_ASSERT(!memcmp(sim, test_guest_slice(&dst, i), s.size),
			    "vcpu %u: memory differs from the host's replay", i);
		printf("ok: toucher vcpu %u finished after the migration: result %#lx, memory "
		       "matches the replay\n", i, (unsigned long)want);
		free(sim);
	}
	test_guest_destroy(&dst);
}

int main(void)
{
	kvm_test_init("test_state_roundtrip", 120);
	roundtrip_pattern();
	roundtrip_incrementer();
	roundtrip_toucher();
	return 0;
}
