// SPDX-License-Identifier: GPL-2.0-only
#include "options.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

int options_copy(void *dst, size_t known, const void *src, size_t size, size_t min_size)
{
	const uint8_t *tail = (const uint8_t *)src + known;
	size_t i;

	if (size < min_size)
		return -EINVAL;
	for (i = 0; size > known && i < size - known; i++)
		if (tail[i])
			return -E2BIG;
	memcpy(dst, src, size < known ? size : known);
	return 0;
}

void options_fill(void *dst, size_t size, const void *defaults, size_t known)
{
	memcpy(dst, defaults, size < known ? size : known);
	if (size > known)
		memset((uint8_t *)dst + known, 0, size - known);
}
