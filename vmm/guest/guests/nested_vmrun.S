/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nested_vmrun(vmcb_pa, regs): one world switch into the nested guest and back.
 *
 * VMRUN loads the nested guest's RAX, RSP and RIP from its VMCB but leaves every other
 * general-purpose register as it is, and #VMEXIT restores only the host's RAX and RSP: the
 * other registers are the hypervisor's to carry. So they are loaded from regs before VMRUN and
 * stored back into it after, around the hypervisor's callee-saved ones. GIF is cleared around
 * the switch, as a hypervisor does (no interrupt between the load of state and VMRUN).
 *
 * struct nested_regs (nested.c): rbx, rcx, rdx, rsi, rdi, rbp, r8 .. r15, 8 bytes each.
 */
	.text
	.globl nested_vmrun
nested_vmrun:
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%rsi			/* regs, for after the #VMEXIT */
	mov	%rdi, %rax		/* VMRUN takes the VMCB's physical address in RAX */
	mov	0(%rsi), %rbx
	mov	8(%rsi), %rcx
	mov	16(%rsi), %rdx
	mov	32(%rsi), %rdi
	mov	40(%rsi), %rbp
	mov	48(%rsi), %r8
	mov	56(%rsi), %r9
	mov	64(%rsi), %r10
	mov	72(%rsi), %r11
	mov	80(%rsi), %r12
	mov	88(%rsi), %r13
	mov	96(%rsi), %r14
	mov	104(%rsi), %r15
	mov	24(%rsi), %rsi
	clgi
	vmrun	%rax
	/* #VMEXIT: RAX and RSP are the hypervisor's again, the rest the nested guest's. */
	push	%rsi
	mov	8(%rsp), %rsi		/* regs */
	mov	%rbx, 0(%rsi)
	mov	%rcx, 8(%rsi)
	mov	%rdx, 16(%rsi)
	mov	%rdi, 32(%rsi)
	mov	%rbp, 40(%rsi)
	mov	%r8, 48(%rsi)
	mov	%r9, 56(%rsi)
	mov	%r10, 64(%rsi)
	mov	%r11, 72(%rsi)
	mov	%r12, 80(%rsi)
	mov	%r13, 88(%rsi)
	mov	%r14, 96(%rsi)
	mov	%r15, 104(%rsi)
	pop	%rax			/* the nested guest's RSI */
	mov	%rax, 24(%rsi)
	stgi
	add	$8, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret

	.section .note.GNU-stack, "", @progbits
