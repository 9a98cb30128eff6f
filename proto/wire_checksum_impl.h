/* SPDX-License-Identifier: GPL-2.0-only */
/* The checksum's payload hash per instruction set, chosen once at run time (wire_checksum.c). */
#ifndef WIRE_CHECKSUM_IMPL_H
#define WIRE_CHECKSUM_IMPL_H

#include <stddef.h>
#include <stdint.h>

uint64_t wire_checksum_hash_avx2(const void *payload, size_t len, uint64_t seed);

#endif
