/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The destination's regions: where each lies in this process and the state of each of its
 * pages. Fixed once the pager starts; page states change on the listener only (page_state.h).
 */
#ifndef PAGER_REGION_H
#define PAGER_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "page_state.h"
#include "pager.h"
#include "wire.h"

struct region {
	uint32_t id;
	uint8_t *base;
	uint64_t size;
	bool registered; /* with the userfaultfd */
	/*
	 * Pages of page_size one install covers: 1, or 512 for a hugetlb region, whose 2 MiB
	 * pages are faulted, requested, claimed and installed whole. Page states stay per
	 * page_size page (present bitmaps, counts); a huge page's first page stands for it in
	 * the requested, claimed and waited bits, and all its pages turn present together.
	 */
	uint32_t unit_pages;
	struct page_state pages;
	/*
	 * A memfd region (pager_add_region_memfd()): the pager's own mapping of the same file
	 * pages, unregistered, where pages are written before UFFDIO_CONTINUE maps them at base;
	 * NULL for private anonymous memory. fd: the pager's own copy of the file's fd, and
	 * fd_offset where the region starts in it (discards punch holes there).
	 */
	uint8_t *alias;
	int fd;
	uint64_t fd_offset;
};

struct region_table {
	uint32_t page_size;
	uint32_t n;
	uint64_t pages_total;
	struct region r[PAGER_MAX_REGIONS];
};

void region_table_init(struct region_table *t, uint32_t page_size);
void region_table_free(struct region_table *t);

/*
 * Adds [addr, addr+size) as region `id`, the next in layout order, installed in units of
 * unit_pages pages: unit aligned, no overlap, no page resident yet (it would never fault, so
 * never be fetched: -EEXIST). -errno with the reason in err (empty when the arguments say it
 * all).
 */
int region_table_add(struct region_table *t, uint32_t id, void *addr, uint64_t size,
		     uint32_t unit_pages, char *err, size_t err_len);
/* Takes back the region just added (its registration failed). */
void region_table_drop_last(struct region_table *t);

/*
 * region_memfd.c: makes r a memfd region. The caller's mapping at r->base must be one shared
 * mapping of fd at fd_offset covering the region, the file long enough; the pager keeps its
 * own copy of fd and maps the file a second time (r->alias). -errno with the reason in err.
 */
int region_memfd_attach(struct region *r, int fd, uint64_t fd_offset, char *err,
			size_t err_len);
/* Unmaps the alias and closes the pager's fd (nothing for an anonymous region). */
void region_memfd_detach(struct region *r);

/*
 * The regions as the protocol checks page headers against them: sizes in layout order (the
 * destination does not know the source's guest-physical addresses, nor needs them).
 */
void region_table_wire_layout(const struct region_table *t, struct wire_layout *out);

/* The region holding addr, or NULL. */
struct region *region_find(const struct region_table *t, uint64_t addr);
/* Pages not present yet, in every region; any thread. */
uint64_t region_table_missing(const struct region_table *t);

static inline uint64_t region_page_of(const struct region_table *t, const struct region *r,
				      uint64_t addr)
{
	return (addr - (uintptr_t)r->base) / t->page_size;
}

static inline uint8_t *region_page_addr(const struct region_table *t, const struct region *r,
					uint64_t page)
{
	return r->base + page * t->page_size;
}

/* The first page of the unit (huge page) holding page. */
static inline uint64_t region_unit_first(const struct region *r, uint64_t page)
{
	return page - page % r->unit_pages;
}

static inline bool region_is_hugetlb(const struct region *r)
{
	return r->unit_pages > 1;
}

/*
 * region_hugetlb.c: checks that [addr, addr+size) is one private mapping of 2 MiB hugetlb
 * pages. -errno with the reason in err.
 */
int region_check_hugetlb(void *addr, uint64_t size, char *err, size_t err_len);

/* Where the pager writes a page of a memfd region before mapping it. */
static inline uint8_t *region_alias_addr(const struct region_table *t, const struct region *r,
					 uint64_t page)
{
	return r->alias + page * t->page_size;
}

#endif
