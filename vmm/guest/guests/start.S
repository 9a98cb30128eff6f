/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Entry of every guest, linked first at GUEST_CODE_GPA. The VMM starts the vCPU here at
 * CPL3 with the arguments already in RDI, RSI, RDX, RCX, R8 (the SysV order) and RSP at the
 * top of this vCPU's stack.
 */
	.section .text.start, "ax"
	.globl _start
_start:
	andq	$-16, %rsp
	call	guest_main
	/* guest_main never returns; if it did, #UD with no IDT is a triple fault. */
1:	ud2
	jmp	1b

	.section .note.GNU-stack, "", @progbits
