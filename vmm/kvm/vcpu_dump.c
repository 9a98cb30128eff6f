// SPDX-License-Identifier: GPL-2.0-only
/* What an error report shows of a vCPU: exit names, registers, the code at RIP. */
#include "kvm.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "kvm_ioctl.h"

const char *kvm_exit_reason_name(uint32_t exit_reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO",
		[KVM_EXIT_HYPERCALL] = "HYPERCALL",
		[KVM_EXIT_DEBUG] = "DEBUG",
		[KVM_EXIT_HLT] = "HLT",
		[KVM_EXIT_MMIO] = "MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[KVM_EXIT_INTR] = "INTR",
		[KVM_EXIT_SET_TPR] = "SET_TPR",
		[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
		[KVM_EXIT_NMI] = "NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
		[KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
		[KVM_EXIT_HYPERV] = "HYPERV",
		[KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
		[KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
		[KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
		[KVM_EXIT_AP_RESET_HOLD] = "AP_RESET_HOLD",
		[KVM_EXIT_X86_BUS_LOCK] = "X86_BUS_LOCK",
		[KVM_EXIT_XEN] = "XEN",
		[KVM_EXIT_NOTIFY] = "NOTIFY",
		[KVM_EXIT_MEMORY_FAULT] = "MEMORY_FAULT",
	};

	if (exit_reason < sizeof(names) / sizeof(names[0]) && names[exit_reason])
		return names[exit_reason];
	return "unknown";
}

static void dump_segment(uint32_t id, const char *name, const struct kvm_segment *s)
{
	pr_err("vcpu %u:   %-3s sel %#06x base 0x%016llx limit %#010x type %2u s %u dpl %u "
	       "p %u l %u db %u g %u unusable %u", id, name, s->selector, s->base, s->limit,
	       s->type, s->s, s->dpl, s->present, s->l, s->db, s->g, s->unusable);
}

void vcpu_dump(struct vcpu *vcpu)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	uint32_t id = vcpu->id;

	if (__vcpu_ioctl(vcpu, KVM_GET_REGS, &r) == 0) {
		pr_err("vcpu %u: rip 0x%016llx rflags 0x%016llx", id, r.rip, r.rflags);
		pr_err("vcpu %u:   rax 0x%016llx rbx 0x%016llx rcx 0x%016llx rdx 0x%016llx", id,
		       r.rax, r.rbx, r.rcx, r.rdx);
		pr_err("vcpu %u:   rsi 0x%016llx rdi 0x%016llx rbp 0x%016llx rsp 0x%016llx", id,
		       r.rsi, r.rdi, r.rbp, r.rsp);
		pr_err("vcpu %u:   r8  0x%016llx r9  0x%016llx r10 0x%016llx r11 0x%016llx", id,
		       r.r8, r.r9, r.r10, r.r11);
		pr_err("vcpu %u:   r12 0x%016llx r13 0x%016llx r14 0x%016llx r15 0x%016llx", id,
		       r.r12, r.r13, r.r14, r.r15);
	}
	if (__vcpu_ioctl(vcpu, KVM_GET_SREGS, &s) == 0) {
		pr_err("vcpu %u:   cr0 %#llx cr2 %#llx cr3 %#llx cr4 %#llx cr8 %#llx efer %#llx "
		       "apic_base %#llx", id, s.cr0, s.cr2, s.cr3, s.cr4, s.cr8, s.efer,
		       s.apic_base);
		dump_segment(id, "cs", &s.cs);
		dump_segment(id, "ss", &s.ss);
		dump_segment(id, "ds", &s.ds);
		dump_segment(id, "tr", &s.tr);
		pr_err("vcpu %u:   gdt base %#llx limit %#x, idt base %#llx limit %#x", id,
		       s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
	}
}

/*
 * Whether the host page under hva is mapped in this process (/proc/self/pagemap's present
 * bit, readable without privilege). A page not mapped under userfaultfd would make a plain
 * read block until the pager serves it, which may be never in an error path. mincore() is not
 * enough: for shared file memory it says the page is in the file, which under a MINOR
 * registration still faults.
 */
static bool host_page_resident(const void *hva)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t entry = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	bool present;

	if (fd < 0)
		return false;
	present = pread(fd, &entry, sizeof(entry), (off_t)((uintptr_t)hva / (uintptr_t)page *
							     sizeof(entry))) == sizeof(entry) &&
		  (entry >> 63);
	close(fd);
	return present;
}

void vcpu_dump_code(struct vcpu *vcpu)
{
	char hex[16 * 3 + 1] = "";
	struct kvm_regs r;
	const uint8_t *code;
	long page = sysconf(_SC_PAGESIZE);
	gpa_t gpa;
	unsigned int i, n;
	int err;

	if (__vcpu_ioctl(vcpu, KVM_GET_REGS, &r) < 0)
		return;
	err = vcpu_translate(vcpu, r.rip, &gpa);
	if (err < 0) {
		pr_err("vcpu %u: code at rip %#llx: not translatable (KVM_TRANSLATE: %s)",
		       vcpu->id, r.rip, strerror(-err));
		return;
	}
	/* Stay inside the page that holds RIP: the next one is another translation. */
	n = page - (gpa & (page - 1));
	if (n > 16)
		n = 16;
	code = vm_gpa_to_hva(vcpu->vm, gpa, n);
	if (!code || !host_page_resident(code)) {
		pr_err("vcpu %u: code at rip %#llx (gpa %#llx): %s", vcpu->id, r.rip,
		       (unsigned long long)gpa, code ? "page not resident" : "outside memory");
		return;
	}
	for (i = 0; i < n; i++)
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", code[i]);
	pr_err("vcpu %u: code at rip %#llx (gpa %#llx): %s", vcpu->id, r.rip,
	       (unsigned long long)gpa, hex);
}
