/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A test-guest machine as both ends of a migration build it: the VM, its irqchip, its guest
 * memory (mapped, never touched here), its memory slots, its vCPUs and the port monitor.
 * The source boots the guest into it; the destination registers the memory with the pager
 * between machine_create() and machine_add_slots(), and restores state instead of booting.
 */
#ifndef VMM_MACHINE_H
#define VMM_MACHINE_H

#include <stdbool.h>

#include "guest.h"
#include "kvm.h"
#include "pager.h"

struct machine {
	struct guest_config cfg;
	bool irqchip;
	/*
	 * PAGER_BACKING_ANON (private anonymous), PAGER_BACKING_SHMEM (a memfd a region) or
	 * PAGER_BACKING_HUGETLB (private 2 MiB hugetlb pages).
	 */
	enum pager_backing backing;
	struct vm *vm;
	struct guest_region regions[GUEST_NR_REGIONS];
	uint8_t *mem[GUEST_NR_REGIONS];
	int memfd[GUEST_NR_REGIONS]; /* -1 for anonymous memory */
	struct vcpu *vcpus[GUEST_MAX_VCPUS];
	struct guest_monitor monitor;
};

/*
 * VM (+ irqchip and PIT) and guest memory, untouched: private anonymous, a memfd mapped
 * shared per region (backing PAGER_BACKING_SHMEM), or private hugetlb (PAGER_BACKING_HUGETLB:
 * the pool must hold it, -ENOMEM otherwise); -EOPNOTSUPP for any other.
 */
int machine_create(const struct guest_config *cfg, bool irqchip, enum pager_backing backing,
		   struct machine **out);
/* The guest memory as the pager's layout: region i is memory slot i. */
void machine_layout(const struct machine *m, struct pager_layout *layout);
int machine_add_slots(struct machine *m);
/* Creates the vCPUs and attaches the port monitor. */
int machine_add_vcpus(struct machine *m);
/* Source only: writes the boot area and sets every vCPU at the guest's CPL3 entry. */
int machine_boot(struct machine *m);
/*
 * Source only: what a guest OS does at boot to use kvmclock and steal time, done by the VMM
 * since the test guests run at CPL3 (no WRMSR): points the paravirt MSRs at pages of the boot
 * area (MACHINE_*_GPA). After machine_boot().
 */
#define MACHINE_SYSTEM_TIME_GPA 0xc000 /* 32 bytes a vCPU */
#define MACHINE_WALL_CLOCK_GPA 0xd000
#define MACHINE_STEAL_TIME_GPA 0xe000  /* 64 bytes a vCPU */
int machine_enable_kvmclock(struct machine *m);
/* Stops (if running) and joins the vCPU threads; returns the first vCPU error. */
int machine_stop(struct machine *m);
void machine_destroy(struct machine *m);
/* The digest of every page of guest memory, in layout order (common/digest.h); 0 on error. */
uint64_t machine_memory_digest(const struct machine *m);

/*
 * Checks the guest's own answer after it ran (the incrementer after machine_stop()):
 * 0, or -EINVAL with the reason in why.
 */
int machine_check_guest(struct machine *m, char *why, size_t why_len);

#endif
