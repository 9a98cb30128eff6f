// SPDX-License-Identifier: GPL-2.0-only
/* The host end of the guests' port protocol (guest_abi.h): one report per vCPU. */
#include "guest.h"

#include <errno.h>
#include <string.h>

#include "log.h"

static int guest_monitor_io(struct vcpu *vcpu, uint64_t port, void *data, uint32_t len,
			    bool is_write, void *opaque)
{
	struct guest_monitor *mon = opaque;
	struct guest_report *rep;
	uint32_t value;

	if (vcpu->id >= mon->nr_vcpus || !is_write || len != 4) {
		pr_err("vcpu %u: guest port %#lx: expected a 32-bit OUT from vCPUs 0..%u",
		       vcpu->id, (unsigned long)port, mon->nr_vcpus - 1);
		return -EPROTO;
	}
	rep = &mon->vcpu[vcpu->id];
	memcpy(&value, data, 4);

	switch (port) {
	case GUEST_PORT_PROGRESS:
		atomic_store(&rep->progress, value);
		rep->progress_reports++;
		if (rep->stop_at_progress && value >= rep->stop_at_progress)
			return VM_IO_STOP;
		return mon->on_progress ? mon->on_progress(vcpu, value, mon->opaque) : 0;
	case GUEST_PORT_RESULT_LO:
		rep->result_lo = value;
		return VM_IO_CONTINUE;
	case GUEST_PORT_RESULT_HI:
		rep->result = (uint64_t)value << 32 | rep->result_lo;
		rep->has_result = true;
		return VM_IO_CONTINUE;
	case GUEST_PORT_DONE:
		rep->status = value;
		/* Last: another thread polling done may then read the rest. */
		atomic_store(&rep->done, true);
		return VM_IO_STOP;
	default:
		pr_err("vcpu %u: OUT to unknown guest port %#lx", vcpu->id, (unsigned long)port);
		return -EPROTO;
	}
}

int guest_monitor_attach(struct vm *vm, struct guest_monitor *mon, unsigned int nr_vcpus)
{
	if (!nr_vcpus || nr_vcpus > GUEST_MAX_VCPUS)
		return -EINVAL;
	mon->nr_vcpus = nr_vcpus;
	return vm_io_register(vm, false, GUEST_PORT_BASE, GUEST_PORT_COUNT, guest_monitor_io,
			      mon);
}
