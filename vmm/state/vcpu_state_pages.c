// SPDX-License-Identifier: GPL-2.0-only
/*
 * The guest pages a saved vCPU state points KVM at: restoring the state makes KVM read or write
 * them, inside the restore ioctl or later (vcpu_state.h, vcpu_state_guest_pages()).
 */
#include "vcpu_state.h"

#include <asm/kvm_para.h>
#include <string.h>

#define MSR_VM_HSAVE_PA 0xc0010117u
#define PAGE_SIZE_4K 4096u

/* vmcb12's control area (AMD APM vol. 2, appendix B): the permission maps' addresses. */
#define VMCB_IOPM_BASE_PA 0x040
#define VMCB_MSRPM_BASE_PA 0x048
#define SVM_IOPM_SIZE (3 * PAGE_SIZE_4K)
#define SVM_MSRPM_SIZE (2 * PAGE_SIZE_4K)

/*
 * vmcs12 (KVM's arch/x86/kvm/vmx/vmcs12.h: its layout is ABI, fixed by CHECK_OFFSET there):
 * the addresses that nested_get_vmcs12_pages() and the VM-entry checks map or read.
 */
static const struct {
	uint32_t offset, len;
	const char *what;
} vmcs12_addresses[] = {
	{ 40, PAGE_SIZE_4K, "vmcs12 I/O bitmap A" },
	{ 48, PAGE_SIZE_4K, "vmcs12 I/O bitmap B" },
	{ 56, PAGE_SIZE_4K, "vmcs12 MSR bitmap" },
	{ 96, PAGE_SIZE_4K, "vmcs12 virtual-APIC page" },
	{ 104, PAGE_SIZE_4K, "vmcs12 APIC-access page" },
	{ 112, 64, "vmcs12 posted-interrupt descriptor" },
};

struct page_list {
	struct vcpu_state_page *out;
	unsigned int n, max;
};

static void add(struct page_list *l, uint64_t gpa, uint32_t len, const char *what)
{
	if (!gpa)
		return;
	if (l->n < l->max)
		l->out[l->n] = (struct vcpu_state_page){ .gpa = gpa, .len = len, .what = what };
	l->n++;
}

static uint64_t load_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Paravirtual areas, each enabled by bit 0 of its MSR (the wall clock: any non-zero value). */
static void add_msr_pages(struct page_list *l, const struct vcpu_state *st)
{
	uint32_t i;

	for (i = 0; i < st->nmsrs; i++) {
		uint64_t v = st->msrs[i].data;

		switch (st->msrs[i].index) {
		case MSR_KVM_SYSTEM_TIME_NEW:
			if (v & 1)
				add(l, v & ~1ull, 32, "kvmclock system time");
			break;
		case MSR_KVM_WALL_CLOCK_NEW:
			add(l, v, 12, "kvmclock wall clock");
			break;
		case MSR_KVM_STEAL_TIME:
			if (v & 1)
				add(l, v & ~63ull, 64, "steal time");
			break;
		case MSR_KVM_ASYNC_PF_EN:
			if (v & 1)
				add(l, v & ~63ull, 64, "async page fault");
			break;
		case MSR_KVM_PV_EOI_EN:
			if (v & 1)
				add(l, v & ~3ull, 4, "PV EOI");
			break;
		case MSR_VM_HSAVE_PA:
			add(l, v, PAGE_SIZE_4K, "SVM host save area");
			break;
		}
	}
}

static void add_nested_pages(struct page_list *l, const struct vcpu_state *st)
{
	const struct kvm_nested_state *ns = (const struct kvm_nested_state *)st->nested;
	const uint8_t *data = st->nested + sizeof(*ns);
	uint32_t i;

	if (!(st->parts & VCPU_PART_NESTED) || st->nested_size < sizeof(*ns))
		return;
	if (ns->format == KVM_STATE_NESTED_FORMAT_SVM) {
		if (!(ns->flags & KVM_STATE_NESTED_GUEST_MODE))
			return;
		add(l, ns->hdr.svm.vmcb_pa, PAGE_SIZE_4K, "vmcb12");
		if (st->nested_size < sizeof(*ns) + KVM_STATE_NESTED_SVM_VMCB_SIZE)
			return;
		add(l, load_u64(data + VMCB_MSRPM_BASE_PA) & ~0xfffull, SVM_MSRPM_SIZE,
		    "nested MSR permission map");
		add(l, load_u64(data + VMCB_IOPM_BASE_PA) & ~0xfffull, SVM_IOPM_SIZE,
		    "nested I/O permission map");
	} else if (ns->format == KVM_STATE_NESTED_FORMAT_VMX) {
		/* -1ull is "none" for both (KVM's INVALID_GPA). */
		if (ns->hdr.vmx.vmxon_pa != ~0ull)
			add(l, ns->hdr.vmx.vmxon_pa, PAGE_SIZE_4K, "VMXON region");
		if (ns->hdr.vmx.vmcs12_pa != ~0ull)
			add(l, ns->hdr.vmx.vmcs12_pa, PAGE_SIZE_4K, "vmcs12");
		if (!(ns->flags & KVM_STATE_NESTED_GUEST_MODE) ||
		    st->nested_size < sizeof(*ns) + KVM_STATE_NESTED_VMX_VMCS_SIZE)
			return;
		for (i = 0; i < sizeof(vmcs12_addresses) / sizeof(vmcs12_addresses[0]); i++) {
			uint64_t gpa = load_u64(data + vmcs12_addresses[i].offset);

			if (gpa != ~0ull)
				add(l, gpa, vmcs12_addresses[i].len, vmcs12_addresses[i].what);
		}
	}
}

unsigned int vcpu_state_guest_pages(const struct vcpu_state *st, struct vcpu_state_page *out,
				    unsigned int max)
{
	struct page_list l = { .out = out, .max = max };

	add_msr_pages(&l, st);
	add_nested_pages(&l, st);
	return l.n;
}

const char *vcpu_state_page_of(const struct vcpu_state_page *pages, unsigned int n, uint64_t gpa)
{
	uint64_t page = gpa & ~(uint64_t)(PAGE_SIZE_4K - 1);
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint64_t first = pages[i].gpa & ~(uint64_t)(PAGE_SIZE_4K - 1);

		if (page >= first && page < pages[i].gpa + pages[i].len)
			return pages[i].what;
	}
	return NULL;
}
