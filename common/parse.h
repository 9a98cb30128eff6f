/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line value parsing shared by the programs. */
#ifndef COMMON_PARSE_H
#define COMMON_PARSE_H

#include <stdint.h>

/* "4096", "64K", "256M", "1G" (binary units). 0 or -EINVAL. */
int parse_size(const char *text, uint64_t *out);
/* A whole number in [min, max]. 0 or -EINVAL. */
int parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out);

#endif
