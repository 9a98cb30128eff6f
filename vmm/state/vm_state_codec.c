// SPDX-License-Identifier: GPL-2.0-only
/* struct vm_state <-> vcpu_state.proto's VmState, with bounded decoding. */
#include "state_codec_int.h"

struct vm_msg {
	Vmstate__VmState msg;
	ProtobufCBinaryData irqchip[VM_STATE_NR_IRQCHIPS];
};

static void vm_msg_build(const struct vm_state *st, struct vm_msg *m)
{
	unsigned int i;

	vmstate__vm_state__init(&m->msg);
	m->msg.version = VCPU_STATE_CODEC_VERSION;
	m->msg.parts = st->parts;
	if (st->parts & VM_PART_CLOCK)
		m->msg.clock = bin(&st->clock, sizeof(st->clock));
	if (st->parts & VM_PART_IRQCHIP) {
		for (i = 0; i < VM_STATE_NR_IRQCHIPS; i++)
			m->irqchip[i] = bin(&st->irqchip[i], sizeof(st->irqchip[i]));
		m->msg.n_irqchip = VM_STATE_NR_IRQCHIPS;
		m->msg.irqchip = m->irqchip;
	}
	if (st->parts & VM_PART_PIT)
		m->msg.pit = bin(&st->pit, sizeof(st->pit));
}

size_t vm_state_encoded_size(const struct vm_state *st)
{
	struct vm_msg m;

	vm_msg_build(st, &m);
	return vmstate__vm_state__get_packed_size(&m.msg);
}

ssize_t vm_state_encode(const struct vm_state *st, void *buf, size_t cap)
{
	struct vm_msg m;
	size_t len;

	vm_msg_build(st, &m);
	len = vmstate__vm_state__get_packed_size(&m.msg);
	if (len > cap || len > VM_STATE_MAX_ENCODED)
		return -EMSGSIZE;
	vmstate__vm_state__pack(&m.msg, buf);
	return (ssize_t)len;
}

static int vm_msg_check(const Vmstate__VmState *msg, char *err, size_t err_len)
{
	struct kvm_irqchip chip;
	size_t i;
	int r;

	if (msg->version != VCPU_STATE_CODEC_VERSION)
		return reject(err, err_len, "VM state version %u, this VMM reads %u",
			      msg->version, VCPU_STATE_CODEC_VERSION);
	if (msg->parts & ~(uint32_t)VM_PART_ALL)
		return reject(err, err_len, "unknown VM state parts %#x",
			      msg->parts & ~(uint32_t)VM_PART_ALL);
	r = check_bin(&msg->clock, msg->parts & VM_PART_CLOCK, sizeof(struct kvm_clock_data),
		      "clock", err, err_len);
	if (!r)
		r = check_bin(&msg->pit, msg->parts & VM_PART_PIT, sizeof(struct kvm_pit_state2),
			      "pit", err, err_len);
	if (r)
		return r;
	if (msg->n_irqchip != ((msg->parts & VM_PART_IRQCHIP) ? VM_STATE_NR_IRQCHIPS : 0))
		return reject(err, err_len, "%zu irqchips with parts %#x", msg->n_irqchip,
			      msg->parts);
	for (i = 0; i < msg->n_irqchip; i++) {
		r = check_bin(&msg->irqchip[i], true, sizeof(chip), "irqchip", err, err_len);
		if (r)
			return r;
		memcpy(&chip, msg->irqchip[i].data, sizeof(chip));
		if (chip.chip_id != i)
			return reject(err, err_len, "irqchip %zu has chip_id %u", i, chip.chip_id);
	}
	return 0;
}

int vm_state_decode(const void *buf, size_t len, struct vm_state *st, char *err,
		    size_t err_len)
{
	struct pb_arena arena;
	ProtobufCMessage *pmsg;
	const Vmstate__VmState *msg;
	size_t i;
	int r;

	r = state_codec_unpack(&vmstate__vm_state__descriptor, buf, len, VM_STATE_MAX_ENCODED,
			       &arena, &pmsg, err, err_len);
	if (r < 0)
		return r;
	msg = (const Vmstate__VmState *)pmsg;
	r = vm_msg_check(msg, err, err_len);
	if (r == 0) {
		memset(st, 0, sizeof(*st));
		st->parts = msg->parts;
		copy_bin(&st->clock, &msg->clock);
		for (i = 0; i < msg->n_irqchip; i++)
			copy_bin(&st->irqchip[i], &msg->irqchip[i]);
		copy_bin(&st->pit, &msg->pit);
	}
	state_codec_release(pmsg, &arena);
	return r;
}
