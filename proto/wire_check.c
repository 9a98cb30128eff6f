// SPDX-License-Identifier: GPL-2.0-only
/* Meaning checks after unpacking: a message that decodes is not yet a message we accept. */
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#define fail(err, err_len, code, ...)                         \
	({                                                    \
		snprintf((err), (err_len), __VA_ARGS__);      \
		(code);                                       \
	})

int wire_check_hello(const Wire__Hello *hello, uint32_t page_size, Wire__Channel channel,
		     char *err, size_t err_len)
{
	if (hello->magic != WIRE_MAGIC)
		return fail(err, err_len, -EPROTO, "bad magic 0x%08x (expected 0x%08x): not a pager peer",
			    hello->magic, WIRE_MAGIC);
	if (hello->version != WIRE_VERSION)
		return fail(err, err_len, -EPROTONOSUPPORT,
			    "protocol version %u, this end speaks version %u", hello->version,
			    WIRE_VERSION);
	if (hello->page_size != page_size)
		return fail(err, err_len, -EPROTO, "page size %u, this end uses %u", hello->page_size,
			    page_size);
	if (hello->features)
		return fail(err, err_len, -EPROTO, "unknown feature bits 0x%" PRIx64, hello->features);
	if (channel != WIRE__CHANNEL__CHANNEL_UNSPECIFIED && hello->channel != channel)
		return fail(err, err_len, -EPROTO, "channel %d, expected %d", hello->channel, channel);
	if (hello->channel != WIRE__CHANNEL__CHANNEL_DEMAND &&
	    hello->channel != WIRE__CHANNEL__CHANNEL_PUSH &&
	    hello->channel != WIRE__CHANNEL__CHANNEL_BOTH)
		return fail(err, err_len, -EPROTO, "unknown channel %d", hello->channel);
	if (hello->token.len > WIRE_MAX_TOKEN)
		return fail(err, err_len, -EPROTO, "a session token of %zu bytes, at most %u",
			    hello->token.len, WIRE_MAX_TOKEN);
	return 0;
}

int wire_layout_from_msg(const Wire__MemoryLayout *msg, uint32_t page_size,
			 struct wire_layout *layout, char *err, size_t err_len)
{
	uint64_t mask = page_size - 1;
	size_t i, j;

	if (msg->n_regions == 0)
		return fail(err, err_len, -EINVAL, "memory layout has no region");
	if (msg->n_regions > WIRE_MAX_REGIONS)
		return fail(err, err_len, -E2BIG, "memory layout has %zu regions, at most %u",
			    msg->n_regions, WIRE_MAX_REGIONS);
	for (i = 0; i < msg->n_regions; i++) {
		const Wire__Region *r = msg->regions[i];

		if (r->id != i)
			return fail(err, err_len, -EINVAL, "region %zu has id %u (ids are 0..n-1 in order)",
				    i, r->id);
		if (!r->size || (r->size & mask) || (r->guest_phys_addr & mask))
			return fail(err, err_len, -EINVAL,
				    "region %u: address 0x%" PRIx64 " size 0x%" PRIx64
				    " not page aligned or empty",
				    r->id, r->guest_phys_addr, r->size);
		if (r->guest_phys_addr + r->size < r->guest_phys_addr)
			return fail(err, err_len, -EINVAL, "region %u wraps the address space", r->id);
		if (r->backing < WIRE__BACKING__BACKING_ANON || r->backing > WIRE__BACKING__BACKING_HUGETLB)
			return fail(err, err_len, -EINVAL, "region %u: unknown backing %d", r->id,
				    r->backing);
		if (r->backing == WIRE__BACKING__BACKING_HUGETLB &&
		    ((r->size | r->guest_phys_addr) & (WIRE_HUGE_PAGE_SIZE - 1)))
			return fail(err, err_len, -EINVAL,
				    "region %u: hugetlb address 0x%" PRIx64 " size 0x%" PRIx64
				    " not 2 MiB aligned", r->id, r->guest_phys_addr, r->size);
		for (j = 0; j < i; j++) {
			const struct wire_region *o = &layout->regions[j];

			if (r->guest_phys_addr < o->gpa + o->size &&
			    o->gpa < r->guest_phys_addr + r->size)
				return fail(err, err_len, -EINVAL, "regions %u and %u overlap", o->id,
					    r->id);
		}
		layout->regions[i] = (struct wire_region){
			.id = r->id,
			.gpa = r->guest_phys_addr,
			.size = r->size,
			.backing = (enum wire_backing)r->backing,
		};
	}
	layout->n_regions = (uint32_t)msg->n_regions;
	return 0;
}

void wire_layout_to_msg(const struct wire_layout *layout, Wire__MemoryLayout *msg,
			Wire__Region *region_storage, Wire__Region **region_ptrs)
{
	uint32_t i;

	wire__memory_layout__init(msg);
	for (i = 0; i < layout->n_regions; i++) {
		wire__region__init(&region_storage[i]);
		region_storage[i].id = layout->regions[i].id;
		region_storage[i].guest_phys_addr = layout->regions[i].gpa;
		region_storage[i].size = layout->regions[i].size;
		region_storage[i].backing = (Wire__Backing)layout->regions[i].backing;
		region_ptrs[i] = &region_storage[i];
	}
	msg->n_regions = layout->n_regions;
	msg->regions = region_ptrs;
}

static int check_range(const struct wire_layout *layout, uint32_t page_size, uint32_t region,
		       uint64_t offset, uint64_t length, char *err, size_t err_len)
{
	const struct wire_region *r;

	if (region >= layout->n_regions)
		return fail(err, err_len, -ERANGE, "region %u does not exist (%u regions)", region,
			    layout->n_regions);
	r = &layout->regions[region];
	if (offset & (page_size - 1))
		return fail(err, err_len, -EINVAL, "offset 0x%" PRIx64 " is not page aligned", offset);
	if (offset >= r->size || length > r->size - offset)
		return fail(err, err_len, -ERANGE,
			    "range 0x%" PRIx64 "+0x%" PRIx64 " outside region %u (size 0x%" PRIx64 ")",
			    offset, length, region, r->size);
	return 0;
}

/*
 * A HUGETLB region's ranges are whole huge pages (v4); region is known to exist. what names
 * the range in the message.
 */
static int check_unit(const struct wire_layout *layout, uint32_t page_size, uint32_t region,
		      uint64_t offset, uint64_t length, const char *what, char *err,
		      size_t err_len)
{
	uint64_t unit = wire_region_unit(&layout->regions[region], page_size);

	if (unit == page_size || !((offset | length) & (unit - 1)))
		return 0;
	return fail(err, err_len, -EINVAL,
		    "%s 0x%" PRIx64 "+0x%" PRIx64 " of hugetlb region %u is not whole 2 MiB pages",
		    what, offset, length, region);
}

int wire_check_page_request(const Wire__PageRequest *req, const struct wire_layout *layout,
			    uint32_t page_size, char *err, size_t err_len)
{
	uint64_t length = (uint64_t)req->count * page_size;
	int ret;

	if (req->region < layout->n_regions &&
	    layout->regions[req->region].backing == WIRE_BACKING_HUGETLB) {
		if (length != WIRE_HUGE_PAGE_SIZE)
			return fail(err, err_len, -EINVAL, "request for %u pages of hugetlb "
				    "region %u (one 2 MiB page: %u)", req->count, req->region,
				    WIRE_HUGE_PAGE_SIZE / page_size);
		ret = check_range(layout, page_size, req->region, req->offset, length, err,
				  err_len);
		return ret ? ret : check_unit(layout, page_size, req->region, req->offset, length,
					      "request", err, err_len);
	}
	if (req->count == 0 || req->count > WIRE_MAX_REQUEST_PAGES)
		return fail(err, err_len, -EINVAL, "request for %u pages (1..%u)", req->count,
			    WIRE_MAX_REQUEST_PAGES);
	return check_range(layout, page_size, req->region, req->offset, length, err, err_len);
}

int wire_check_discard(const Wire__Discard *msg, const struct wire_layout *layout,
		       uint32_t page_size, char *err, size_t err_len)
{
	size_t i;
	int ret;

	if (msg->n_offsets != msg->n_counts || !msg->n_offsets ||
	    msg->n_offsets > WIRE_MAX_DISCARD_RANGES)
		return fail(err, err_len, -EINVAL, "discard of %zu offsets and %zu counts (1..%u)",
			    msg->n_offsets, msg->n_counts, WIRE_MAX_DISCARD_RANGES);
	for (i = 0; i < msg->n_offsets; i++) {
		if (!msg->counts[i])
			return fail(err, err_len, -EINVAL, "discard range %zu is empty", i);
		ret = check_range(layout, page_size, msg->region, msg->offsets[i],
				  (uint64_t)msg->counts[i] * page_size, err, err_len);
		if (!ret)
			ret = check_unit(layout, page_size, msg->region, msg->offsets[i],
					 (uint64_t)msg->counts[i] * page_size, "discard", err,
					 err_len);
		if (ret)
			return ret;
	}
	return 0;
}

int wire_check_page_header(const Wire__PageHeader *hdr, const struct wire_layout *layout,
			   uint32_t page_size, char *err, size_t err_len)
{
	bool huge = hdr->region < layout->n_regions &&
		    layout->regions[hdr->region].backing == WIRE_BACKING_HUGETLB;
	int ret;

	if (hdr->flags & ~WIRE_PAGE_FLAGS_KNOWN)
		return fail(err, err_len, -EINVAL, "unknown page flags 0x%x", hdr->flags);
	if (huge && hdr->length != WIRE_HUGE_PAGE_SIZE)
		return fail(err, err_len, -EINVAL,
			    "page length %u in hugetlb region %u (one 2 MiB page: %u)",
			    hdr->length, hdr->region, WIRE_HUGE_PAGE_SIZE);
	if (!huge && (!hdr->length || hdr->length % page_size || hdr->length > WIRE_MAX_PAGE_RUN))
		return fail(err, err_len, -EINVAL,
			    "page length %u is not a non-zero multiple of %u up to %u", hdr->length,
			    page_size, WIRE_MAX_PAGE_RUN);
	if (!!(hdr->flags & WIRE_PAGE_FLAG_DEMAND) != !!hdr->request_id)
		return fail(err, err_len, -EINVAL, "demand flag and request id %" PRIu64 " disagree",
			    hdr->request_id);
	ret = check_range(layout, page_size, hdr->region, hdr->offset, hdr->length, err, err_len);
	if (!ret && huge)
		ret = check_unit(layout, page_size, hdr->region, hdr->offset, hdr->length, "page",
				 err, err_len);
	return ret;
}

int wire_check_present_bitmap(const Wire__PresentBitmap *msg, const struct wire_layout *layout,
			      uint32_t page_size, char *err, size_t err_len)
{
	uint64_t pages = (uint64_t)msg->bits.len * 8;
	const struct wire_region *r;

	if (!msg->bits.len || msg->bits.len > WIRE_MAX_BITMAP_BYTES || msg->first_page % 8)
		return fail(err, err_len, -EINVAL,
			    "present bitmap of %zu bytes at page %" PRIu64 " (1..%u bytes, at a "
			    "multiple of 8 pages)", msg->bits.len, msg->first_page,
			    WIRE_MAX_BITMAP_BYTES);
	if (msg->region >= layout->n_regions)
		return fail(err, err_len, -ERANGE, "region %u does not exist (%u regions)",
			    msg->region, layout->n_regions);
	r = &layout->regions[msg->region];
	/* The last byte may run past the region's end: the receiver ignores its spare bits. */
	if (msg->first_page >= r->size / page_size ||
	    pages - 8 >= r->size / page_size - msg->first_page)
		return fail(err, err_len, -ERANGE,
			    "present bitmap of pages %" PRIu64 "+%" PRIu64 " outside region %u",
			    msg->first_page, pages, msg->region);
	return 0;
}
