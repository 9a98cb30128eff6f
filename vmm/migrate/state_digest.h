/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The state digest of a migration (Switchover.state_digest, docs/protocol.md): XXH3-64 over
 * the VM_STATE and VCPU_STATE frames, each frame's 8-byte header and its body, in the order
 * sent. The source encodes its state before the Switchover to compute it; the destination
 * digests the frames as they arrive and checks it before it restores anything, so a state
 * damaged or altered on the way (a register, a CPUID entry, the clock) is refused.
 */
#ifndef VMM_MIGRATE_STATE_DIGEST_H
#define VMM_MIGRATE_STATE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "wire.h"

/* One frame into the digest (started with digest_init(), ended with digest_final()). */
void state_digest_frame(struct digest *d, enum wire_type type, const void *body, size_t len);

#endif
