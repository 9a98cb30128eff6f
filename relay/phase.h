/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where a migration is, learned from the frames that pass on a connection pair (both
 * connections, both directions): the phases of spec.h, each at most once, and which end is
 * the source.
 */
#ifndef RELAY_PHASE_H
#define RELAY_PHASE_H

#include <stdbool.h>
#include <stdint.h>

#include "frame_tracker.h"
#include "spec.h"

struct relay_phases {
	bool seen[PHASE_END];
	uint64_t at_ns[PHASE_END];
	uint32_t nr_vcpus;     /* from VM_CONFIG; 0: unknown */
	uint32_t vcpu_states;  /* VCPU_STATE frames so far */
	uint64_t push_pages;   /* pages in PAGE frames on the push channel so far */
	uint32_t page_size;    /* from the Hello */
};

/*
 * What one frame does to the phases: the phase that begins before it passes and the one
 * that begins once it has (PHASE_NONE: none), and the pushed pages before and after it
 * (mid-push is per rule: each names its own count).
 */
struct phase_step {
	enum relay_phase before, after;
	uint64_t push_pages_before, push_pages_after;
};

void relay_phases_init(struct relay_phases *ph);
/* channel: RELAY_CH_*; the step for this frame, with the phases it begins marked seen. */
void relay_phases_frame(struct relay_phases *ph, unsigned int channel,
			const struct relay_frame *frame, uint64_t now_ns, struct phase_step *step);

/*
 * Which end sent this frame, from its type alone: 1 the source (layout, pages, VM state...),
 * -1 the destination (page requests), 0 either (hello, complete, error, raw bytes).
 */
int relay_sender_role(const struct relay_frame *frame);

#endif
