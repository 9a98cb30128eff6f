// SPDX-License-Identifier: GPL-2.0-only
#include "digest.h"

#include <errno.h>
#include <xxhash.h>

int digest_init(struct digest *d)
{
	d->state = XXH3_createState();
	if (!d->state)
		return -ENOMEM;
	XXH3_64bits_reset(d->state);
	return 0;
}

void digest_update(struct digest *d, const void *data, size_t len)
{
	XXH3_64bits_update(d->state, data, len);
}

void digest_update_pages(struct digest *d, const void *addr, uint64_t size, size_t page_size)
{
	uint64_t off;

	/* Hash of per-page hashes: the same value whether pages arrive in one range or many. */
	for (off = 0; off < size; off += page_size) {
		uint64_t h = digest_page((const char *)addr + off, page_size);

		XXH3_64bits_update(d->state, &h, sizeof(h));
	}
}

uint64_t digest_page(const void *page, size_t page_size)
{
	return XXH3_64bits(page, page_size);
}

uint64_t digest_of_page_hashes(const uint64_t *hashes, uint64_t n_pages)
{
	/* Streaming XXH3 over the per-page hashes equals one-shot XXH3 over the same bytes. */
	return XXH3_64bits(hashes, n_pages * sizeof(*hashes));
}

uint64_t digest_final(struct digest *d)
{
	uint64_t h = XXH3_64bits_digest(d->state);

	XXH3_freeState(d->state);
	d->state = NULL;
	return h;
}

uint64_t digest_range(const void *addr, uint64_t size, size_t page_size)
{
	struct digest d;

	if (digest_init(&d))
		return 0;
	digest_update_pages(&d, addr, size, page_size);
	return digest_final(&d);
}
