// SPDX-License-Identifier: GPL-2.0-only
#include "phase.h"

void relay_phases_init(struct relay_phases *ph)
{
	*ph = (struct relay_phases){ .page_size = 4096 };
}

int relay_sender_role(const struct relay_frame *f)
{
	switch (f->type) {
	case WIRE_LAYOUT:
	case WIRE_PAGE:
	case WIRE_PUSH_DONE:
	case WIRE_VM_CONFIG:
	case WIRE_VM_STATE:
	case WIRE_VCPU_STATE:
	case WIRE_DISCARD:
	case WIRE_SWITCHOVER:
		return 1;
	case WIRE_PAGE_REQUEST:
		return -1;
	default:
		return 0;
	}
}

/* The phase this frame's type begins, before it passes. */
static enum relay_phase begins_before(const struct relay_phases *ph, const struct relay_frame *f)
{
	switch (f->type) {
	case WIRE_HELLO: return PHASE_HANDSHAKE;
	case WIRE_VM_CONFIG: return PHASE_CONFIG;
	case WIRE_SWITCHOVER: return PHASE_SWITCHOVER;
	case WIRE_VM_STATE: return PHASE_STATE;
	case WIRE_PAGE_REQUEST: return PHASE_FIRST_FAULT;
	/* The source answers the destination's Complete: the first one is the destination's. */
	case WIRE_COMPLETE: return PHASE_COMPLETION;
	case WIRE_VCPU_STATE: return PHASE_NONE;
	default:
		/*
		 * Without a vCPU count (a VM_CONFIG that did not say), the restore begins with
		 * whatever follows the vCPU states.
		 */
		return ph->vcpu_states && !ph->nr_vcpus ? PHASE_RESTORE : PHASE_NONE;
	}
}

static enum relay_phase mark(struct relay_phases *ph, enum relay_phase phase, uint64_t now_ns)
{
	if (phase == PHASE_NONE || ph->seen[phase])
		return PHASE_NONE;
	ph->seen[phase] = true;
	ph->at_ns[phase] = now_ns;
	return phase;
}

void relay_phases_frame(struct relay_phases *ph, unsigned int channel,
			const struct relay_frame *f, uint64_t now_ns, struct phase_step *step)
{
	*step = (struct phase_step){ .push_pages_before = ph->push_pages };
	step->before = mark(ph, begins_before(ph, f), now_ns);
	if (f->type == WIRE_HELLO && f->page_size)
		ph->page_size = f->page_size;
	if (f->type == WIRE_VM_CONFIG)
		ph->nr_vcpus = f->nr_vcpus;
	if (f->type == WIRE_VCPU_STATE && ++ph->vcpu_states == ph->nr_vcpus)
		step->after = mark(ph, PHASE_RESTORE, now_ns);
	if (f->type == WIRE_PAGE && channel == RELAY_CH_PUSH)
		ph->push_pages += ((uint64_t)f->length + ph->page_size - 1) / ph->page_size;
	step->push_pages_after = ph->push_pages;
}
