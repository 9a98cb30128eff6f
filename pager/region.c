// SPDX-License-Identifier: GPL-2.0-only
#include "region.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void region_table_init(struct region_table *t, uint32_t page_size)
{
	memset(t, 0, sizeof(*t));
	t->page_size = page_size;
}

void region_table_free(struct region_table *t)
{
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		page_state_free(&t->r[i].pages);
		region_memfd_detach(&t->r[i]);
	}
	t->n = 0;
}

/* Pages looked at per mincore() call: the vector stays small whatever the region's size. */
#define MINCORE_CHUNK_PAGES 4096u

/* A resident page would never fault, so it would never be fetched: refuse such memory. */
static int check_untouched(void *addr, uint64_t size, uint32_t page_size, char *err,
			   size_t err_len)
{
	unsigned char vec[MINCORE_CHUNK_PAGES];
	uint64_t pages = size / page_size, first, n, i;

	for (first = 0; first < pages; first += n) {
		n = pages - first < MINCORE_CHUNK_PAGES ? pages - first : MINCORE_CHUNK_PAGES;
		if (mincore((uint8_t *)addr + first * page_size, n * page_size, vec))
			return -errno;
		for (i = 0; i < n; i++) {
			if (vec[i] & 1) {
				snprintf(err, err_len,
					 "region at %p: page at offset 0x%llx is already resident; "
					 "register memory before anything touches it",
					 addr, (unsigned long long)((first + i) * page_size));
				return -EEXIST;
			}
		}
	}
	return 0;
}

int region_table_add(struct region_table *t, uint32_t id, void *addr, uint64_t size,
		     uint32_t unit_pages, char *err, size_t err_len)
{
	uint64_t unit = (uint64_t)unit_pages * t->page_size;
	struct region *r;
	uint32_t i;
	int ret;

	*err = '\0';
	if (id != t->n || id >= PAGER_MAX_REGIONS) {
		snprintf(err, err_len, "region id %u: regions are added in layout order (next is %u)",
			 id, t->n);
		return -EINVAL;
	}
	if (!size || size % unit || (uintptr_t)addr % unit) {
		snprintf(err, err_len, "region %u at %p, %llu bytes: not a non-empty range aligned "
			 "to its %llu-byte pages", id, addr, (unsigned long long)size,
			 (unsigned long long)unit);
		return -EINVAL;
	}
	for (i = 0; i < t->n; i++) {
		const struct region *o = &t->r[i];

		if ((uint8_t *)addr < o->base + o->size && o->base < (uint8_t *)addr + size)
			return -EINVAL;
	}
	ret = check_untouched(addr, size, t->page_size, err, err_len);
	if (ret)
		return ret;
	r = &t->r[id];
	ret = page_state_init(&r->pages, size / t->page_size);
	if (ret)
		return ret;
	r->id = id;
	r->base = addr;
	r->size = size;
	r->registered = false;
	r->unit_pages = unit_pages;
	r->alias = NULL;
	r->fd = -1;
	r->fd_offset = 0;
	t->n++;
	t->pages_total += size / t->page_size;
	return 0;
}

void region_table_drop_last(struct region_table *t)
{
	struct region *r = &t->r[t->n - 1];

	t->pages_total -= r->size / t->page_size;
	page_state_free(&r->pages);
	region_memfd_detach(r);
	t->n--;
}

struct region *region_find(const struct region_table *t, uint64_t addr)
{
	uint32_t i;

	for (i = 0; i < t->n; i++) {
		const struct region *r = &t->r[i];

		if (addr >= (uintptr_t)r->base && addr - (uintptr_t)r->base < r->size)
			return (struct region *)r; /* like strchr: the caller's table decides */
	}
	return NULL;
}

uint64_t region_table_missing(const struct region_table *t)
{
	uint64_t missing = 0;
	uint32_t i;

	for (i = 0; i < t->n; i++)
		missing += page_state_missing(&t->r[i].pages);
	return missing;
}

void region_table_wire_layout(const struct region_table *t, struct wire_layout *out)
{
	uint32_t i;

	out->n_regions = t->n;
	for (i = 0; i < t->n; i++)
		out->regions[i] = (struct wire_region){
			.id = i,
			.size = t->r[i].size,
			.backing = t->r[i].alias		  ? WIRE_BACKING_SHMEM
				   : region_is_hugetlb(&t->r[i]) ? WIRE_BACKING_HUGETLB
								  : WIRE_BACKING_ANON,
		};
}
