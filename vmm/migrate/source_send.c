// SPDX-License-Identifier: GPL-2.0-only
/* What the source sends before it serves pages: the handshake and config, then the state. */
#include "source.h"
#include "state_codec.h"
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

static int send_switchover(struct source_run *run)
{
	return pager_source_switchover(run->src, run->fds[0], run->digest,
				       MIG_HANDSHAKE_TIMEOUT_MS);
}

static int send_vm_state(struct source_run *run, void *buf, size_t cap)
{
	struct vm_state vm_st;
	ssize_t len;
	int ret;

	ret = vm_state_save(run->m->vm, &vm_st);
	if (ret)
		return ret;
	len = vm_state_encode(&vm_st, buf, cap);
	if (len < 0)
		return (int)len;
	run->state_bytes += (size_t)len;
	return wire_send_raw(run->fds[0], WIRE_VM_STATE, buf, (size_t)len, MIG_HANDSHAKE_TIMEOUT_MS);
}

static int send_vcpu_state(struct source_run *run, unsigned int index, struct vcpu_state *st,
			   void *buf, size_t cap)
{
	ssize_t len;
	int ret;

	ret = vcpu_state_save(run->m->vcpus[index], st);
	if (ret)
		return ret;
	len = vcpu_state_encode(st, buf, cap);
	if (len < 0)
		return (int)len;
	run->state_bytes += (size_t)len;
	return wire_send_raw(run->fds[0], WIRE_VCPU_STATE, buf, (size_t)len,
			     MIG_HANDSHAKE_TIMEOUT_MS);
}

int mig_source_send_state(struct source_run *run)
{
	size_t cap = VCPU_STATE_MAX_ENCODED;
	struct vcpu_state *st;
	unsigned int i;
	void *buf;
	int ret;

	ret = send_switchover(run);
	if (ret)
		return ret;
	buf = malloc(cap);
	st = vcpu_state_alloc();
	if (!buf || !st) {
		ret = -ENOMEM;
		goto out;
	}
	ret = send_vm_state(run, buf, cap);
	for (i = 0; !ret && i < run->m->cfg.nr_vcpus; i++)
		ret = send_vcpu_state(run, i, st, buf, cap);
out:
	vcpu_state_free(st);
	free(buf);
	return ret;
}
