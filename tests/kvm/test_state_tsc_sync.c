// SPDX-License-Identifier: GPL-2.0-only
/*
 * vCPU TSCs stay in sync after a restore in which the vCPUs were restored seconds apart (a
 * destination whose KVM_SET_MSRS waited on the network for kvmclock pages): KVM keeps host TSC
 * writes in sync only within a second, so vm_state_restore_tsc() writes them all again back
 * to back. Found in review. This host's KVM (kvm_pvm, 6.18) already matches the two writes
 * (the skew before the step is printed, and is tiny here); on a KVM that does not, the second
 * vCPU's TSC would lag by the gap until the step.
 */
#include "kvm_test.h"
#include "vcpu_state.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define GAP_MS 1500

static int64_t tsc_skew(struct vcpu *a, struct vcpu *b)
{
	uint64_t ta, tb;

	TEST_OK(vcpu_get_msr(a, 0x10, &ta));
	TEST_OK(vcpu_get_msr(b, 0x10, &tb));
	return (int64_t)(ta - tb);
}

int main(void)
{
	struct vcpu_state *st[2];
	struct vm *src, *dst;
	struct vcpu *s[2], *d[2];
	uint64_t khz;
	int64_t before, after;
	unsigned int i;

	kvm_test_init("test_state_tsc_sync", 30);
	TEST_OK(vm_create(&src));
	TEST_OK(vm_create(&dst));
	for (i = 0; i < 2; i++) {
		st[i] = vcpu_state_alloc();
		TEST_ASSERT(st[i], "out of memory");
		TEST_OK(vm_vcpu_add(src, i, &s[i]));
		TEST_OK(vcpu_init_cpuid(s[i]));
		TEST_OK(vm_vcpu_add(dst, i, &d[i]));
	}
	for (i = 0; i < 2; i++)
		TEST_OK(vcpu_state_save(s[i], st[i]));
	khz = st[0]->tsc_khz ? st[0]->tsc_khz : 1000000;

	TEST_OK(vcpu_state_restore(d[0], st[0], NULL));
	usleep(GAP_MS * 1000);
	TEST_OK(vcpu_state_restore(d[1], st[1], NULL));
	before = tsc_skew(d[0], d[1]);
	TEST_OK(vm_state_restore_tsc(dst, st, NULL));
	after = tsc_skew(d[0], d[1]);
	printf("TSC skew between the vCPUs: %.3f ms after restoring them %d ms apart, "
	       "%.3f ms after vm_state_restore_tsc\n", (double)before / (double)khz, GAP_MS,
	       (double)after / (double)khz);
	/* 10 ms of cycles: far above the back-to-back write gap, far below the restore gap. */
	TEST_ASSERT(after < (int64_t)(10 * khz) && after > -(int64_t)(10 * khz),
		    "vCPU TSCs differ by %lld cycles after the sync step", (long long)after);
	for (i = 0; i < 2; i++)
		vcpu_state_free(st[i]);
	vm_destroy(dst);
	vm_destroy(src);
	printf("PASS\n");
	return 0;
}
