// SPDX-License-Identifier: GPL-2.0-only
/* What the source sends before it serves pages: the handshake and config, then the state. */
#include "source.h"
#include "state_codec.h"
#include "state_digest.h"
#include "vcpu_state.h"
#include "vm_config.h"
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mig_source_handshake(int *demand_fd, int *push_fd, struct pager_handshake *hs,
			 const struct pager_layout *layout, const Mig__VmConfig *config, char *err,
			 size_t err_len)
{
	int ret;

	snprintf(err, err_len, "no error");
	hs->timeout_ms = MIG_HANDSHAKE_TIMEOUT_MS;
	ret = pager_handshake_source(demand_fd, push_fd, true, hs, layout, err, err_len);
	if (ret)
		return ret;
	/* What the destination needs to build the VM (and register its memory) before any page. */
	ret = mig_vm_config_send(*demand_fd, config, MIG_HANDSHAKE_TIMEOUT_MS);
	if (ret)
		snprintf(err, err_len, "sending the VM config: %s", strerror(-ret));
	return ret;
}

/*
 * The state frames, encoded before the Switchover (whose state digest covers them): the VM's,
 * then one per vCPU in id order.
 */
struct encoded_state {
	void *body[1 + GUEST_MAX_VCPUS];
	size_t len[1 + GUEST_MAX_VCPUS];
	unsigned int n;
};

static enum wire_type state_frame_type(unsigned int index)
{
	return index ? WIRE_VCPU_STATE : WIRE_VM_STATE;
}

static int keep(struct encoded_state *es, const void *buf, ssize_t len)
{
	if (len < 0)
		return (int)len;
	es->body[es->n] = malloc((size_t)len);
	if (!es->body[es->n])
		return -ENOMEM;
	memcpy(es->body[es->n], buf, (size_t)len);
	es->len[es->n++] = (size_t)len;
	return 0;
}

static int encode_states(struct source_run *run, struct encoded_state *es)
{
	size_t cap = VCPU_STATE_MAX_ENCODED;
	struct vcpu_state *st = vcpu_state_alloc();
	void *buf = malloc(cap);
	struct vm_state vm_st;
	unsigned int i;
	int ret = -ENOMEM;

	if (!buf || !st)
		goto out;
	ret = vm_state_save(run->m->vm, &vm_st);
	if (!ret)
		ret = keep(es, buf, vm_state_encode(&vm_st, buf, cap));
	for (i = 0; !ret && i < run->m->cfg.nr_vcpus; i++) {
		ret = vcpu_state_save(run->m->vcpus[i], st);
		if (!ret)
			ret = keep(es, buf, vcpu_state_encode(st, buf, cap));
	}
out:
	vcpu_state_free(st);
	free(buf);
	return ret;
}

static int digest_states(const struct encoded_state *es, uint64_t *out)
{
	struct digest d;
	unsigned int i;

	if (digest_init(&d))
		return -ENOMEM;
	for (i = 0; i < es->n; i++)
		state_digest_frame(&d, state_frame_type(i), es->body[i], es->len[i]);
	*out = digest_final(&d);
	return 0;
}

int mig_source_send_state(struct source_run *run)
{
	struct encoded_state es = { .n = 0 };
	unsigned int i;
	int ret;

	ret = encode_states(run, &es);
	if (!ret)
		ret = digest_states(&es, &run->state_digest);
	if (!ret)
		ret = pager_source_switchover(run->src, run->fds[0], run->digest, run->state_digest,
					      MIG_HANDSHAKE_TIMEOUT_MS);
	for (i = 0; !ret && i < es.n; i++) {
		ret = wire_send_raw(run->fds[0], state_frame_type(i), es.body[i], es.len[i],
				    MIG_HANDSHAKE_TIMEOUT_MS);
		run->state_bytes += es.len[i];
	}
	for (i = 0; i < es.n; i++)
		free(es.body[i]);
	return ret;
}
