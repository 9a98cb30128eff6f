// SPDX-License-Identifier: GPL-2.0-only
/*
 * The state codec on synthetic states and hostile input: round trips are exact; oversized,
 * truncated, garbage and meaningless messages are refused with an error, never a crash
 * (run it under ASan/UBSan too). Needs no /dev/kvm.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "state_codec.h"
#include "vcpu_state.pb-c.h"

static void fill_random(void *p, size_t len, uint64_t *seed)
{
	uint8_t *b = p;
	size_t i;

	for (i = 0; i < len; i++) {
		*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
		b[i] = (uint8_t)(*seed >> 56);
	}
}

/* A state with every part the codec knows, filled with noise. */
static struct vcpu_state *synthetic_state(uint64_t seed, bool sregs2, bool nested)
{
	struct vcpu_state *st = vcpu_state_alloc();
	struct kvm_nested_state hdr = { .size = 4224 };
	uint32_t i;

	assert_non_null(st);
	st->vcpu_id = 1;
	st->parts = VCPU_PART_CPUID | VCPU_PART_TSC_KHZ | VCPU_PART_REGS | VCPU_PART_XSAVE |
		    VCPU_PART_XCRS | VCPU_PART_LAPIC | VCPU_PART_MSRS | VCPU_PART_MP_STATE |
		    VCPU_PART_EVENTS | VCPU_PART_DEBUGREGS |
		    (sregs2 ? VCPU_PART_SREGS2 : VCPU_PART_SREGS);
	st->ncpuid = 40;
	fill_random(st->cpuid, st->ncpuid * sizeof(st->cpuid[0]), &seed);
	for (i = 0; i < st->ncpuid; i++)
		memset(st->cpuid[i].padding, 0, sizeof(st->cpuid[i].padding));
	st->tsc_khz = 2400000;
	if (sregs2)
		fill_random(&st->sregs2, sizeof(st->sregs2), &seed);
	else
		fill_random(&st->sregs, sizeof(st->sregs), &seed);
	fill_random(&st->regs, sizeof(st->regs), &seed);
	st->xsave_size = 4096;
	fill_random(st->xsave, st->xsave_size, &seed);
	fill_random(&st->xcrs, sizeof(st->xcrs), &seed);
	fill_random(&st->lapic, sizeof(st->lapic), &seed);
	st->nmsrs = 40;
	for (i = 0; i < st->nmsrs; i++) {
		fill_random(&st->msrs[i].data, sizeof(st->msrs[i].data), &seed);
		st->msrs[i].index = 0x4b564d00 + i;
	}
	st->mp_state.mp_state = KVM_MP_STATE_RUNNABLE;
	fill_random(&st->events, sizeof(st->events), &seed);
	fill_random(&st->debugregs, sizeof(st->debugregs), &seed);
	if (nested) {
		st->parts |= VCPU_PART_NESTED;
		st->nested_size = hdr.size;
		fill_random(st->nested, st->nested_size, &seed);
		memcpy(st->nested, &hdr, sizeof(hdr));
	}
	return st;
}

static void *encode(const struct vcpu_state *st, size_t *len)
{
	size_t cap = vcpu_state_encoded_size(st);
	void *buf = malloc(cap);
	ssize_t n;

	assert_non_null(buf);
	n = vcpu_state_encode(st, buf, cap);
	assert_int_equal(n, cap);
	*len = cap;
	return buf;
}

static int decode_quiet(const void *buf, size_t len, struct vcpu_state *out)
{
	char err[256] = "";

	return vcpu_state_decode(buf, len, out, err, sizeof(err));
}

static int decode(const void *buf, size_t len, struct vcpu_state *out)
{
	char err[256] = "";
	int r = vcpu_state_decode(buf, len, out, err, sizeof(err));

	if (r)
		print_message("  refused (%d): %s\n", r, err);
	return r;
}

static void roundtrip(void **unused)
{
	int variant;

	for (variant = 0; variant < 4; variant++) {
		struct vcpu_state *in = synthetic_state(variant + 1, variant & 1, variant & 2);
		struct vcpu_state *out = vcpu_state_alloc();
		size_t len;
		void *buf = encode(in, &len);

		assert_int_equal(decode(buf, len, out), 0);
		/* The whole struct: fields, arrays and the unused tails must all be equal. */
		assert_memory_equal(in, out, sizeof(*in));
		free(buf);
		vcpu_state_free(in);
		vcpu_state_free(out);
	}
}

static void encode_too_small(void **unused)
{
	struct vcpu_state *st = synthetic_state(3, true, false);
	char small[64];

	assert_int_equal(vcpu_state_encode(st, small, sizeof(small)), -EMSGSIZE);
	vcpu_state_free(st);
}

static void oversized(void **unused)
{
	struct vcpu_state *out = vcpu_state_alloc();
	size_t len = VCPU_STATE_MAX_ENCODED + 1;
	void *buf = calloc(1, len);

	assert_int_equal(decode(buf, len, out), -EMSGSIZE);
	free(buf);
	vcpu_state_free(out);
}

static void garbage_and_truncated(void **unused)
{
	struct vcpu_state *st = synthetic_state(4, true, true), *out = vcpu_state_alloc();
	uint64_t seed = 77;
	size_t len, cut;
	uint8_t noise[4096];
	void *buf = encode(st, &len);

	fill_random(noise, sizeof(noise), &seed);
	assert_int_not_equal(decode(noise, sizeof(noise), out), 0);
	/* Every cut inside a length-delimited field makes it unreadable or meaningless. */
	for (cut = 1; cut < len; cut += 97)
		assert_int_not_equal(decode_quiet(buf, cut, out), 0);
	assert_int_not_equal(decode(buf, 0, out), 0);
	free(buf);
	vcpu_state_free(st);
	vcpu_state_free(out);
}

/* Encodes st after letting mutate change the message. */
static int decode_mutated(const struct vcpu_state *st, void (*mutate)(Vmstate__VcpuState *))
{
	struct vcpu_state *out = vcpu_state_alloc();
	Vmstate__VcpuState *msg;
	size_t len;
	void *buf = encode(st, &len), *buf2;
	int r;

	msg = vmstate__vcpu_state__unpack(NULL, len, buf);
	assert_non_null(msg);
	mutate(msg);
	len = vmstate__vcpu_state__get_packed_size(msg);
	buf2 = malloc(len + 1);
	vmstate__vcpu_state__pack(msg, buf2);
	r = decode(buf2, len, out);
	vmstate__vcpu_state__free_unpacked(msg, NULL);
	free(buf);
	free(buf2);
	vcpu_state_free(out);
	return r;
}

static void bad_version(Vmstate__VcpuState *m) { m->version = 2; }
static void unknown_part(Vmstate__VcpuState *m) { m->parts |= 1u << 20; }
static void short_regs(Vmstate__VcpuState *m) { m->regs.len -= 8; }
static void no_regs(Vmstate__VcpuState *m) { m->parts &= ~VCPU_PART_REGS; m->regs.len = 0; }
static void both_sregs(Vmstate__VcpuState *m) { m->parts |= VCPU_PART_SREGS; }
static void unmarked_lapic(Vmstate__VcpuState *m) { m->parts &= ~VCPU_PART_LAPIC; }
static void short_xsave(Vmstate__VcpuState *m) { m->xsave.len = 512; }
static void bad_mp_state(Vmstate__VcpuState *m) { m->mp_state = 1000; }
static void zero_tsc(Vmstate__VcpuState *m) { m->tsc_khz = 0; }
static void big_vcpu_id(Vmstate__VcpuState *m) { m->vcpu_id = 100000; }
static void nested_size_lies(Vmstate__VcpuState *m)
{
	struct kvm_nested_state hdr;

	memcpy(&hdr, m->nested_state.data, sizeof(hdr));
	hdr.size += 4096;
	memcpy(m->nested_state.data, &hdr, sizeof(hdr));
}

static Vmstate__Msr *many_msrs_ptrs[VCPU_STATE_MAX_MSRS + 1];
static Vmstate__Msr many_msrs[VCPU_STATE_MAX_MSRS + 1];
static void too_many_msrs(Vmstate__VcpuState *m)
{
	size_t i;

	for (i = 0; i < VCPU_STATE_MAX_MSRS + 1; i++) {
		vmstate__msr__init(&many_msrs[i]);
		many_msrs_ptrs[i] = &many_msrs[i];
	}
	/* Pointers the unpacked message does not own: free_unpacked must not see them. */
	m->n_msrs = VCPU_STATE_MAX_MSRS + 1;
	m->msrs = many_msrs_ptrs;
}

static void meaning_checks(void **unused)
{
	struct vcpu_state *st = synthetic_state(5, true, true);

	assert_int_equal(decode_mutated(st, bad_version), -EPROTO);
	assert_int_equal(decode_mutated(st, unknown_part), -EPROTO);
	assert_int_equal(decode_mutated(st, short_regs), -EPROTO);
	assert_int_equal(decode_mutated(st, no_regs), -EPROTO);
	assert_int_equal(decode_mutated(st, both_sregs), -EPROTO);
	assert_int_equal(decode_mutated(st, unmarked_lapic), -EPROTO);
	assert_int_equal(decode_mutated(st, short_xsave), -EPROTO);
	assert_int_equal(decode_mutated(st, bad_mp_state), -EPROTO);
	assert_int_equal(decode_mutated(st, zero_tsc), -EPROTO);
	assert_int_equal(decode_mutated(st, big_vcpu_id), -EPROTO);
	assert_int_equal(decode_mutated(st, nested_size_lies), -EPROTO);
	vcpu_state_free(st);
}

static void msr_count_cap(void **unused)
{
	struct vcpu_state *st = synthetic_state(6, true, false);
	struct vcpu_state *out = vcpu_state_alloc();
	Vmstate__VcpuState *msg;
	size_t len;
	void *buf = encode(st, &len), *buf2;
	Vmstate__Msr **saved;
	size_t n_saved;

	msg = vmstate__vcpu_state__unpack(NULL, len, buf);
	assert_non_null(msg);
	saved = msg->msrs;
	n_saved = msg->n_msrs;
	too_many_msrs(msg);
	len = vmstate__vcpu_state__get_packed_size(msg);
	buf2 = malloc(len);
	vmstate__vcpu_state__pack(msg, buf2);
	assert_int_equal(decode(buf2, len, out), -EPROTO);
	msg->msrs = saved;
	msg->n_msrs = n_saved;
	vmstate__vcpu_state__free_unpacked(msg, NULL);
	free(buf);
	free(buf2);
	vcpu_state_free(st);
	vcpu_state_free(out);
}

/*
 * Within the size cap, a flood of tiny submessages costs protobuf-c far more memory than
 * its bytes (a struct and a pointer each): the arena must stop it.
 */
static void arena_bound(void **unused)
{
	struct vcpu_state *out = vcpu_state_alloc();
	size_t len = VCPU_STATE_MAX_ENCODED, i;
	uint8_t *buf = malloc(len);

	/* Field 14 (msrs), length-delimited, empty: 0x72 0x00, repeated. */
	for (i = 0; i + 1 < len; i += 2) {
		buf[i] = 0x72;
		buf[i + 1] = 0x00;
	}
	assert_int_equal(decode(buf, len & ~(size_t)1, out), -ENOMEM);
	free(buf);
	vcpu_state_free(out);
}

static void vm_state_codec(void **unused)
{
	struct vm_state in, out;
	char buf[VM_STATE_MAX_ENCODED], err[256];
	uint64_t seed = 9;
	Vmstate__VmState *msg;
	ssize_t len;
	size_t len2;
	unsigned int i;

	memset(&in, 0, sizeof(in));
	in.parts = VM_PART_ALL;
	fill_random(&in.clock, sizeof(in.clock), &seed);
	fill_random(&in.pit, sizeof(in.pit), &seed);
	for (i = 0; i < VM_STATE_NR_IRQCHIPS; i++) {
		fill_random(&in.irqchip[i], sizeof(in.irqchip[i]), &seed);
		in.irqchip[i].chip_id = i;
	}
	len = vm_state_encode(&in, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(vm_state_decode(buf, len, &out, err, sizeof(err)), 0);
	assert_memory_equal(&in, &out, sizeof(in));

	assert_int_equal(vm_state_decode(buf, VM_STATE_MAX_ENCODED + 1, &out, err, sizeof(err)),
			 -EMSGSIZE);
	assert_int_not_equal(vm_state_decode(buf, len / 2, &out, err, sizeof(err)), 0);

	/* irqchips out of order */
	msg = vmstate__vm_state__unpack(NULL, len, (uint8_t *)buf);
	assert_non_null(msg);
	((struct kvm_irqchip *)msg->irqchip[0].data)->chip_id = 2;
	len2 = vmstate__vm_state__pack(msg, (uint8_t *)buf);
	assert_int_equal(vm_state_decode(buf, len2, &out, err, sizeof(err)), -EPROTO);
	print_message("  refused: %s\n", err);
	/* irqchip count that does not match the parts */
	msg->n_irqchip = 2;
	((struct kvm_irqchip *)msg->irqchip[0].data)->chip_id = 0;
	len2 = vmstate__vm_state__pack(msg, (uint8_t *)buf);
	assert_int_equal(vm_state_decode(buf, len2, &out, err, sizeof(err)), -EPROTO);
	print_message("  refused: %s\n", err);
	msg->n_irqchip = VM_STATE_NR_IRQCHIPS;
	vmstate__vm_state__free_unpacked(msg, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(encode_too_small),
		cmocka_unit_test(oversized),
		cmocka_unit_test(garbage_and_truncated),
		cmocka_unit_test(meaning_checks),
		cmocka_unit_test(msr_count_cap),
		cmocka_unit_test(arena_bound),
		cmocka_unit_test(vm_state_codec),
	};

	log_set_prefix("test_state_codec");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
