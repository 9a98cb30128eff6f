/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The few parts of AMD's VMCB (APM vol. 2, appendix B) the nested guest writes and the VMM
 * reads back out of a saved nested state: byte offsets, intercept bits, exit codes. Macros
 * only, shared by the freestanding guest and the host.
 */
#ifndef VMM_SVM_VMCB_H
#define VMM_SVM_VMCB_H

/* Control area (offset 0). */
#define VMCB_INTERCEPT_WORD3 0x00c /* 32-bit intercept vectors, four bytes each */
#define VMCB_INTERCEPT_WORD4 0x010
#define VMCB_IOPM_BASE_PA 0x040
#define VMCB_MSRPM_BASE_PA 0x048
#define VMCB_ASID 0x058
#define VMCB_EXIT_CODE 0x070
#define VMCB_EXIT_INFO_1 0x078
#define VMCB_EXIT_INFO_2 0x080
#define VMCB_CONTROL_SIZE 0x400

/* Intercept bits in word 3 and word 4. */
#define VMCB_W3_HLT (1u << 24)
#define VMCB_W3_IOIO_PROT (1u << 27)
#define VMCB_W3_MSR_PROT (1u << 28)
#define VMCB_W3_SHUTDOWN (1u << 31)
#define VMCB_W4_VMRUN (1u << 0)

/* State save area (offset 0x400): segments are { u16 selector, attrib; u32 limit; u64 base }. */
#define VMCB_SAVE 0x400
#define VMCB_ES (VMCB_SAVE + 0x000)
#define VMCB_CS (VMCB_SAVE + 0x010)
#define VMCB_SS (VMCB_SAVE + 0x020)
#define VMCB_DS (VMCB_SAVE + 0x030)
#define VMCB_FS (VMCB_SAVE + 0x040)
#define VMCB_GS (VMCB_SAVE + 0x050)
#define VMCB_GDTR (VMCB_SAVE + 0x060)
#define VMCB_IDTR (VMCB_SAVE + 0x080)
#define VMCB_TR (VMCB_SAVE + 0x090)
#define VMCB_CPL (VMCB_SAVE + 0x0cb)
#define VMCB_EFER (VMCB_SAVE + 0x0d0)
#define VMCB_CR4 (VMCB_SAVE + 0x148)
#define VMCB_CR3 (VMCB_SAVE + 0x150)
#define VMCB_CR0 (VMCB_SAVE + 0x158)
#define VMCB_DR7 (VMCB_SAVE + 0x160)
#define VMCB_DR6 (VMCB_SAVE + 0x168)
#define VMCB_RFLAGS (VMCB_SAVE + 0x170)
#define VMCB_RIP (VMCB_SAVE + 0x178)
#define VMCB_RSP (VMCB_SAVE + 0x1d8)
#define VMCB_RAX (VMCB_SAVE + 0x1f8)
#define VMCB_G_PAT (VMCB_SAVE + 0x268)

/* Segment attributes: type | S << 4 | DPL << 5 | P << 7 | L << 9 | D/B << 10 | G << 11. */
#define VMCB_ATTR_CODE64 0x0a9b /* execute/read, accessed, present, long, 4 KiB granular */
#define VMCB_ATTR_DATA 0x0c93   /* read/write, accessed, present, 32-bit, granular */
#define VMCB_ATTR_TSS64 0x008b  /* busy 64-bit TSS, present */

/* #VMEXIT codes. */
#define SVM_EXIT_HLT 0x078
#define SVM_EXIT_IOIO 0x07b
#define SVM_EXIT_MSR 0x07c
#define SVM_EXIT_SHUTDOWN 0x07f
#define SVM_EXIT_INVALID 0xffffffffu
/* IOIO exit_info_1: bit 0 set for IN; the port in bits 31:16. */
#define SVM_IOIO_IN 0x1u

/* MSRs and CPUID. */
#define MSR_EFER_INDEX 0xc0000080u
#define EFER_SVME_BIT (1ull << 12)
#define MSR_VM_HSAVE_PA_INDEX 0xc0010117u
#define CPUID_EXT_FEATURES 0x80000001u
#define CPUID_EXT_ECX_SVM (1u << 2)

#endif
