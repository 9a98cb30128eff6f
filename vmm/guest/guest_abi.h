/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The contract between the VMM and the test guests (guests/): guest-physical layout,
 * entry registers and the port protocol. Included by both sides; macros only, so the
 * freestanding guests can use it.
 *
 * The guests run at CPL3 from their first instruction: no CPL0 code at all, because kvm_pvm
 * emulates CPL0 and runs only CPL3 long-mode code natively (DESIGN.md section 5). The VMM
 * builds page tables, GDT and TSS in the boot area and loads long mode straight into the
 * vCPU with KVM_SET_SREGS (guest_boot.c). GVA == GPA (identity mapping, U/S set).
 *
 * Guest-physical layout:
 *
 *   0x00000000 +------------------------------------+ memory slot 0: boot area, 2 MiB
 *              | page 0: not mapped (null guard)    |
 *   0x00001000 | PML4                               |
 *   0x00002000 | PDPT                               |
 *   0x00003000 | 4 page directories (4 GiB)         |  2 MiB pages for the workload
 *   0x00007000 | page table of the boot area        |  4 KiB pages, so page 0 stays unmapped
 *   0x00008000 | GDT                                |
 *   0x00009000 | TSS + I/O bitmap (all ports open)  |  104 + 8192 + 1 bytes
 *   0x00010000 | guest code (linked here), 448 KiB  |
 *   0x00080000 | stacks, 16 KiB per vCPU, 32 vCPUs  |  vCPU i's stack top: 0x84000 + i * 0x4000
 *   0x00100000 | unused                             |
 *   0x00200000 +------------------------------------+ memory slot 1: the workload, N bytes
 *              | vCPU 0's slice | vCPU 1's slice ...|  equal 4 KiB-aligned slices, in order
 *              +------------------------------------+
 *
 * Port I/O at CPL3 needs two permissions: RFLAGS.IOPL=3 is enough where the hardware runs
 * the guest's RFLAGS (VMX, SVM), but kvm_pvm runs CPL3 with the host's IOPL 0, takes the
 * #GP and emulates the OUT, and the emulator then checks the I/O bitmap of the guest's TSS.
 * So the TSS carries a full bitmap with every port open.
 *
 * Entry (every vCPU starts at GUEST_CODE_GPA, CPL3, RFLAGS.IOPL=3, IF=0, no IDT: any
 * exception is a triple fault, KVM_EXIT_SHUTDOWN):
 *   RDI  vCPU index (0..n-1)
 *   RSI  guest-physical address of this vCPU's slice
 *   RDX  size of the slice in bytes (a multiple of 4 KiB)
 *   RCX  seed
 *   R8   count: incrementer passes (0: forever), toucher iterations, pattern: unused,
 *        wallclock: the guest-physical address of a kvmclock wall clock (below)
 *   RSP  top of this vCPU's stack
 *
 * Port protocol (OUT of 32 bits each; HLT faults at CPL3, so a guest never halts):
 *   GUEST_PORT_PROGRESS   a progress counter that only grows (see each guest)
 *   GUEST_PORT_RESULT_LO  low 32 bits of the 64-bit result
 *   GUEST_PORT_RESULT_HI  high 32 bits; this write completes the result
 *   GUEST_PORT_DONE       final status: 0 ok, else the guest's own error count. The guest
 *                         then repeats this OUT forever.
 */
#ifndef VMM_GUEST_ABI_H
#define VMM_GUEST_ABI_H

#define GUEST_PAGE_SIZE 0x1000
#define GUEST_PML4_GPA 0x1000
#define GUEST_PDPT_GPA 0x2000
#define GUEST_PD_GPA 0x3000
#define GUEST_NR_PDS 4
#define GUEST_BOOT_PT_GPA 0x7000
#define GUEST_GDT_GPA 0x8000
#define GUEST_TSS_GPA 0x9000
#define GUEST_IO_BITMAP_SIZE 8192
#define GUEST_CODE_GPA 0x10000
#define GUEST_CODE_MAX 0x70000
#define GUEST_STACK_GPA 0x80000
#define GUEST_STACK_SIZE 0x4000
#define GUEST_MAX_VCPUS 32
#define GUEST_BOOT_SIZE 0x200000
#define GUEST_WORK_GPA 0x200000
#define GUEST_WORK_MAX (4ull * 1024 * 1024 * 1024 - GUEST_WORK_GPA)

#define GUEST_STACK_TOP(i) (GUEST_STACK_GPA + ((i) + 1) * GUEST_STACK_SIZE)

/* GDT selectors: user data before user code, the order SYSRET expects. */
#define GUEST_SEL_KCODE 0x08
#define GUEST_SEL_KDATA 0x10
#define GUEST_SEL_UDATA (0x18 | 3)
#define GUEST_SEL_UCODE (0x20 | 3)
#define GUEST_SEL_TSS 0x28
#define GUEST_GDT_ENTRIES 7 /* the TSS descriptor takes two */

#define GUEST_PORT_BASE 0x500
#define GUEST_PORT_PROGRESS 0x500
#define GUEST_PORT_RESULT_LO 0x504
#define GUEST_PORT_RESULT_HI 0x508
#define GUEST_PORT_DONE 0x50c
#define GUEST_PORT_COUNT 0x10

/* The pattern and toucher guests report progress once per this many bytes / iterations. */
#define GUEST_PATTERN_PROGRESS_BYTES (1024 * 1024)
#define GUEST_TOUCHER_PROGRESS_ITERS 65536

/*
 * The wallclock guest reads KVM's struct pvclock_wall_clock, which KVM writes when the
 * MSR_KVM_WALL_CLOCK_NEW MSR is set: { u32 version; u32 sec; u32 nsec; }, packed, 12 bytes.
 * Progress 1 on entry, 2 after a consistent read; result: sec; status 0, or 1 if the version
 * stayed odd, zero or changing for GUEST_WALLCLOCK_TRIES reads.
 */
#define GUEST_WALLCLOCK_VERSION 0
#define GUEST_WALLCLOCK_SEC 4
#define GUEST_WALLCLOCK_NSEC 8
#define GUEST_WALLCLOCK_SIZE 12
#define GUEST_WALLCLOCK_TRIES 1000

/*
 * The nested guest (guests/nested.c) is the one exception to CPL3: it runs at CPL0 (VMRUN is
 * privileged), on a host whose KVM offers SVM to its guests (a Linux guest of QEMU TCG with
 * kvm_amd nested=1; never this project's kvm_pvm host, where it reports GUEST_NESTED_NO_SVM).
 * It is an L1 hypervisor: it sets EFER.SVME and the host-save-area MSR, then keeps VMRUNning
 * its own guest ("L3" below, "the nested guest") until that guest has run count steps.
 *
 * Each vCPU's slice: the nested guest's data first, the hypervisor's structures in the last
 * GUEST_NESTED_AREA bytes (so a background push, which goes in address order, reaches them
 * last and a restore's faults on them are seen):
 *
 *   slice end - 0x8000   I/O permission map (12 KiB): GUEST_NESTED_PORT intercepted
 *   slice end - 0x5000   MSR permission map (8 KiB): GUEST_NESTED_MSR intercepted
 *   slice end - 0x3000   vmcb12 (the nested guest's VMCB)
 *   slice end - 0x2000   host save area (VM_HSAVE_PA)
 *   slice end - 0x1000   the nested guest's stack
 *
 * One step of the nested guest k (1..count): RDMSR GUEST_NESTED_MSR (intercepted through the
 * MSR permission map: the hypervisor answers guest_nested_msr(seed, k)), update one word of
 * its data (guest_nested_word(), guest_nested_update()), OUT GUEST_NESTED_PORT with the new
 * word's low half (intercepted through the I/O permission map: the hypervisor reads the word
 * back from memory, checks it against the port value and folds it into its sum). Every
 * GUEST_NESTED_PROGRESS_STEPS steps the nested guest itself reports progress with an OUT to
 * GUEST_PORT_PROGRESS, which its I/O permission map does not intercept: that exit reaches the
 * VMM with the vCPU in guest mode. After count steps it halts (intercepted); the hypervisor
 * reports result = its sum folded with a digest of the data (guest_nested_simulate() on the
 * host), status = its own error count, or one of the codes below.
 */
#define GUEST_NESTED_AREA 0x8000
#define GUEST_NESTED_IOPM 0x0000 /* offsets in the area */
#define GUEST_NESTED_IOPM_SIZE 0x3000
#define GUEST_NESTED_MSRPM 0x3000
#define GUEST_NESTED_MSRPM_SIZE 0x2000
#define GUEST_NESTED_VMCB 0x5000
#define GUEST_NESTED_HSAVE 0x6000
#define GUEST_NESTED_STACK 0x7000
#define GUEST_NESTED_MIN_SLICE 0x10000 /* the area and 8 pages of data */
#define GUEST_NESTED_PORT 0x600
#define GUEST_NESTED_MSR 0xc0011ff0 /* in the MSR permission map's third range; not a real MSR */
#define GUEST_NESTED_PROGRESS_STEPS 256
#define GUEST_NESTED_NO_SVM 0x80000001 /* status: CPUID has no SVM */
#define GUEST_NESTED_BAD_EXIT 0x80000002 /* status: an unexpected #VMEXIT; result: its code */

#endif
