/* SPDX-License-Identifier: GPL-2.0-only */
/* The KVM capabilities this project depends on, with what each one is for. */
#ifndef VMM_CAPS_H
#define VMM_CAPS_H

#include <stdbool.h>
#include <stdio.h>

#include "kvm.h"

struct kvm_cap_desc {
	long cap;
	const char *name; /* without KVM_CAP_ */
	const char *why;
	bool vm_level;	  /* ask the VM (the per-VM answer), not /dev/kvm */
};

extern const struct kvm_cap_desc kvm_cap_descs[];
extern const unsigned int kvm_nr_cap_descs;

/*
 * Probes this host (a throw-away VM and vCPU) and prints the API version, each capability's
 * value and the MSR and CPUID counts: a table, or one JSON line. 0 or -errno.
 */
int kvm_caps_report(FILE *out, bool json);

#endif
