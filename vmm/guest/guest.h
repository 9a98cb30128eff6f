/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The test guests, host side: their images, how to boot them at CPL3 (guest_boot.c), the
 * port monitor that collects what they report (guest_monitor.c) and the checks of their
 * answers (guest_check.c). The layout and the port protocol are in guest_abi.h.
 *
 * Booting a guest:
 *   guest_regions(cfg, r)      the two ranges the caller maps and adds as memory slots
 *   guest_boot_write(vm, cfg)  page tables, GDT, TSS and code into the boot area
 *   guest_vcpu_boot(vcpu, cfg) CPUID, then sregs/regs for the CPL3 entry (no memory touched)
 * A migration destination does only the last one's CPUID part: its memory and registers
 * come from the source.
 */
#ifndef VMM_GUEST_H
#define VMM_GUEST_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "guest_abi.h"
#include "kvm.h"

enum guest_program {
	GUEST_INCREMENTER,
	GUEST_PATTERN,
	GUEST_TOUCHER,
	GUEST_WALLCLOCK, /* reads kvmclock's wall clock at the GPA in count (guest_abi.h) */
	GUEST_NESTED,	 /* an SVM hypervisor at CPL0 running its own guest (guest_abi.h) */
	GUEST_NR_PROGRAMS,
};

struct guest_image {
	const char *name;
	const uint8_t *start;
	const uint8_t *end;
};

static inline size_t guest_image_size(const struct guest_image *image)
{
	return (size_t)(image->end - image->start);
}

const struct guest_image *guest_image(enum guest_program program);
/* By name ("incrementer", "pattern", "toucher", "wallclock", "nested"); NULL if unknown. */
const struct guest_image *guest_image_by_name(const char *name);

struct guest_config {
	enum guest_program program;
	unsigned int nr_vcpus;
	uint64_t work_size; /* bytes of the workload slot, split evenly between the vCPUs */
	uint64_t seed;
	uint64_t count;	    /* incrementer: passes (0: forever); toucher: iterations;
			     * wallclock: GPA of the wall clock it reads; nested: steps */
};

struct guest_slice {
	gpa_t gpa;
	uint64_t size;
};

#define GUEST_SLOT_BOOT 0
#define GUEST_SLOT_WORK 1
#define GUEST_NR_REGIONS 2
struct guest_region {
	uint32_t slot;
	gpa_t gpa;
	uint64_t size;
};

/* -EINVAL (logged) if the configuration does not fit the layout. */
int guest_config_check(const struct guest_config *cfg);
/* The same without logging, the reason in err: for a decoder of what a peer sent. */
int guest_config_valid(const struct guest_config *cfg, char *err, size_t err_len);
void guest_regions(const struct guest_config *cfg, struct guest_region regions[GUEST_NR_REGIONS]);
struct guest_slice guest_slice(const struct guest_config *cfg, unsigned int index);

/* Writes the boot area through vm_gpa_write(): the one place a guest's memory is set up. */
int guest_boot_write(struct vm *vm, const struct guest_config *cfg);
/* vcpu_init_cpuid(), then long mode at CPL3 at the guest entry with this vCPU's arguments. */
int guest_vcpu_boot(struct vcpu *vcpu, const struct guest_config *cfg);

/* ---- guest_monitor.c: the port protocol, one report per vCPU ---- */

struct guest_report {
	_Atomic uint64_t progress; /* last GUEST_PORT_PROGRESS value */
	uint64_t progress_reports;
	uint32_t result_lo;
	uint64_t result;
	bool has_result;
	atomic_bool done; /* set last, after the result and status */
	uint32_t status;
	/* Stop this vCPU (VM_IO_STOP) once progress reaches it; 0: never. */
	uint64_t stop_at_progress;
};

struct guest_monitor {
	unsigned int nr_vcpus;
	struct guest_report vcpu[GUEST_MAX_VCPUS];
	/* Called on each progress report on the vCPU's thread; may return VM_IO_STOP. */
	int (*on_progress)(struct vcpu *vcpu, uint64_t progress, void *opaque);
	void *opaque;
};

/* Registers the guest ports; a vCPU stops (VCPU_STOP_HANDLER) when it reports DONE. */
int guest_monitor_attach(struct vm *vm, struct guest_monitor *mon, unsigned int nr_vcpus);

/* ---- guest_check.c: what each guest must have produced ---- */

/*
 * Incrementer: the first bytes of the slice's pages must read v+1 for pages [0, edge) and v
 * for [edge, n) (mod 256): one edge where the guest stopped. 0 with *low = v, *edge set, or
 * -EINVAL with the first offending page logged. If passes is not negative, v must also be
 * passes mod 256 (the guest stopped after that many whole passes, plus the partial one).
 */
int guest_incrementer_check(const void *slice, uint64_t size, int64_t passes, uint8_t *low,
			    uint64_t *edge);
/* Pattern: the result the guest must report for this slice. */
uint64_t guest_pattern_expected(uint64_t seed, gpa_t gpa, uint64_t size);
/*
 * Toucher: replays the guest's steps on mem, a host copy of the slice as it was at the start
 * (zeros for a fresh guest). Returns the result the guest must report; mem ends as the
 * slice must end.
 */
uint64_t guest_toucher_simulate(uint64_t seed, unsigned int index, void *mem, uint64_t size,
				uint64_t count);
/*
 * Nested: replays the nested guest's count steps on mem, a zeroed host copy of its data (the
 * slice without GUEST_NESTED_AREA), and returns the result its hypervisor must report.
 */
uint64_t guest_nested_simulate(uint64_t seed, void *mem, uint64_t size, uint64_t count);
/* The hypervisor's status, in words ("ok", "this CPU has no SVM", ...). */
const char *guest_nested_status(uint32_t status);

#endif
