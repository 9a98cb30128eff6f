/* SPDX-License-Identifier: GPL-2.0-only */
/* The memory layout both ends of a migration agree on (part of the public pager API). */
#ifndef PAGER_LAYOUT_H
#define PAGER_LAYOUT_H

#include <stdint.h>

#define PAGER_MAX_REGIONS 64u

enum pager_backing {
	PAGER_BACKING_ANON = 1,    /* private anonymous memory (the one served in v1) */
	PAGER_BACKING_SHMEM = 2,   /* memfd / shmem */
	PAGER_BACKING_HUGETLB = 3, /* hugetlbfs, 2 MiB pages */
};

struct pager_region {
	uint32_t id;  /* 0..n_regions-1, in order */
	uint64_t gpa; /* guest-physical address (or any address space the owner uses) */
	uint64_t size;
	enum pager_backing backing;
};

struct pager_layout {
	uint32_t n_regions;
	struct pager_region regions[PAGER_MAX_REGIONS];
};

#endif
