/* SPDX-License-Identifier: GPL-2.0-only */
/* The KVM capabilities this project depends on, with what each one is for. */
#ifndef VMM_CAPS_H
#define VMM_CAPS_H

#include <stdbool.h>

#include "kvm.h"

struct kvm_cap_desc {
	long cap;
	const char *name; /* without KVM_CAP_ */
	const char *why;
	bool vm_level;	  /* ask the VM (the per-VM answer), not /dev/kvm */
};

extern const struct kvm_cap_desc kvm_cap_descs[];
extern const unsigned int kvm_nr_cap_descs;

#endif
