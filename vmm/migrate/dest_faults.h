/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The restore's faults, page by page: every fault the listener reads while the restoring
 * thread is inside a restore ioctl, or while a vCPU thread is inside its first KVM_RUN (where
 * KVM maps what it deferred from the restore, e.g. the nested state's pages), recorded with
 * that ioctl, the page, and what the vCPU state says lives there (vcpu_state_guest_pages()).
 *
 * The listener thread writes (the pager's on_fault observer); the restoring thread says which
 * ioctl runs (restore_faults_enter/leave); the report reads once the guest stopped. Faults past
 * those two windows are only the pager's to count.
 */
#ifndef VMM_MIGRATE_DEST_FAULTS_H
#define VMM_MIGRATE_DEST_FAULTS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "guest.h"
#include "json.h"
#include "kvm.h"
#include "pager.h"
#include "vcpu_state.h"

/*
 * Faults on pages the state points at are always logged (up to RESTORE_FAULTS_MAX); the first
 * run's other faults (the guest's own code, stack, data) only up to RESTORE_FAULTS_OTHER_MAX,
 * so they can never crowd out the ones that matter. The rest are counted.
 */
#define RESTORE_FAULTS_MAX 1024
#define RESTORE_FAULTS_OTHER_MAX 128
#define RESTORE_FAULTS_FIRST_RUN "KVM_RUN (first)"

struct restore_fault {
	uint64_t gpa;
	pid_t tid;
	int vcpu;	    /* the vCPU restored or run; -1: a VM-level ioctl */
	const char *during; /* the restore ioctl, or RESTORE_FAULTS_FIRST_RUN */
	const char *what;   /* what the vCPU's state says the page is; NULL: nothing */
	uint64_t at_ns;	    /* since the listener started */
};

struct restore_faults {
	const struct pager_layout *layout;
	uint64_t start_ns;
	/* Set by the restoring thread before the first step; read by the listener. */
	_Atomic pid_t restore_tid;
	_Atomic(const char *) current_ioctl; /* NULL between steps */
	_Atomic int current_vcpu;
	_Atomic uint32_t current_faults; /* of the step running now */
	/* The vCPUs, published once they all exist (nr_vcpus stored last, with release). */
	struct vcpu *vcpus[GUEST_MAX_VCPUS];
	_Atomic unsigned int nr_vcpus;
	/* What each vCPU's state points at, filled before the listener starts. */
	struct vcpu_state_page pages[GUEST_MAX_VCPUS][VCPU_STATE_MAX_PAGES];
	unsigned int n_pages[GUEST_MAX_VCPUS];
	unsigned int n_states;
	struct {
		uint16_t format, flags; /* of kvm_nested_state */
		uint32_t size;		/* 0: the state has none */
	} nested[GUEST_MAX_VCPUS];
	/* The listener's: the log, published by n (release), and the counts past it. */
	struct restore_fault log[RESTORE_FAULTS_MAX];
	_Atomic unsigned int n;
	unsigned int n_other;	/* logged faults on no page of the state */
	bool first_runs_over;	/* every vCPU left its first KVM_RUN: nothing more to log */
	_Atomic uint64_t first_run[GUEST_MAX_VCPUS];
	_Atomic uint64_t not_logged;
};

/* Before the listener starts: the layout (for addresses) and each vCPU's decoded state. */
void restore_faults_init(struct restore_faults *rf, const struct pager_layout *layout,
			 struct vcpu_state *const *states, unsigned int n_states);
/* The pager's on_fault observer (opaque: the struct restore_faults). */
void restore_faults_on_fault(void *opaque, uint32_t region, uint64_t page, pid_t tid);
/* The restoring thread, around each step: leave returns the step's faults. */
void restore_faults_enter(struct restore_faults *rf, const char *ioctl, int vcpu);
uint32_t restore_faults_leave(struct restore_faults *rf);
/* Once every vCPU exists, before any runs. */
void restore_faults_set_vcpus(struct restore_faults *rf, struct vcpu *const *vcpus,
			      unsigned int n);

/* What the vCPU states say the page holding gpa is (any vCPU's), or NULL. */
const char *restore_faults_page_what(const struct restore_faults *rf, uint64_t gpa);

/* The JSON members: restore_fault_pages, first_run_faults, state_pages. */
void restore_faults_write_json(const struct restore_faults *rf, struct json *j);
/* The table, for a person: one line a fault. */
void restore_faults_write_table(const struct restore_faults *rf, FILE *out);

#endif
