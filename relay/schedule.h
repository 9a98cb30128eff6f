/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The seeded schedule: every random decision of the fault layer is a pure function of the
 * seed and of what it is about (rule, connection pair, channel, direction, frame index), never
 * of time or of the order in which threads ask. So the same seed and spec make the same
 * decisions on the same frames however the run's timing differs, and a decision can be
 * computed ahead (the schedule a run prints with --log-schedule).
 */
#ifndef RELAY_SCHEDULE_H
#define RELAY_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct relay_key {
	uint32_t rule;    /* index in the spec */
	uint32_t pair;    /* connection pair, in the order the relay saw them, from 0 */
	uint32_t channel; /* RELAY_CH_* */
	uint32_t dir;     /* RELAY_DIR_* */
	uint64_t frame;   /* index of the frame in its stream (pair, channel, direction) */
	uint32_t salt;    /* which of the draws made for that frame */
};

/* The draws one frame may need, each independent of the others. */
enum relay_salt {
	SALT_ROLL,    /* does a probabilistic rule fire */
	SALT_DELAY,   /* where in a delay range */
	SALT_REORDER, /* which held frame leaves the window */
	SALT_FLIP,    /* the first flipped bit; SALT_FLIP + k the k-th */
};

uint64_t relay_schedule_draw(uint64_t seed, const struct relay_key *key);
/* True with probability p. */
bool relay_schedule_roll(uint64_t seed, const struct relay_key *key, double p);
/* Uniform in [0, n) (n > 0). */
uint64_t relay_schedule_below(uint64_t seed, const struct relay_key *key, uint64_t n);

/*
 * The frame indices in [0, upto) of one stream at which a roll with probability p passes, at
 * most max of them in out: what a probabilistic rule will hit. Returns how many were found.
 */
size_t relay_schedule_preview(uint64_t seed, struct relay_key key, double p, uint64_t upto,
			      uint64_t *out, size_t max);

#endif
