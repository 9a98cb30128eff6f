// SPDX-License-Identifier: GPL-2.0-only
/*
 * MSRs that KVM_GET_MSR_INDEX_LIST does not name but a guest programs (the MTRRs, the
 * machine-check banks) must travel with the vCPU state: a guest's MTRR setup lost in a
 * migration would leave its memory uncached on a host that honours guest MTRRs.
 */
#include "kvm_test.h"
#include "state_codec.h"
#include "vcpu_state.h"

#include <stdio.h>
#include <stdlib.h>

static const struct {
	uint32_t index;
	uint64_t value;
	const char *name;
} programmed[] = {
	{ 0x2ff, 0xc06, "MTRRdefType (enabled, fixed enabled, WB)" },
	{ 0x200, 0x80000006, "MTRRphysBase0 (2 GiB, WB)" },
	{ 0x250, 0x0606060606060606, "MTRRfix64K_00000 (WB)" },
};

int main(void)
{
	struct vcpu_state *st, *decoded;
	struct vm *src, *dst;
	struct vcpu *v, *w;
	size_t cap = VCPU_STATE_MAX_ENCODED;
	char err[256];
	uint64_t value;
	unsigned int i;
	ssize_t len;
	void *buf;

	kvm_test_init("test_state_model_msrs", 30);
	st = vcpu_state_alloc();
	decoded = vcpu_state_alloc();
	buf = malloc(cap);
	TEST_ASSERT(st && decoded && buf, "out of memory");
	TEST_OK(vm_create(&src));
	TEST_OK(vm_vcpu_add(src, 0, &v));
	TEST_OK(vcpu_init_cpuid(v));
	for (i = 0; i < sizeof(programmed) / sizeof(programmed[0]); i++)
		TEST_OK(vcpu_set_msr(v, programmed[i].index, programmed[i].value));
	TEST_OK(vcpu_state_save(v, st));
	len = vcpu_state_encode(st, buf, cap);
	TEST_ASSERT(len > 0, "encode: %zd", len);
	TEST_OK(vcpu_state_decode(buf, (size_t)len, decoded, err, sizeof(err)));

	TEST_OK(vm_create(&dst));
	TEST_OK(vm_vcpu_add(dst, 0, &w));
	TEST_OK(vcpu_state_restore(w, decoded, NULL));
	for (i = 0; i < sizeof(programmed) / sizeof(programmed[0]); i++) {
		TEST_OK(vcpu_get_msr(w, programmed[i].index, &value));
		TEST_ASSERT(value == programmed[i].value, "%s: %#llx on the destination, %#llx saved",
			    programmed[i].name, (unsigned long long)value,
			    (unsigned long long)programmed[i].value);
	}
	printf("PASS: %u MSRs saved, the MTRRs among them restored\n", st->nmsrs);
	vm_destroy(dst);
	vm_destroy(src);
	free(buf);
	vcpu_state_free(decoded);
	vcpu_state_free(st);
	return 0;
}
