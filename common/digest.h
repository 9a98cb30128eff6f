/* SPDX-License-Identifier: GPL-2.0-only */
/* Memory digests: equal digests mean byte-identical memory, page by page. */
#ifndef COMMON_DIGEST_H
#define COMMON_DIGEST_H

#include <stddef.h>
#include <stdint.h>

struct digest {
	void *state; /* XXH3 streaming state */
};

int digest_init(struct digest *d);
/* Feeds len bytes as they are (for messages; memory goes page by page, below). */
void digest_update(struct digest *d, const void *data, size_t len);
/* Feeds the pages of [addr, addr+size) in order; order matters. */
void digest_update_pages(struct digest *d, const void *addr, uint64_t size, size_t page_size);
uint64_t digest_final(struct digest *d);

/*
 * The same digest built page by page, in any order of arrival: keep digest_page() of each page
 * in its slot, then digest_of_page_hashes() over the slots in page order.
 */
uint64_t digest_page(const void *page, size_t page_size);
uint64_t digest_of_page_hashes(const uint64_t *hashes, uint64_t n_pages);

/* Digest of one contiguous range, pages in order. */
uint64_t digest_range(const void *addr, uint64_t size, size_t page_size);

#endif
