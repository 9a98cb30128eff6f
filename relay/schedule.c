// SPDX-License-Identifier: GPL-2.0-only
#include "schedule.h"

/* SplitMix64's finaliser: every input bit moves about half of the output bits. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t relay_schedule_draw(uint64_t seed, const struct relay_key *k)
{
	uint64_t h = mix(seed);

	/* Chained rather than XORed together, so that no two fields can cancel each other. */
	h = mix(h ^ k->rule);
	h = mix(h ^ ((uint64_t)k->pair << 32 | (uint64_t)k->channel << 8 | k->dir));
	h = mix(h ^ k->frame);
	return mix(h ^ k->salt);
}

bool relay_schedule_roll(uint64_t seed, const struct relay_key *key, double p)
{
	/* 53 bits: exactly the doubles in [0, 1) with equal spacing. */
	double u = (double)(relay_schedule_draw(seed, key) >> 11) * 0x1p-53;

	return u < p;
}

uint64_t relay_schedule_below(uint64_t seed, const struct relay_key *key, uint64_t n)
{
	/* The product's high half: no modulo bias worth the name for the n used here. */
	return (uint64_t)(((unsigned __int128)relay_schedule_draw(seed, key) * n) >> 64);
}

size_t relay_schedule_preview(uint64_t seed, struct relay_key key, double p, uint64_t upto,
			      uint64_t *out, size_t max)
{
	size_t n = 0;

	key.salt = SALT_ROLL;
	for (key.frame = 0; key.frame < upto && n < max; key.frame++)
		if (relay_schedule_roll(seed, &key, p))
			out[n++] = key.frame;
	return n;
}
