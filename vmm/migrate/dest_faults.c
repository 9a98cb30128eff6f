// SPDX-License-Identifier: GPL-2.0-only
/* The restore's faults, page by page (dest_faults.h). */
#include "dest_faults.h"
#include "clock.h"

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

void restore_faults_init(struct restore_faults *rf, const struct pager_layout *layout,
			 struct vcpu_state *const *states, unsigned int n_states)
{
	unsigned int i, n;

	rf->layout = layout;
	rf->start_ns = clock_now_ns();
	rf->n_states = n_states;
	for (i = 0; i < n_states; i++) {
		n = vcpu_state_guest_pages(states[i], rf->pages[i], VCPU_STATE_MAX_PAGES);
		rf->n_pages[i] = n < VCPU_STATE_MAX_PAGES ? n : VCPU_STATE_MAX_PAGES;
		if (states[i]->parts & VCPU_PART_NESTED) {
			const struct kvm_nested_state *ns = (const void *)states[i]->nested;

			rf->nested[i].format = ns->format;
			rf->nested[i].flags = ns->flags;
			rf->nested[i].size = states[i]->nested_size;
		}
	}
}

void restore_faults_set_vcpus(struct restore_faults *rf, struct vcpu *const *vcpus,
			      unsigned int n)
{
	memcpy(rf->vcpus, vcpus, n * sizeof(vcpus[0]));
	atomic_store_explicit(&rf->nr_vcpus, n, memory_order_release);
}

void restore_faults_enter(struct restore_faults *rf, const char *ioctl, int vcpu)
{
	if (!atomic_load(&rf->restore_tid))
		atomic_store(&rf->restore_tid, gettid());
	atomic_store(&rf->current_faults, 0);
	atomic_store(&rf->current_vcpu, vcpu);
	atomic_store(&rf->current_ioctl, ioctl);
}

uint32_t restore_faults_leave(struct restore_faults *rf)
{
	atomic_store(&rf->current_ioctl, NULL);
	return atomic_load(&rf->current_faults);
}

/*
 * The vCPU whose first KVM_RUN this thread is in, or -1. On the listener thread only: once
 * every vCPU has left its first run it says so and is never asked to scan again.
 */
static int first_run_of(struct restore_faults *rf, pid_t tid)
{
	unsigned int i, n = atomic_load_explicit(&rf->nr_vcpus, memory_order_acquire);
	bool all_done = n > 0;
	int found = -1;

	if (rf->first_runs_over)
		return -1;
	for (i = 0; i < n; i++) {
		bool done = atomic_load_explicit(&rf->vcpus[i]->first_run_done, memory_order_acquire);

		all_done &= done;
		if (!done && found < 0 && atomic_load(&rf->vcpus[i]->run_tid) == tid)
			found = (int)i;
	}
	rf->first_runs_over = all_done;
	return found;
}

static const char *page_what(const struct restore_faults *rf, int vcpu, uint64_t gpa)
{
	const char *what = NULL;
	unsigned int i;

	/* The vCPU's own state first: two vCPUs' areas never share a page in practice. */
	if (vcpu >= 0 && (unsigned int)vcpu < rf->n_states)
		what = vcpu_state_page_of(rf->pages[vcpu], rf->n_pages[vcpu], gpa);
	for (i = 0; !what && i < rf->n_states; i++)
		what = vcpu_state_page_of(rf->pages[i], rf->n_pages[i], gpa);
	return what;
}

const char *restore_faults_page_what(const struct restore_faults *rf, uint64_t gpa)
{
	return page_what(rf, -1, gpa);
}

void restore_faults_on_fault(void *opaque, uint32_t region, uint64_t page, pid_t tid)
{
	struct restore_faults *rf = opaque;
	const char *during = NULL, *what;
	unsigned int n;
	uint64_t gpa;
	int vcpu = -1;

	if (tid == atomic_load(&rf->restore_tid)) {
		during = atomic_load(&rf->current_ioctl);
		vcpu = atomic_load(&rf->current_vcpu);
		if (during)
			atomic_fetch_add(&rf->current_faults, 1);
	}
	if (!during) {
		vcpu = first_run_of(rf, tid);
		if (vcpu < 0)
			return;
		during = RESTORE_FAULTS_FIRST_RUN;
		atomic_fetch_add(&rf->first_run[vcpu], 1);
	}
	/* Only this thread writes the log: the slot is filled, then published. */
	n = atomic_load_explicit(&rf->n, memory_order_relaxed);
	if (region >= rf->layout->n_regions) {
		atomic_fetch_add(&rf->not_logged, 1);
		return;
	}
	gpa = rf->layout->regions[region].gpa + page * GUEST_PAGE_SIZE;
	what = page_what(rf, vcpu, gpa);
	if (n == RESTORE_FAULTS_MAX || (!what && rf->n_other == RESTORE_FAULTS_OTHER_MAX)) {
		atomic_fetch_add(&rf->not_logged, 1);
		return;
	}
	rf->n_other += !what;
	rf->log[n] = (struct restore_fault){
		.gpa = gpa,
		.tid = tid,
		.vcpu = vcpu,
		.during = during,
		.what = what,
		.at_ns = clock_now_ns() - rf->start_ns,
	};
	atomic_store_explicit(&rf->n, n + 1, memory_order_release);
}

static void write_gpa(struct json *j, const char *key, uint64_t gpa)
{
	char hex[24];

	snprintf(hex, sizeof(hex), "0x%" PRIx64, gpa);
	json_kv_str(j, key, hex);
}

static const char *nested_format_name(uint16_t format)
{
	return format == KVM_STATE_NESTED_FORMAT_SVM ? "svm" :
	       format == KVM_STATE_NESTED_FORMAT_VMX ? "vmx" : "unknown";
}

void restore_faults_write_json(const struct restore_faults *rf, struct json *j)
{
	unsigned int i, k, n = atomic_load_explicit(&rf->n, memory_order_acquire);
	pid_t restore_tid = atomic_load(&rf->restore_tid);

	json_key(j, "restore_fault_pages");
	json_array_begin(j);
	for (i = 0; i < n; i++) {
		const struct restore_fault *f = &rf->log[i];

		json_object_begin(j);
		json_kv_str(j, "during", f->during);
		json_kv_i64(j, "vcpu", f->vcpu);
		json_kv_str(j, "thread", f->tid == restore_tid ? "restore" : "vcpu");
		write_gpa(j, "gpa", f->gpa);
		json_kv_str(j, "what", f->what);
		json_kv_double(j, "at_ms", (double)f->at_ns / 1e6, 3);
		json_object_end(j);
	}
	json_array_end(j);
	json_kv_u64(j, "restore_fault_pages_not_logged", atomic_load(&rf->not_logged));
	json_key(j, "first_run_faults");
	json_array_begin(j);
	for (i = 0; i < rf->n_states; i++)
		json_u64(j, atomic_load(&rf->first_run[i]));
	json_array_end(j);
	json_key(j, "state_pages");
	json_array_begin(j);
	for (i = 0; i < rf->n_states; i++) {
		json_object_begin(j);
		json_kv_u64(j, "vcpu", i);
		json_key(j, "nested");
		if (rf->nested[i].size) {
			json_object_begin(j);
			json_kv_str(j, "format", nested_format_name(rf->nested[i].format));
			json_kv_u64(j, "size", rf->nested[i].size);
			json_kv_u64(j, "flags", rf->nested[i].flags);
			json_kv_bool(j, "guest_mode",
				     rf->nested[i].flags & KVM_STATE_NESTED_GUEST_MODE);
			json_object_end(j);
		} else {
			json_null(j);
		}
		json_key(j, "pages");
		json_array_begin(j);
		for (k = 0; k < rf->n_pages[i]; k++) {
			json_object_begin(j);
			json_kv_str(j, "what", rf->pages[i][k].what);
			write_gpa(j, "gpa", rf->pages[i][k].gpa);
			json_kv_u64(j, "len", rf->pages[i][k].len);
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}

void restore_faults_write_table(const struct restore_faults *rf, FILE *out)
{
	unsigned int i, n = atomic_load_explicit(&rf->n, memory_order_acquire), plain = 0;
	pid_t restore_tid = atomic_load(&rf->restore_tid);

	if (!n) {
		fprintf(out, "restore faults: none (no page was missing during the restore or a "
			     "vCPU's first KVM_RUN)\n");
		return;
	}
	/*
	 * Each fault inside a restore ioctl and each on a page the state points at; the first
	 * runs' faults on the guest's own memory only counted (the JSON has them all).
	 */
	fprintf(out, "restore faults (served by the listener while the ioctl waited):\n");
	fprintf(out, "  %-32s %-5s %-8s %-14s %s\n", "during", "vCPU", "thread", "guest page",
		"what the state says it is");
	for (i = 0; i < n; i++) {
		const struct restore_fault *f = &rf->log[i];
		char gpa[24];

		if (!f->what && !strcmp(f->during, RESTORE_FAULTS_FIRST_RUN)) {
			plain++;
			continue;
		}
		snprintf(gpa, sizeof(gpa), "0x%" PRIx64, f->gpa);
		fprintf(out, "  %-32s %-5d %-8s %-14s %s\n", f->during, f->vcpu,
			f->tid == restore_tid ? "restore" : "vcpu", gpa, f->what ? f->what : "-");
	}
	if (plain || atomic_load(&rf->not_logged))
		fprintf(out, "  and %" PRIu64 " faults of the vCPUs' first KVM_RUN on the guest's own "
			     "memory\n", (uint64_t)plain + atomic_load(&rf->not_logged));
}
