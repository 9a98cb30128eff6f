/* SPDX-License-Identifier: GPL-2.0-only */
/* Public options structs that carry their size, so that they can grow without breaking callers. */
#ifndef PAGER_OPTIONS_H
#define PAGER_OPTIONS_H

#include <stddef.h>

/*
 * Copies the caller's `size`-byte struct over `known` bytes of defaults at dst: fields past
 * the caller's size keep their defaults; fields past `known` (a newer caller) must be zero.
 * 0, -EINVAL (smaller than the first version, `min_size`), or -E2BIG.
 */
int options_copy(void *dst, size_t known, const void *src, size_t size, size_t min_size);

/* Writes defaults of `known` bytes into a caller's `size`-byte struct, zeroing what is past. */
void options_fill(void *dst, size_t size, const void *defaults, size_t known);

#endif
