// SPDX-License-Identifier: GPL-2.0-only
#include "histogram.h"

#include <math.h>

#define SUB_COUNT (1u << HISTOGRAM_SUB_BITS)

unsigned int histogram_bucket_of(uint64_t value)
{
	unsigned int exp, sub;

	if (value < SUB_COUNT)
		return (unsigned int)value;
	exp = 63u - (unsigned int)__builtin_clzll(value);
	sub = (unsigned int)(value >> (exp - HISTOGRAM_SUB_BITS)) & (SUB_COUNT - 1);
	return (exp - HISTOGRAM_SUB_BITS + 1) * SUB_COUNT + sub;
}

uint64_t histogram_bucket_low(unsigned int bucket)
{
	unsigned int exp, sub;

	if (bucket < SUB_COUNT)
		return bucket;
	exp = bucket / SUB_COUNT + HISTOGRAM_SUB_BITS - 1;
	sub = bucket % SUB_COUNT;
	return (uint64_t)(SUB_COUNT + sub) << (exp - HISTOGRAM_SUB_BITS);
}

uint64_t histogram_bucket_high(unsigned int bucket)
{
	if (bucket < SUB_COUNT)
		return bucket;
	if (bucket == HISTOGRAM_BUCKETS - 1)
		return UINT64_MAX;
	return histogram_bucket_low(bucket + 1) - 1;
}

void histogram_add(struct histogram *h, uint64_t value)
{
	h->buckets[histogram_bucket_of(value)]++;
	h->count++;
	h->sum += value;
	if (value > h->max)
		h->max = value;
}

uint64_t histogram_quantile(const struct histogram *h, double q)
{
	uint64_t rank, seen = 0, high;
	unsigned int b;

	if (!h->count)
		return 0;
	rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (b = 0; b < HISTOGRAM_BUCKETS; b++) {
		seen += h->buckets[b];
		if (seen >= rank) {
			high = histogram_bucket_high(b);
			return high < h->max ? high : h->max;
		}
	}
	return h->max;
}
