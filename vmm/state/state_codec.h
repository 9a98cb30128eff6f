/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vCPU and VM state to and from protobuf (vcpu_state.proto, beside it).
 *
 * Decoding treats its input as hostile: a buffer over the cap is refused before unpacking,
 * protobuf-c allocates only from a fixed arena, and after unpacking every field is checked
 * for meaning (exact struct sizes, counts within the C arrays, known bits, one of each
 * alternative) before anything is copied into the C struct.
 */
#ifndef VMM_STATE_CODEC_H
#define VMM_STATE_CODEC_H

#include <stddef.h>
#include <sys/types.h>

#include "vcpu_state.h"

#define VCPU_STATE_CODEC_VERSION 1
/* Encodings larger than these are refused unread. */
#define VCPU_STATE_MAX_ENCODED (VCPU_STATE_MAX_XSAVE + VCPU_STATE_MAX_NESTED + 64 * 1024)
#define VM_STATE_MAX_ENCODED (8 * 1024)
/* The decoder's arena: the unpacked message, with copies of its bytes and lists. */
#define STATE_CODEC_ARENA_SIZE (2 * VCPU_STATE_MAX_ENCODED)

/* 0 if the state's counts exceed the C arrays' capacities. */
size_t vcpu_state_encoded_size(const struct vcpu_state *st);
/* Into buf; returns the length, or -EMSGSIZE (more than cap), -EINVAL (bad counts), -ENOMEM. */
ssize_t vcpu_state_encode(const struct vcpu_state *st, void *buf, size_t cap);
/*
 * Returns 0, or -EMSGSIZE (over the cap), -ENOMEM (over the arena) or -EPROTO (malformed
 * or meaningless), with a sentence in err. st is only written on success.
 */
int vcpu_state_decode(const void *buf, size_t len, struct vcpu_state *st, char *err,
		      size_t err_len);

size_t vm_state_encoded_size(const struct vm_state *st);
ssize_t vm_state_encode(const struct vm_state *st, void *buf, size_t cap);
int vm_state_decode(const void *buf, size_t len, struct vm_state *st, char *err,
		    size_t err_len);

#endif
