// SPDX-License-Identifier: GPL-2.0-only
/* What each test guest must have produced, computed on the host (guests/guest_math.h). */
#include "guest.h"

#include <errno.h>

#include "guests/guest_math.h"
#include "log.h"

int guest_incrementer_check(const void *slice, uint64_t size, int64_t passes, uint8_t *low,
			    uint64_t *edge)
{
	const uint8_t *mem = slice;
	uint64_t pages = size / GUEST_PAGE_SIZE, p, e = pages;
	uint8_t first, v;

	if (!pages)
		return -EINVAL;
	first = mem[0];
	for (p = 1; p < pages; p++) {
		uint8_t b = mem[p * GUEST_PAGE_SIZE];

		if (e == pages && b != first) {
			/* The edge: the pages after it are one pass behind. */
			if (b != (uint8_t)(first - 1)) {
				pr_err("incrementer: page %lu reads %u after %u: not one edge",
				       (unsigned long)p, b, first);
				return -EINVAL;
			}
			e = p;
		} else if (e != pages && b != (uint8_t)(first - 1)) {
			pr_err("incrementer: page %lu reads %u after the edge at page %lu (%u then "
			       "%u): a second edge", (unsigned long)p, b, (unsigned long)e, first,
			       (uint8_t)(first - 1));
			return -EINVAL;
		}
	}
	/* No edge: every page had the same number of increments. */
	v = e == pages ? first : (uint8_t)(first - 1);
	if (passes >= 0 && v != (uint8_t)passes) {
		pr_err("incrementer: pages after the edge read %u, %ld whole passes were "
		       "reported", v, (long)passes);
		return -EINVAL;
	}
	if (low)
		*low = v;
	if (edge)
		*edge = e == pages ? 0 : e;
	return 0;
}

uint64_t guest_pattern_expected(uint64_t seed, gpa_t gpa, uint64_t size)
{
	uint64_t off, fnv = GUEST_FNV_OFFSET, lo = 0, hi = 0;

	for (off = 0; off < size; off += 16) {
		uint64_t w0 = guest_pattern_word(seed, gpa + off);
		uint64_t w1 = guest_pattern_word(seed, gpa + off + 8);

		lo += w0;
		hi += w1;
		fnv = guest_fnv_fold(guest_fnv_fold(fnv, w0), w1);
	}
	return guest_pattern_result(fnv, lo, hi);
}

uint64_t guest_toucher_simulate(uint64_t seed, unsigned int index, void *mem, uint64_t size,
				uint64_t count)
{
	uint64_t x = guest_toucher_start(seed, index), acc = GUEST_FNV_OFFSET;
	uint64_t pages = size / GUEST_PAGE_SIZE, i;

	for (i = 0; i < count; i++) {
		uint64_t r = guest_toucher_next(&x);
		uint64_t *p = (uint64_t *)((char *)mem + guest_toucher_offset(r, pages));
		uint64_t v = *p;

		acc = guest_fnv_fold(acc, v);
		*p = v + r;
	}
	return acc;
}

uint64_t guest_nested_simulate(uint64_t seed, void *mem, uint64_t size, uint64_t count)
{
	uint64_t *data = mem, words = size / 8, sum = GUEST_FNV_OFFSET, digest = GUEST_FNV_OFFSET;
	uint64_t k, i, *w;

	for (k = 1; k <= count; k++) {
		w = &data[guest_nested_word(seed, k, words)];
		*w = guest_nested_update(*w, guest_nested_msr(seed, k));
		sum = guest_fnv_fold(sum, *w);
	}
	for (i = 0; i < words; i++)
		digest = guest_fnv_fold(digest, data[i]);
	return guest_nested_result(sum, digest);
}

const char *guest_nested_status(uint32_t status)
{
	switch (status) {
	case 0: return "ok";
	case GUEST_NESTED_NO_SVM: return "this vCPU's CPUID has no SVM: the nested guest needs a "
					 "KVM that offers nested virtualization (kvm_amd nested=1)";
	case GUEST_NESTED_BAD_EXIT: return "an unexpected #VMEXIT of the nested guest (the result "
					   "holds its code and exit_info_1)";
	default: return "the hypervisor counted errors in its nested guest's work";
	}
}
