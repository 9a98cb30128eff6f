/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The arithmetic the guests compute, shared with the host checkers (guest_check.c) so the
 * host can compute what a guest must have produced. Pure functions of their arguments.
 */
#ifndef VMM_GUEST_MATH_H
#define VMM_GUEST_MATH_H

#include <stdint.h>

static inline uint64_t guest_mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Pattern guest: the word at guest-physical address gpa. */
static inline uint64_t guest_pattern_word(uint64_t seed, uint64_t gpa)
{
	return guest_mix64(seed ^ gpa);
}

/* Pattern guest: the checksum folds each word read back, in address order (FNV-1a style). */
#define GUEST_FNV_OFFSET 0xcbf29ce484222325ull
#define GUEST_FNV_PRIME 0x100000001b3ull
static inline uint64_t guest_fnv_fold(uint64_t sum, uint64_t word)
{
	return (sum ^ word) * GUEST_FNV_PRIME;
}

/*
 * The pattern guest's result: the FNV fold, plus the plain sum of the words, which the
 * guest keeps in an SSE register (so a lost XSAVE state changes the answer).
 */
static inline uint64_t guest_pattern_result(uint64_t fnv, uint64_t add_lo, uint64_t add_hi)
{
	return fnv ^ (add_lo + add_hi);
}

/* Toucher guest: xorshift64* from a per-vCPU start that is never zero. */
static inline uint64_t guest_toucher_start(uint64_t seed, uint64_t index)
{
	return guest_mix64(seed ^ ((index + 1) * 0x9e3779b97f4a7c15ull)) | 1;
}

static inline uint64_t guest_toucher_next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

/* One toucher step: which word it touches, from the random value r. */
static inline uint64_t guest_toucher_offset(uint64_t r, uint64_t pages)
{
	uint64_t page = (r >> 12) % pages;
	uint64_t word = (r >> 52) & 511;

	return page * 4096 + word * 8;
}

/* Nested guest (guest_abi.h): what the hypervisor answers to step k's RDMSR. */
static inline uint64_t guest_nested_msr(uint64_t seed, uint64_t k)
{
	return guest_mix64(seed ^ (k * 0xd1b54a32d192ed03ull));
}

/* Nested guest: the word step k updates, of words in its data. */
static inline uint64_t guest_nested_word(uint64_t seed, uint64_t k, uint64_t words)
{
	return guest_mix64(seed + k) % words;
}

/*
 * Nested guest: the new value of the word. The rounds keep the nested guest busy between
 * exits, so that a vCPU stopped at a random moment is most likely in guest mode.
 */
#define GUEST_NESTED_ROUNDS 256
static inline uint64_t guest_nested_update(uint64_t old, uint64_t msr_value)
{
	uint64_t x = old ^ msr_value;
	unsigned int i;

	for (i = 0; i < GUEST_NESTED_ROUNDS; i++)
		x = guest_mix64(x);
	return x;
}

/* The hypervisor's result: its fold of every word it checked, then of every data word. */
static inline uint64_t guest_nested_result(uint64_t sum, uint64_t digest)
{
	return sum ^ (digest * GUEST_FNV_PRIME);
}

#endif
