// SPDX-License-Identifier: GPL-2.0-only
#include "layout_wire.h"

_Static_assert(PAGER_MAX_REGIONS == WIRE_MAX_REGIONS, "one region limit on both sides");
_Static_assert((int)PAGER_BACKING_ANON == (int)WIRE_BACKING_ANON &&
		       (int)PAGER_BACKING_SHMEM == (int)WIRE_BACKING_SHMEM &&
		       (int)PAGER_BACKING_HUGETLB == (int)WIRE_BACKING_HUGETLB,
	       "pager_backing mirrors wire_backing");

void layout_to_wire(const struct pager_layout *in, struct wire_layout *out)
{
	uint32_t i;

	out->n_regions = in->n_regions;
	for (i = 0; i < in->n_regions; i++)
		out->regions[i] = (struct wire_region){
			.id = in->regions[i].id,
			.gpa = in->regions[i].gpa,
			.size = in->regions[i].size,
			.backing = (enum wire_backing)in->regions[i].backing,
		};
}

void layout_from_wire(const struct wire_layout *in, struct pager_layout *out)
{
	uint32_t i;

	out->n_regions = in->n_regions;
	for (i = 0; i < in->n_regions; i++)
		out->regions[i] = (struct pager_region){
			.id = in->regions[i].id,
			.gpa = in->regions[i].gpa,
			.size = in->regions[i].size,
			.backing = (enum pager_backing)in->regions[i].backing,
		};
}
