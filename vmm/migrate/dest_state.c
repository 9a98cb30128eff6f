// SPDX-License-Identifier: GPL-2.0-only
/*
 * The destination's STATE step: the VM state and one vCPU state per vCPU. The frames are kept
 * whole as they come and digested; only once their digest is the one the source put in its
 * Switchover are they decoded (bounded, every field checked). A bit flipped on the way, in a
 * register, a CPUID entry, an MSR or the clock, is refused before anything is restored.
 */
#include "dest.h"
#include "log.h"
#include "state_codec.h"
#include "state_digest.h"
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct state_frames {
	void *body[1 + GUEST_MAX_VCPUS]; /* the VM's, then one per vCPU in id order */
	size_t len[1 + GUEST_MAX_VCPUS];
	unsigned int n;
};

static enum wire_type frame_type(unsigned int index)
{
	return index ? WIRE_VCPU_STATE : WIRE_VM_STATE;
}

/* The next state frame, kept and digested; a refusal names what was expected and why. */
static int recv_one(struct dest_session *s, struct state_frames *f, struct digest *d)
{
	enum wire_type want = frame_type(f->n);
	const char *what = f->n ? "a vCPU state" : "the VM state";
	unsigned int type;
	size_t len;
	int ret;

	ret = dest_recv_frame(s, MIG_HANDSHAKE_TIMEOUT_MS, what, &type, &len);
	if (ret)
		return ret;
	if (type != want)
		return dest_refuse(s, WIRE__ERROR_CODE__ERROR_PROTOCOL, -EPROTO,
				   "expected %s, got a %s message", what, wire_type_name(type));
	f->body[f->n] = malloc(len ? len : 1);
	if (!f->body[f->n])
		return dest_fail(s, MIG_EXIT_MIGRATION, -ENOMEM, "out of memory for the state");
	memcpy(f->body[f->n], s->rx_buf, len);
	f->len[f->n++] = len;
	state_digest_frame(d, want, s->rx_buf, len);
	s->state_bytes += len;
	return 0;
}

static int recv_all(struct dest_session *s, struct state_frames *f)
{
	struct digest d;
	int ret = 0;

	if (digest_init(&d))
		return dest_fail(s, MIG_EXIT_MIGRATION, -ENOMEM, "out of memory for the state");
	while (!ret && f->n < 1 + s->guest.nr_vcpus)
		ret = recv_one(s, f, &d);
	s->state_digest = digest_final(&d);
	if (ret)
		return ret;
	s->state_digest_match = s->state_digest == s->source_state_digest;
	if (!s->state_digest_match)
		return dest_refuse(s, WIRE__ERROR_CODE__ERROR_PROTOCOL, -EBADMSG,
				   "the VM and vCPU state received differ from the source's (state "
				   "digest %016" PRIx64 ", the source's switch-over says %016" PRIx64
				   "): refused before restoring anything", s->state_digest,
				   s->source_state_digest);
	return 0;
}

static int decode_all(struct dest_session *s, const struct state_frames *f)
{
	char err[256];
	unsigned int i;
	int ret;

	ret = vm_state_decode(f->body[0], f->len[0], &s->vm_state, err, sizeof(err));
	if (ret)
		return dest_refuse(s, WIRE__ERROR_CODE__ERROR_PROTOCOL, ret, "VM state refused: %s",
				   err);
	for (i = 0; i < s->guest.nr_vcpus; i++) {
		s->vcpu_states[i] = vcpu_state_alloc();
		if (!s->vcpu_states[i])
			return dest_fail(s, MIG_EXIT_MIGRATION, -ENOMEM, "out of memory for vCPU state");
		ret = vcpu_state_decode(f->body[1 + i], f->len[1 + i], s->vcpu_states[i], err,
					sizeof(err));
		if (!ret && s->vcpu_states[i]->vcpu_id != i) {
			snprintf(err, sizeof(err), "it is for vCPU %u", s->vcpu_states[i]->vcpu_id);
			ret = -EPROTO;
		}
		if (ret)
			return dest_refuse(s, WIRE__ERROR_CODE__ERROR_PROTOCOL, ret,
					   "state of vCPU %u refused: %s", i, err);
	}
	return 0;
}

int dest_recv_state(struct dest_session *s)
{
	struct state_frames *f = calloc(1, sizeof(*f));
	unsigned int i;
	int ret;

	if (!f)
		return dest_fail(s, MIG_EXIT_MIGRATION, -ENOMEM, "out of memory for the state");
	s->state_bytes = 0;
	ret = recv_all(s, f);
	if (!ret)
		ret = decode_all(s, f);
	for (i = 0; i < f->n; i++)
		free(f->body[i]);
	free(f);
	if (!ret)
		pr_info("incoming %s on %u vCPUs, %zu bytes of state, state digest %016" PRIx64
			" as the source's", guest_image(s->guest.program)->name, s->guest.nr_vcpus,
			s->state_bytes, s->state_digest);
	return ret;
}
