// SPDX-License-Identifier: GPL-2.0-only
/*
 * Booting a test guest straight into 64-bit CPL3: page tables with U/S set, a GDT with
 * DPL-3 code and data, a TSS, and KVM_SET_SREGS/KVM_SET_REGS. No guest code runs at CPL0,
 * the part kvm_pvm only emulates, except the nested guest's (an SVM hypervisor: VMRUN is
 * privileged), which enters at CPL0 on the same tables. The layout is guest_abi.h's.
 */
#include "guest.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull
#define PTE_PS 0x80ull
#define PTE_TABLE (PTE_P | PTE_RW | PTE_US)

#define CR0_PE 0x1ull
#define CR0_MP 0x2ull
#define CR0_ET 0x10ull
#define CR0_NE 0x20ull
#define CR0_WP 0x10000ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define CR4_OSFXSR 0x200ull
#define CR4_OSXMMEXCPT 0x400ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
#define RFLAGS_FIXED 0x2ull
#define RFLAGS_IOPL3 0x3000ull

#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull

extern const uint8_t guest_incrementer_image[], guest_incrementer_image_end[];
extern const uint8_t guest_pattern_image[], guest_pattern_image_end[];
extern const uint8_t guest_toucher_image[], guest_toucher_image_end[];
extern const uint8_t guest_wallclock_image[], guest_wallclock_image_end[];
extern const uint8_t guest_nested_image[], guest_nested_image_end[];

static const struct guest_image guest_images[GUEST_NR_PROGRAMS] = {
	[GUEST_INCREMENTER] = { "incrementer", guest_incrementer_image,
				guest_incrementer_image_end },
	[GUEST_PATTERN] = { "pattern", guest_pattern_image, guest_pattern_image_end },
	[GUEST_TOUCHER] = { "toucher", guest_toucher_image, guest_toucher_image_end },
	[GUEST_WALLCLOCK] = { "wallclock", guest_wallclock_image, guest_wallclock_image_end },
	[GUEST_NESTED] = { "nested", guest_nested_image, guest_nested_image_end },
};

const struct guest_image *guest_image(enum guest_program program)
{
	if ((unsigned int)program >= GUEST_NR_PROGRAMS)
		return NULL;
	return &guest_images[program];
}

const struct guest_image *guest_image_by_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < GUEST_NR_PROGRAMS; i++)
		if (!strcmp(guest_images[i].name, name))
			return &guest_images[i];
	return NULL;
}

int guest_config_valid(const struct guest_config *cfg, char *err, size_t err_len)
{
	if (!guest_image(cfg->program)) {
		snprintf(err, err_len, "unknown program %d", cfg->program);
		return -EINVAL;
	}
	if (!cfg->nr_vcpus || cfg->nr_vcpus > GUEST_MAX_VCPUS) {
		snprintf(err, err_len, "%u vCPUs, the layout has stacks for 1..%u", cfg->nr_vcpus,
			 GUEST_MAX_VCPUS);
		return -EINVAL;
	}
	if (!cfg->work_size || cfg->work_size > GUEST_WORK_MAX ||
	    cfg->work_size % ((uint64_t)GUEST_PAGE_SIZE * cfg->nr_vcpus)) {
		snprintf(err, err_len, "workload of %#lx bytes: must be a non-zero multiple of %u "
			 "pages (one slice per vCPU) and at most %#llx",
			 (unsigned long)cfg->work_size, cfg->nr_vcpus, GUEST_WORK_MAX);
		return -EINVAL;
	}
	if (cfg->program == GUEST_NESTED) {
		if (cfg->work_size / cfg->nr_vcpus < GUEST_NESTED_MIN_SLICE) {
			snprintf(err, err_len, "the nested guest needs at least %#x bytes per vCPU",
				 GUEST_NESTED_MIN_SLICE);
			return -EINVAL;
		}
		if (!cfg->count) {
			snprintf(err, err_len, "the nested guest needs a step count");
			return -EINVAL;
		}
	}
	return 0;
}

int guest_config_check(const struct guest_config *cfg)
{
	char err[256];
	int ret = guest_config_valid(cfg, err, sizeof(err));

	if (ret)
		pr_err("guest: %s", err);
	return ret;
}

void guest_regions(const struct guest_config *cfg, struct guest_region regions[GUEST_NR_REGIONS])
{
	regions[0] = (struct guest_region){ GUEST_SLOT_BOOT, 0, GUEST_BOOT_SIZE };
	regions[1] = (struct guest_region){ GUEST_SLOT_WORK, GUEST_WORK_GPA, cfg->work_size };
}

struct guest_slice guest_slice(const struct guest_config *cfg, unsigned int index)
{
	uint64_t size = cfg->work_size / cfg->nr_vcpus;

	return (struct guest_slice){ GUEST_WORK_GPA + index * size, size };
}

/* Identity map: the boot area in 4 KiB pages without page 0, the workload in 2 MiB pages. */
static int guest_write_page_tables(struct vm *vm, const struct guest_config *cfg)
{
	uint64_t pml4[512] = { GUEST_PDPT_GPA | PTE_TABLE };
	uint64_t pdpt[512] = { 0 }, pt[512] = { 0 };
	uint64_t pd[GUEST_NR_PDS][512];
	uint64_t gpa, end = GUEST_WORK_GPA + cfg->work_size;
	unsigned int i;
	int r;

	memset(pd, 0, sizeof(pd));
	for (i = 0; i < GUEST_NR_PDS; i++)
		pdpt[i] = (GUEST_PD_GPA + i * GUEST_PAGE_SIZE) | PTE_TABLE;
	for (i = 1; i < 512; i++)
		pt[i] = ((uint64_t)i * GUEST_PAGE_SIZE) | PTE_TABLE;
	pd[0][0] = GUEST_BOOT_PT_GPA | PTE_TABLE;
	for (gpa = GUEST_WORK_GPA; gpa < end; gpa += SZ_2M)
		pd[gpa / SZ_1G][(gpa / SZ_2M) % 512] = gpa | PTE_TABLE | PTE_PS;

	r = vm_gpa_write(vm, GUEST_PML4_GPA, pml4, sizeof(pml4));
	if (!r)
		r = vm_gpa_write(vm, GUEST_PDPT_GPA, pdpt, sizeof(pdpt));
	if (!r)
		r = vm_gpa_write(vm, GUEST_PD_GPA, pd, sizeof(pd));
	if (!r)
		r = vm_gpa_write(vm, GUEST_BOOT_PT_GPA, pt, sizeof(pt));
	return r;
}

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
	/* Every port open (0 bits), then the 0xff byte the bitmap must end with. */
	uint8_t io_bitmap[GUEST_IO_BITMAP_SIZE + 1];
} __attribute__((packed));
_Static_assert(offsetof(struct tss64, io_bitmap) == 104, "the 64-bit TSS is 104 bytes");
_Static_assert(GUEST_TSS_GPA + sizeof(struct tss64) <= GUEST_CODE_GPA,
	       "the TSS and its I/O bitmap overlap the code area");

#define GUEST_TSS_LIMIT (sizeof(struct tss64) - 1)

static int guest_write_gdt_tss(struct vm *vm)
{
	uint64_t tss_base = GUEST_TSS_GPA, tss_limit = GUEST_TSS_LIMIT;
	uint64_t gdt[GUEST_GDT_ENTRIES] = {
		[GUEST_SEL_KCODE >> 3] = 0x00af9a000000ffffull, /* 64-bit code, DPL0 */
		[GUEST_SEL_KDATA >> 3] = 0x00cf92000000ffffull, /* data, DPL0 */
		[GUEST_SEL_UDATA >> 3] = 0x00cff2000000ffffull, /* data, DPL3 */
		[GUEST_SEL_UCODE >> 3] = 0x00affa000000ffffull, /* 64-bit code, DPL3 */
		/* 64-bit available TSS (type 9), present: a 16-byte system descriptor */
		[GUEST_SEL_TSS >> 3] = (tss_limit & 0xffff) | ((tss_base & 0xffffff) << 16) |
				       (0x89ull << 40) | ((tss_limit >> 16 & 0xf) << 48) |
				       ((tss_base >> 24 & 0xff) << 56),
		[(GUEST_SEL_TSS >> 3) + 1] = tss_base >> 32,
	};
	static struct tss64 tss = {
		/* No CPL0 code runs, but a valid RSP0 keeps a stray interrupt from faulting twice. */
		.rsp = { GUEST_STACK_GPA },
		.iomap_base = offsetof(struct tss64, io_bitmap),
		.io_bitmap[GUEST_IO_BITMAP_SIZE] = 0xff,
	};
	int r;

	r = vm_gpa_write(vm, GUEST_GDT_GPA, gdt, sizeof(gdt));
	if (!r)
		r = vm_gpa_write(vm, GUEST_TSS_GPA, &tss, sizeof(tss));
	return r;
}

int guest_boot_write(struct vm *vm, const struct guest_config *cfg)
{
	const struct guest_image *image;
	int r;

	r = guest_config_check(cfg);
	if (r < 0)
		return r;
	image = guest_image(cfg->program);
	if (guest_image_size(image) > GUEST_CODE_MAX) {
		pr_err("guest %s: image of %zu bytes exceeds the code area", image->name,
		       guest_image_size(image));
		return -E2BIG;
	}
	r = guest_write_page_tables(vm, cfg);
	if (!r)
		r = guest_write_gdt_tss(vm);
	if (!r)
		r = vm_gpa_write(vm, GUEST_CODE_GPA, image->start, guest_image_size(image));
	return r;
}

/* CPL3 segments, or CPL0 ones for a guest that must run privileged (the nested guest). */
static void guest_segments(struct kvm_sregs *s, unsigned int dpl)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff,
		.selector = dpl ? GUEST_SEL_UCODE : GUEST_SEL_KCODE,
		.type = 11, .present = 1, .dpl = (uint8_t)dpl, .db = 0, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff,
		.selector = dpl ? GUEST_SEL_UDATA : GUEST_SEL_KDATA,
		.type = 3, .present = 1, .dpl = (uint8_t)dpl, .db = 1, .s = 1, .l = 0, .g = 1,
	};

	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = (struct kvm_segment){
		.base = GUEST_TSS_GPA, .limit = GUEST_TSS_LIMIT,
		.selector = GUEST_SEL_TSS, .type = 11, .present = 1, /* busy 64-bit TSS */
	};
	s->ldt = (struct kvm_segment){ .type = 2, .present = 1, .unusable = 1 };
	s->gdt = (struct kvm_dtable){ .base = GUEST_GDT_GPA,
				      .limit = GUEST_GDT_ENTRIES * 8 - 1 };
	/* No IDT: an exception triple-faults to KVM_EXIT_SHUTDOWN, with the registers logged. */
	s->idt = (struct kvm_dtable){ .base = 0, .limit = 0 };
}

int guest_vcpu_boot(struct vcpu *vcpu, const struct guest_config *cfg)
{
	struct guest_slice slice;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int r;

	r = guest_config_check(cfg);
	if (r < 0)
		return r;
	if (vcpu->id >= cfg->nr_vcpus) {
		pr_err("guest: vcpu %u of a %u-vCPU guest", vcpu->id, cfg->nr_vcpus);
		return -EINVAL;
	}
	r = vcpu_init_cpuid(vcpu);
	if (r < 0)
		return r;
	r = vcpu_get_sregs(vcpu, &sregs);
	if (r < 0)
		return r;
	guest_segments(&sregs, cfg->program == GUEST_NESTED ? 0 : 3);
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = GUEST_PML4_GPA;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_LME | EFER_LMA;
	r = vcpu_set_sregs(vcpu, &sregs);
	if (r < 0)
		return r;

	slice = guest_slice(cfg, vcpu->id);
	regs = (struct kvm_regs){
		.rip = GUEST_CODE_GPA,
		.rsp = GUEST_STACK_TOP(vcpu->id),
		.rflags = RFLAGS_FIXED | RFLAGS_IOPL3,
		.rdi = vcpu->id,
		.rsi = slice.gpa,
		.rdx = slice.size,
		.rcx = cfg->seed,
		.r8 = cfg->count,
	};
	r = vcpu_set_regs(vcpu, &regs);
	if (r < 0)
		return r;
	/* With an in-kernel LAPIC, vCPUs other than 0 wait for INIT/SIPI: start them now. */
	if (vcpu->vm->has_irqchip) {
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

		r = vcpu_set_mp_state(vcpu, &mp);
	}
	return r;
}
