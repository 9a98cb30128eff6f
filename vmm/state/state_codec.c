// SPDX-License-Identifier: GPL-2.0-only
/* struct vcpu_state <-> vcpu_state.proto's VcpuState, with bounded decoding. */
#include "state_codec_int.h"

#include <stdlib.h>

/* ---- the decoder's arena: protobuf-c allocates from it and nowhere else ---- */

int state_codec_unpack(const ProtobufCMessageDescriptor *desc, const void *buf, size_t len,
		       size_t max, struct pb_arena *arena, ProtobufCMessage **out, char *err,
		       size_t err_len)
{
	void *mem;
	int r;

	if (len > max) {
		snprintf(err, err_len, "%s of %zu bytes, more than %zu", desc->short_name, len,
			 max);
		return -EMSGSIZE;
	}
	mem = malloc(STATE_CODEC_ARENA_SIZE);
	if (!mem) {
		snprintf(err, err_len, "no memory for the decoder's arena");
		return -ENOMEM;
	}
	pb_arena_init(arena, mem, STATE_CODEC_ARENA_SIZE);
	r = pb_arena_unpack(arena, desc, buf, len, out);
	if (r) {
		free(mem);
		if (r == -ENOMEM)
			snprintf(err, err_len, "%s needs more than the %u-byte arena",
				 desc->short_name, STATE_CODEC_ARENA_SIZE);
		else
			snprintf(err, err_len, "%s is not a valid protobuf message",
				 desc->short_name);
	}
	return r;
}

void state_codec_release(ProtobufCMessage *msg, struct pb_arena *arena)
{
	protobuf_c_message_free_unpacked(msg, &arena->allocator);
	free(arena->mem);
}

/* ---- vCPU state ---- */

struct vcpu_msg {
	Vmstate__VcpuState msg;
	Vmstate__CpuidEntry cpuid[VCPU_STATE_MAX_CPUID];
	Vmstate__CpuidEntry *cpuid_ptrs[VCPU_STATE_MAX_CPUID];
	Vmstate__Msr msrs[VCPU_STATE_MAX_MSRS];
	Vmstate__Msr *msr_ptrs[VCPU_STATE_MAX_MSRS];
};

static bool vcpu_state_counts_ok(const struct vcpu_state *st)
{
	return st->ncpuid <= VCPU_STATE_MAX_CPUID && st->nmsrs <= VCPU_STATE_MAX_MSRS &&
	       st->xsave_size <= VCPU_STATE_MAX_XSAVE && st->nested_size <= VCPU_STATE_MAX_NESTED;
}

/* The message points into st: nothing is copied until it is packed. */
static struct vcpu_msg *vcpu_msg_build(const struct vcpu_state *st)
{
	struct vcpu_msg *m = calloc(1, sizeof(*m));
	Vmstate__VcpuState *msg;
	uint32_t i;

	if (!m)
		return NULL;
	msg = &m->msg;
	vmstate__vcpu_state__init(msg);
	msg->version = VCPU_STATE_CODEC_VERSION;
	msg->vcpu_id = st->vcpu_id;
	msg->parts = st->parts;
	if (st->parts & VCPU_PART_CPUID) {
		for (i = 0; i < st->ncpuid; i++) {
			const struct kvm_cpuid_entry2 *e = &st->cpuid[i];

			vmstate__cpuid_entry__init(&m->cpuid[i]);
			m->cpuid[i].function = e->function;
			m->cpuid[i].index = e->index;
			m->cpuid[i].flags = e->flags;
			m->cpuid[i].eax = e->eax;
			m->cpuid[i].ebx = e->ebx;
			m->cpuid[i].ecx = e->ecx;
			m->cpuid[i].edx = e->edx;
			m->cpuid_ptrs[i] = &m->cpuid[i];
		}
		msg->n_cpuid = st->ncpuid;
		msg->cpuid = m->cpuid_ptrs;
	}
	if (st->parts & VCPU_PART_TSC_KHZ)
		msg->tsc_khz = st->tsc_khz;
	if (st->parts & VCPU_PART_SREGS)
		msg->sregs = bin(&st->sregs, sizeof(st->sregs));
	if (st->parts & VCPU_PART_SREGS2)
		msg->sregs2 = bin(&st->sregs2, sizeof(st->sregs2));
	if (st->parts & VCPU_PART_NESTED)
		msg->nested_state = bin(st->nested, st->nested_size);
	if (st->parts & VCPU_PART_REGS)
		msg->regs = bin(&st->regs, sizeof(st->regs));
	if (st->parts & VCPU_PART_XSAVE)
		msg->xsave = bin(st->xsave, st->xsave_size);
	if (st->parts & VCPU_PART_FPU)
		msg->fpu = bin(&st->fpu, sizeof(st->fpu));
	if (st->parts & VCPU_PART_XCRS)
		msg->xcrs = bin(&st->xcrs, sizeof(st->xcrs));
	if (st->parts & VCPU_PART_LAPIC)
		msg->lapic = bin(&st->lapic, sizeof(st->lapic));
	if (st->parts & VCPU_PART_MSRS) {
		for (i = 0; i < st->nmsrs; i++) {
			vmstate__msr__init(&m->msrs[i]);
			m->msrs[i].index = st->msrs[i].index;
			m->msrs[i].data = st->msrs[i].data;
			m->msr_ptrs[i] = &m->msrs[i];
		}
		msg->n_msrs = st->nmsrs;
		msg->msrs = m->msr_ptrs;
	}
	if (st->parts & VCPU_PART_MP_STATE)
		msg->mp_state = st->mp_state.mp_state;
	if (st->parts & VCPU_PART_EVENTS)
		msg->events = bin(&st->events, sizeof(st->events));
	if (st->parts & VCPU_PART_DEBUGREGS)
		msg->debugregs = bin(&st->debugregs, sizeof(st->debugregs));
	return m;
}

size_t vcpu_state_encoded_size(const struct vcpu_state *st)
{
	struct vcpu_msg *m;
	size_t len;

	if (!vcpu_state_counts_ok(st))
		return 0;
	m = vcpu_msg_build(st);
	if (!m)
		return 0;
	len = vmstate__vcpu_state__get_packed_size(&m->msg);
	free(m);
	return len;
}

ssize_t vcpu_state_encode(const struct vcpu_state *st, void *buf, size_t cap)
{
	struct vcpu_msg *m;
	size_t len;

	if (!vcpu_state_counts_ok(st))
		return -EINVAL;
	m = vcpu_msg_build(st);
	if (!m)
		return -ENOMEM;
	len = vmstate__vcpu_state__get_packed_size(&m->msg);
	if (len > cap || len > VCPU_STATE_MAX_ENCODED) {
		free(m);
		return -EMSGSIZE;
	}
	vmstate__vcpu_state__pack(&m->msg, buf);
	free(m);
	return (ssize_t)len;
}

/* Version, id, which parts, and the counts and scalars each part implies. */
static int vcpu_msg_check_parts(const Vmstate__VcpuState *msg, char *err, size_t err_len)
{
	uint32_t parts = msg->parts;

	if (msg->version != VCPU_STATE_CODEC_VERSION)
		return reject(err, err_len, "vCPU state version %u, this VMM reads %u",
			      msg->version, VCPU_STATE_CODEC_VERSION);
	if (parts & ~(uint32_t)VCPU_PART_ALL)
		return reject(err, err_len, "unknown vCPU state parts %#x",
			      parts & ~(uint32_t)VCPU_PART_ALL);
	if (msg->vcpu_id >= VM_MAX_VCPUS)
		return reject(err, err_len, "vCPU id %u is not below %u", msg->vcpu_id,
			      VM_MAX_VCPUS);
	if (!(parts & VCPU_PART_REGS))
		return reject(err, err_len, "vCPU state without registers");
	if (!!(parts & VCPU_PART_SREGS) + !!(parts & VCPU_PART_SREGS2) != 1)
		return reject(err, err_len, "vCPU state must have exactly one of sregs, sregs2");
	if ((parts & VCPU_PART_XSAVE) && (parts & VCPU_PART_FPU))
		return reject(err, err_len, "vCPU state has both XSAVE and FPU state");

	if (!(parts & VCPU_PART_CPUID) && msg->n_cpuid)
		return reject(err, err_len, "CPUID entries not marked present");
	if (msg->n_cpuid > VCPU_STATE_MAX_CPUID)
		return reject(err, err_len, "%zu CPUID entries, at most %u", msg->n_cpuid,
			      VCPU_STATE_MAX_CPUID);
	if (!(parts & VCPU_PART_MSRS) && msg->n_msrs)
		return reject(err, err_len, "MSRs not marked present");
	if (msg->n_msrs > VCPU_STATE_MAX_MSRS)
		return reject(err, err_len, "%zu MSRs, at most %u", msg->n_msrs,
			      VCPU_STATE_MAX_MSRS);
	if ((parts & VCPU_PART_TSC_KHZ) && (msg->tsc_khz == 0 || msg->tsc_khz > 100000000))
		return reject(err, err_len, "TSC frequency of %u kHz", msg->tsc_khz);
	if (!(parts & VCPU_PART_TSC_KHZ) && msg->tsc_khz)
		return reject(err, err_len, "TSC frequency not marked present");
	/* KVM_MP_STATE_* ends at KVM_MP_STATE_SUSPENDED (10); leave room for new ones. */
	if (msg->mp_state > 31 || (!(parts & VCPU_PART_MP_STATE) && msg->mp_state))
		return reject(err, err_len, "MP state %u", msg->mp_state);
	return 0;
}

/* The kernel structs of fixed size: exactly their size when present, empty when not. */
static int vcpu_msg_check_structs(const Vmstate__VcpuState *msg, char *err, size_t err_len)
{
	uint32_t parts = msg->parts;
	int r;

	r = check_bin(&msg->sregs, parts & VCPU_PART_SREGS, sizeof(struct kvm_sregs), "sregs",
		      err, err_len);
	if (!r)
		r = check_bin(&msg->sregs2, parts & VCPU_PART_SREGS2, sizeof(struct kvm_sregs2),
			      "sregs2", err, err_len);
	if (!r)
		r = check_bin(&msg->regs, true, sizeof(struct kvm_regs), "regs", err, err_len);
	if (!r)
		r = check_bin(&msg->fpu, parts & VCPU_PART_FPU, sizeof(struct kvm_fpu), "fpu",
			      err, err_len);
	if (!r)
		r = check_bin(&msg->xcrs, parts & VCPU_PART_XCRS, sizeof(struct kvm_xcrs), "xcrs",
			      err, err_len);
	if (!r)
		r = check_bin(&msg->lapic, parts & VCPU_PART_LAPIC,
			      sizeof(struct kvm_lapic_state), "lapic", err, err_len);
	if (!r)
		r = check_bin(&msg->events, parts & VCPU_PART_EVENTS,
			      sizeof(struct kvm_vcpu_events), "events", err, err_len);
	if (!r)
		r = check_bin(&msg->debugregs, parts & VCPU_PART_DEBUGREGS,
			      sizeof(struct kvm_debugregs), "debugregs", err, err_len);
	return r;
}

/* The variable-size areas: XSAVE within its bounds, nested state matching its own header. */
static int vcpu_msg_check_areas(const Vmstate__VcpuState *msg, char *err, size_t err_len)
{
	uint32_t parts = msg->parts;

	if (parts & VCPU_PART_XSAVE) {
		if (msg->xsave.len < sizeof(struct kvm_xsave) ||
		    msg->xsave.len > VCPU_STATE_MAX_XSAVE)
			return reject(err, err_len, "XSAVE area of %zu bytes, must be %zu..%u",
				      msg->xsave.len, sizeof(struct kvm_xsave),
				      VCPU_STATE_MAX_XSAVE);
	} else if (msg->xsave.len) {
		return reject(err, err_len, "XSAVE area not marked present");
	}
	if (parts & VCPU_PART_NESTED) {
		struct kvm_nested_state hdr;

		if (msg->nested_state.len < sizeof(hdr) ||
		    msg->nested_state.len > VCPU_STATE_MAX_NESTED)
			return reject(err, err_len, "nested state of %zu bytes, must be %zu..%u",
				      msg->nested_state.len, sizeof(hdr), VCPU_STATE_MAX_NESTED);
		memcpy(&hdr, msg->nested_state.data, sizeof(hdr));
		if (hdr.size != msg->nested_state.len)
			return reject(err, err_len, "nested state header says %u bytes, has %zu",
				      hdr.size, msg->nested_state.len);
	} else if (msg->nested_state.len) {
		return reject(err, err_len, "nested state not marked present");
	}
	return 0;
}

/* Every check on an unpacked VcpuState, before any of it is used. */
static int vcpu_msg_check(const Vmstate__VcpuState *msg, char *err, size_t err_len)
{
	int r = vcpu_msg_check_parts(msg, err, err_len);

	if (!r)
		r = vcpu_msg_check_structs(msg, err, err_len);
	if (!r)
		r = vcpu_msg_check_areas(msg, err, err_len);
	return r;
}

static void vcpu_msg_copy(const Vmstate__VcpuState *msg, struct vcpu_state *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	st->parts = msg->parts;
	st->vcpu_id = msg->vcpu_id;
	st->ncpuid = msg->n_cpuid;
	for (i = 0; i < msg->n_cpuid; i++) {
		const Vmstate__CpuidEntry *e = msg->cpuid[i];

		st->cpuid[i] = (struct kvm_cpuid_entry2){
			.function = e->function, .index = e->index, .flags = e->flags,
			.eax = e->eax, .ebx = e->ebx, .ecx = e->ecx, .edx = e->edx,
		};
	}
	st->tsc_khz = msg->tsc_khz;
	copy_bin(&st->sregs, &msg->sregs);
	copy_bin(&st->sregs2, &msg->sregs2);
	copy_bin(&st->regs, &msg->regs);
	copy_bin(&st->fpu, &msg->fpu);
	copy_bin(&st->xcrs, &msg->xcrs);
	copy_bin(&st->lapic, &msg->lapic);
	copy_bin(&st->events, &msg->events);
	copy_bin(&st->debugregs, &msg->debugregs);
	st->nmsrs = msg->n_msrs;
	for (i = 0; i < msg->n_msrs; i++)
		st->msrs[i] = (struct kvm_msr_entry){ .index = msg->msrs[i]->index,
						      .data = msg->msrs[i]->data };
	st->mp_state.mp_state = msg->mp_state;
	st->xsave_size = msg->xsave.len;
	copy_bin(st->xsave, &msg->xsave);
	st->nested_size = msg->nested_state.len;
	copy_bin(st->nested, &msg->nested_state);
}
int vcpu_state_decode(const void *buf, size_t len, struct vcpu_state *st, char *err,
		      size_t err_len)
{
	struct pb_arena arena;
	ProtobufCMessage *msg;
	int r;

	r = state_codec_unpack(&vmstate__vcpu_state__descriptor, buf, len, VCPU_STATE_MAX_ENCODED,
			       &arena, &msg, err, err_len);
	if (r < 0)
		return r;
	r = vcpu_msg_check((const Vmstate__VcpuState *)msg, err, err_len);
	if (r == 0)
		vcpu_msg_copy((const Vmstate__VcpuState *)msg, st);
	state_codec_release(msg, &arena);
	return r;
}
