/* SPDX-License-Identifier: GPL-2.0-only */
/* The public memory layout (pager.h) and the protocol's own (wire.h), converted at the edge. */
#ifndef PAGER_LAYOUT_WIRE_H
#define PAGER_LAYOUT_WIRE_H

#include "pager.h"
#include "wire.h"

void layout_to_wire(const struct pager_layout *in, struct wire_layout *out);
void layout_from_wire(const struct wire_layout *in, struct pager_layout *out);

#endif
