/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Log-linear latency histogram: 8 buckets per power of two (relative error under 12.5%),
 * exact below 8, covering all of uint64_t in 496 counters.
 */
#ifndef PAGER_HISTOGRAM_H
#define PAGER_HISTOGRAM_H

#include <stdint.h>

#define HISTOGRAM_SUB_BITS 3u
#define HISTOGRAM_BUCKETS 496u

struct histogram {
	uint64_t count;
	uint64_t sum;
	uint64_t max;
	uint64_t buckets[HISTOGRAM_BUCKETS];
};

unsigned int histogram_bucket_of(uint64_t value);
/* Smallest and largest value a bucket holds. */
uint64_t histogram_bucket_low(unsigned int bucket);
uint64_t histogram_bucket_high(unsigned int bucket);

void histogram_add(struct histogram *h, uint64_t value);
/*
 * The value at quantile q (0 < q <= 1): the upper bound of the bucket holding it, never more
 * than the largest value seen. 0 for an empty histogram.
 */
uint64_t histogram_quantile(const struct histogram *h, double q);

#endif
