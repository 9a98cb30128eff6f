// SPDX-License-Identifier: GPL-2.0-only
/* What vmm-caps prints: the capabilities the VMM uses, and the MSR and CPUID counts. */
#include "caps.h"

#include <errno.h>
#include <stdlib.h>

struct caps_report {
	int api_version;
	int values[64];
	unsigned int msr_index_count;
	int msr_readable_count; /* -1: could not probe */
	int msr_feature_count;	/* -1: not supported */
	unsigned int cpuid_entries;
};

static int caps_probe(struct caps_report *rep)
{
	struct kvm_msr_list *list;
	struct kvm_cpuid2 *cpuid;
	const struct kvm_msr_list *readable;
	struct vcpu *vcpu;
	struct vm *vm;
	unsigned int i;
	int r;

	r = vm_create(&vm);
	if (r < 0)
		return r;
	rep->api_version = KVM_API_VERSION_REQUIRED; /* vm_create checked it */
	for (i = 0; i < kvm_nr_cap_descs; i++) {
		const struct kvm_cap_desc *d = &kvm_cap_descs[i];

		rep->values[i] = d->vm_level ? vm_check_cap(vm, d->cap)
					     : kvm_check_cap(vm->kvm_fd, d->cap);
	}
	r = kvm_get_msr_index_list(vm->kvm_fd, &list);
	if (r < 0)
		goto out;
	rep->msr_index_count = list->nmsrs;
	free(list);
	rep->msr_feature_count = -1;
	if (kvm_check_cap(vm->kvm_fd, KVM_CAP_GET_MSR_FEATURES) > 0 &&
	    kvm_get_msr_feature_index_list(vm->kvm_fd, &list) == 0) {
		rep->msr_feature_count = list->nmsrs;
		free(list);
	}
	r = kvm_get_supported_cpuid(vm->kvm_fd, &cpuid);
	if (r < 0)
		goto out;
	rep->cpuid_entries = cpuid->nent;
	free(cpuid);
	/* What a vCPU can really read: the list the state save uses. */
	rep->msr_readable_count = -1;
	if (vm_vcpu_add(vm, 0, &vcpu) == 0 && vcpu_init_cpuid(vcpu) == 0 &&
	    vm_readable_msrs(vm, vcpu, &readable) == 0)
		rep->msr_readable_count = readable->nmsrs;
out:
	vm_destroy(vm);
	return r;
}

static void print_table(FILE *out, const struct caps_report *rep)
{
	unsigned int i;

	fprintf(out, "KVM API version            %d\n", rep->api_version);
	for (i = 0; i < kvm_nr_cap_descs; i++) {
		const struct kvm_cap_desc *d = &kvm_cap_descs[i];

		if (rep->values[i] < 0)
			fprintf(out, "%-26s %-8s %s\n", d->name, "error", d->why);
		else
			fprintf(out, "%-26s %-8d %s\n", d->name, rep->values[i], d->why);
	}
	fprintf(out, "%-26s %-8u %s\n", "MSR index list", rep->msr_index_count,
		"KVM_GET_MSR_INDEX_LIST");
	fprintf(out, "%-26s %-8d %s\n", "MSRs readable", rep->msr_readable_count,
		"of those, what KVM_GET_MSRS reads on a vCPU (saved with its state)");
	fprintf(out, "%-26s %-8d %s\n", "MSR feature list", rep->msr_feature_count,
		"KVM_GET_MSR_FEATURE_INDEX_LIST (-1: none)");
	fprintf(out, "%-26s %-8u %s\n", "CPUID entries", rep->cpuid_entries,
		"KVM_GET_SUPPORTED_CPUID");
}

static void print_json(FILE *out, const struct caps_report *rep)
{
	unsigned int i;

	fprintf(out, "{\"api_version\": %d, \"caps\": {", rep->api_version);
	for (i = 0; i < kvm_nr_cap_descs; i++)
		fprintf(out, "%s\"%s\": %d", i ? ", " : "", kvm_cap_descs[i].name, rep->values[i]);
	fprintf(out, "}, \"msr_index_count\": %u, \"msr_readable_count\": %d, "
		"\"msr_feature_count\": %d, \"cpuid_entries\": %u}\n", rep->msr_index_count,
		rep->msr_readable_count, rep->msr_feature_count, rep->cpuid_entries);
}

int kvm_caps_report(FILE *out, bool json)
{
	struct caps_report rep = { 0 };
	int r;

	if (kvm_nr_cap_descs > sizeof(rep.values) / sizeof(rep.values[0]))
		return -E2BIG; /* the table grew past the report */
	r = caps_probe(&rep);
	if (r < 0)
		return r;
	if (json)
		print_json(out, &rep);
	else
		print_table(out, &rep);
	return 0;
}
