// SPDX-License-Identifier: GPL-2.0-only
/*
 * A hugetlb region's memory checked before it is registered: userfaultfd would take any
 * hugetlb mapping, but the pager installs 2 MiB pages and discards by zapping them, which
 * makes them missing again only in a private mapping (a shared one keeps them in its file).
 */
#include "region.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"

/* The mapping's "KernelPageSize:" line in smaps, in KiB (0 when not found). */
static unsigned long kernel_page_kib(FILE *smaps)
{
	unsigned long kib;
	char line[256];

	while (fgets(line, sizeof(line), smaps)) {
		if (sscanf(line, "KernelPageSize: %lu kB", &kib) == 1)
			return kib;
	}
	return 0;
}

int region_check_hugetlb(void *addr, uint64_t size, char *err, size_t err_len)
{
	unsigned long long start, end;
	FILE *smaps = fopen("/proc/self/smaps", "re");
	char line[512], perms[8];
	unsigned long kib;
	int ret = -EINVAL;

	if (!smaps) {
		snprintf(err, err_len, "hugetlb region: /proc/self/smaps: %s", strerror(errno));
		return -errno;
	}
	snprintf(err, err_len, "hugetlb region at %p: no mapping there", addr);
	while (fgets(line, sizeof(line), smaps)) {
		/* Only a mapping's first line starts with its range. */
		if (sscanf(line, "%llx-%llx %7s ", &start, &end, perms) != 3 ||
		    (uintptr_t)addr < start || (uintptr_t)addr >= end)
			continue;
		kib = kernel_page_kib(smaps);
		if ((uintptr_t)addr + size > end)
			snprintf(err, err_len, "hugetlb region at %p: its %" PRIu64 " bytes are not "
				 "one mapping", addr, size);
		else if (kib * 1024 != WIRE_HUGE_PAGE_SIZE)
			snprintf(err, err_len, "hugetlb region at %p: the mapping has %lu KiB pages, "
				 "not 2 MiB hugetlb pages (MAP_HUGETLB | MAP_HUGE_2MB)", addr, kib);
		else if (perms[3] != 'p')
			snprintf(err, err_len, "hugetlb region at %p: the mapping is shared (it must "
				 "be MAP_PRIVATE: a discarded page would stay in its file)", addr);
		else
			ret = 0;
		break;
	}
	fclose(smaps);
	return ret;
}
