// SPDX-License-Identifier: GPL-2.0-only
/*
 * The nested guest: a small SVM hypervisor at CPL0 that runs its own guest (guest_abi.h has
 * the layout and the steps). The VMM migrates it while that guest runs, so the vCPU is saved
 * in guest mode and KVM_SET_NESTED_STATE on the destination has a vmcb12, an MSR permission
 * map and an I/O permission map to find in guest memory.
 *
 * The nested guest uses the hypervisor's own page tables, GDT and code (no nested paging): it
 * is the same image, entered at nested_guest_main() on its own stack.
 */
#include "guest_math.h"
#include "guest_rt.h"
#include "svm_vmcb.h"

/* The general-purpose registers VMRUN does not switch (nested_vmrun.S). */
struct nested_regs {
	uint64_t rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
};

void nested_vmrun(uint64_t vmcb_pa, struct nested_regs *regs);

static inline void wr64(uint64_t addr, uint64_t v)
{
	*(volatile uint64_t *)addr = v;
}

static inline uint64_t rd64(uint64_t addr)
{
	return *(volatile uint64_t *)addr;
}

static inline void wr32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static inline uint32_t rd32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline uint64_t rdmsr(uint32_t index)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index) : "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t index, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(index), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static inline uint32_t cpuid_ecx(uint32_t leaf)
{
	uint32_t a = leaf, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return c;
}

#define READ_CR(n)                                                  \
	({                                                          \
		uint64_t v;                                         \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));   \
		v;                                                  \
	})

static void zero(uint64_t addr, uint64_t size)
{
	uint64_t off;

	for (off = 0; off < size; off += 8)
		wr64(addr + off, 0);
}

/* ---- the nested guest ---- */

static __attribute__((noreturn)) void nested_guest_main(uint64_t data, uint64_t words,
							 uint64_t seed, uint64_t count)
{
	uint64_t k;

	for (k = 1; k <= count; k++) {
		uint64_t v = rdmsr(GUEST_NESTED_MSR);
		uint64_t word = data + 8 * guest_nested_word(seed, k, words);
		uint64_t w = guest_nested_update(rd64(word), v);

		wr64(word, w);
		guest_out(GUEST_NESTED_PORT, (uint32_t)w);
		if (k % GUEST_NESTED_PROGRESS_STEPS == 0)
			guest_progress(k / GUEST_NESTED_PROGRESS_STEPS);
	}
	for (;;)
		__asm__ volatile("hlt");
}

/* ---- the hypervisor ---- */

static void vmcb_seg(uint64_t vmcb, unsigned int off, uint16_t sel, uint16_t attr)
{
	*(volatile uint16_t *)(vmcb + off) = sel;
	*(volatile uint16_t *)(vmcb + off + 2) = attr;
	wr32(vmcb + off + 4, 0xffffffff);
	wr64(vmcb + off + 8, 0);
}

/* Intercept one MSR's reads and writes: two bits per MSR, three ranges of 0x2000 MSRs. */
static void msrpm_intercept(uint64_t msrpm, uint32_t msr)
{
	uint32_t bit = (msr - 0xc0010000u) * 2;
	volatile uint8_t *byte = (volatile uint8_t *)(msrpm + 0x1000 + bit / 8);

	*byte |= (uint8_t)(3u << (bit % 8));
}

/* Intercept a 32-bit port access: the bits of every byte it covers. */
static void iopm_intercept(uint64_t iopm, uint16_t port)
{
	unsigned int p;

	for (p = port; p < port + 4u; p++)
		*(volatile uint8_t *)(iopm + p / 8) |= (uint8_t)(1u << (p % 8));
}

/* A vmcb12 that resumes nested_guest_main() in 64-bit mode at CPL0 on this vCPU's paging. */
static void vmcb_init(uint64_t vmcb, uint64_t area, struct nested_regs *regs, uint64_t data,
		      uint64_t words, uint64_t seed, uint64_t count)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	zero(vmcb, GUEST_PAGE_SIZE);
	wr32(vmcb + VMCB_INTERCEPT_WORD3,
	     VMCB_W3_HLT | VMCB_W3_IOIO_PROT | VMCB_W3_MSR_PROT | VMCB_W3_SHUTDOWN);
	wr32(vmcb + VMCB_INTERCEPT_WORD4, VMCB_W4_VMRUN);
	wr64(vmcb + VMCB_IOPM_BASE_PA, area + GUEST_NESTED_IOPM);
	wr64(vmcb + VMCB_MSRPM_BASE_PA, area + GUEST_NESTED_MSRPM);
	wr32(vmcb + VMCB_ASID, 1);

	vmcb_seg(vmcb, VMCB_CS, GUEST_SEL_KCODE, VMCB_ATTR_CODE64);
	vmcb_seg(vmcb, VMCB_SS, GUEST_SEL_KDATA, VMCB_ATTR_DATA);
	vmcb_seg(vmcb, VMCB_DS, GUEST_SEL_KDATA, VMCB_ATTR_DATA);
	vmcb_seg(vmcb, VMCB_ES, GUEST_SEL_KDATA, VMCB_ATTR_DATA);
	wr32(vmcb + VMCB_GDTR + 4, gdtr.limit);
	wr64(vmcb + VMCB_GDTR + 8, gdtr.base);
	*(volatile uint8_t *)(vmcb + VMCB_CPL) = 0;
	/* VMRUN refuses a guest EFER without SVME. */
	wr64(vmcb + VMCB_EFER, rdmsr(MSR_EFER_INDEX));
	wr64(vmcb + VMCB_CR0, READ_CR(0));
	wr64(vmcb + VMCB_CR3, READ_CR(3));
	wr64(vmcb + VMCB_CR4, READ_CR(4));
	wr64(vmcb + VMCB_DR6, 0xffff0ff0);
	wr64(vmcb + VMCB_DR7, 0x400);
	wr64(vmcb + VMCB_RFLAGS, 0x2);
	wr64(vmcb + VMCB_RIP, (uint64_t)nested_guest_main);
	/* As after a call: the return-address slot below a 16-byte aligned top. */
	wr64(vmcb + VMCB_RSP, area + GUEST_NESTED_STACK + GUEST_PAGE_SIZE - 8);
	wr64(vmcb + VMCB_G_PAT, 0x0007040600070406ull);
	*regs = (struct nested_regs){ .rdi = data, .rsi = words, .rdx = seed, .rcx = count };
}

struct hypervisor {
	uint64_t vmcb, data, words, seed;
	uint64_t msr_exits, io_exits, sum, errors;
	struct nested_regs regs;
};

static void handle_msr(struct hypervisor *hv)
{
	uint64_t v;

	if (rd64(hv->vmcb + VMCB_EXIT_INFO_1) != 0 || (uint32_t)hv->regs.rcx != GUEST_NESTED_MSR) {
		hv->errors++; /* a write, or another MSR: the map intercepts only this one */
		v = 0;
	} else {
		v = guest_nested_msr(hv->seed, ++hv->msr_exits);
	}
	wr64(hv->vmcb + VMCB_RAX, (uint32_t)v);
	hv->regs.rdx = v >> 32;
	wr64(hv->vmcb + VMCB_RIP, rd64(hv->vmcb + VMCB_RIP) + 2); /* RDMSR is two bytes */
}

/* The nested guest says which word it wrote: check the memory it wrote against it. */
static void handle_io(struct hypervisor *hv)
{
	uint64_t info = rd64(hv->vmcb + VMCB_EXIT_INFO_1);
	uint32_t value = (uint32_t)rd64(hv->vmcb + VMCB_RAX);
	uint64_t k = ++hv->io_exits, w;

	w = rd64(hv->data + 8 * guest_nested_word(hv->seed, k, hv->words));
	if ((info >> 16) != GUEST_NESTED_PORT || (info & SVM_IOIO_IN) || (uint32_t)w != value ||
	    k != hv->msr_exits)
		hv->errors++;
	hv->sum = guest_fnv_fold(hv->sum, w);
	wr64(hv->vmcb + VMCB_RIP, rd64(hv->vmcb + VMCB_EXIT_INFO_2)); /* the next RIP */
}

void guest_main(uint64_t index, uint64_t base, uint64_t size, uint64_t seed, uint64_t count)
{
	uint64_t area = base + size - GUEST_NESTED_AREA, digest = GUEST_FNV_OFFSET, i;
	struct hypervisor hv = {
		.vmcb = area + GUEST_NESTED_VMCB, .data = base,
		.words = (size - GUEST_NESTED_AREA) / 8, .seed = seed, .sum = GUEST_FNV_OFFSET,
	};
	uint32_t code;

	(void)index;
	if (!(cpuid_ecx(CPUID_EXT_FEATURES) & CPUID_EXT_ECX_SVM))
		guest_done(GUEST_NESTED_NO_SVM);
	wrmsr(MSR_EFER_INDEX, rdmsr(MSR_EFER_INDEX) | EFER_SVME_BIT);
	wrmsr(MSR_VM_HSAVE_PA_INDEX, area + GUEST_NESTED_HSAVE);
	zero(area + GUEST_NESTED_IOPM, GUEST_NESTED_IOPM_SIZE);
	zero(area + GUEST_NESTED_MSRPM, GUEST_NESTED_MSRPM_SIZE);
	iopm_intercept(area + GUEST_NESTED_IOPM, GUEST_NESTED_PORT);
	msrpm_intercept(area + GUEST_NESTED_MSRPM, GUEST_NESTED_MSR);
	vmcb_init(hv.vmcb, area, &hv.regs, hv.data, hv.words, seed, count);

	for (;;) {
		nested_vmrun(hv.vmcb, &hv.regs);
		code = rd32(hv.vmcb + VMCB_EXIT_CODE);
		if (code == SVM_EXIT_MSR) {
			handle_msr(&hv);
		} else if (code == SVM_EXIT_IOIO) {
			handle_io(&hv);
		} else if (code == SVM_EXIT_HLT) {
			break;
		} else {
			guest_result((uint64_t)code << 32 | (uint32_t)rd64(hv.vmcb + VMCB_EXIT_INFO_1));
			guest_done(GUEST_NESTED_BAD_EXIT);
		}
	}
	for (i = 0; i < hv.words; i++)
		digest = guest_fnv_fold(digest, rd64(hv.data + 8 * i));
	hv.errors += hv.io_exits != count;
	guest_result(guest_nested_result(hv.sum, digest));
	guest_done(hv.errors > 0xffff ? 0xffff : (uint32_t)hv.errors);
}
