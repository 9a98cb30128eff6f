// SPDX-License-Identifier: GPL-2.0-only
/*
 * A memfd region's file side: the caller's mapping checked against the file it names, the
 * pager's own copy of the fd, and the second mapping the pager writes pages through.
 */
#include "region.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/*
 * The caller's mapping of [addr, addr+size) must be one shared mapping of this very file at
 * fd_offset: pages written into the file through another fd or offset would never show up
 * there, and a private mapping would keep copies of its own.
 */
static int check_mapping(const struct stat *st, uint8_t *addr, uint64_t size,
			 uint64_t fd_offset, char *err, size_t err_len)
{
	unsigned long long start, end, offset, inode;
	unsigned int major, minor;
	char line[512], perms[8];
	FILE *maps = fopen("/proc/self/maps", "re");
	int ret = -EINVAL;

	if (!maps) {
		snprintf(err, err_len, "memfd region: /proc/self/maps: %s", strerror(errno));
		return -errno;
	}
	snprintf(err, err_len, "memfd region at %p: no mapping there", (void *)addr);
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &start, &end, perms, &offset, &major,
			   &minor, &inode) != 7 ||
		    (uintptr_t)addr < start || (uintptr_t)addr >= end)
			continue;
		if ((uintptr_t)addr + size > end)
			snprintf(err, err_len, "memfd region at %p: its %" PRIu64 " bytes are not one "
				 "mapping", (void *)addr, size);
		else if (perms[3] != 's')
			snprintf(err, err_len, "memfd region at %p: the mapping is private (it must "
				 "be MAP_SHARED)", (void *)addr);
		else if (inode != st->st_ino || makedev(major, minor) != st->st_dev ||
			 offset + ((uintptr_t)addr - start) != fd_offset)
			snprintf(err, err_len, "memfd region at %p: the mapping is not of this fd at "
				 "offset 0x%" PRIx64, (void *)addr, fd_offset);
		else
			ret = 0;
		break;
	}
	fclose(maps);
	return ret;
}

int region_memfd_attach(struct region *r, int fd, uint64_t fd_offset, char *err,
			size_t err_len)
{
	struct stat st;
	void *alias;
	int own, ret;

	if (fstat(fd, &st)) {
		snprintf(err, err_len, "memfd region: fstat: %s", strerror(errno));
		return -errno;
	}
	if ((uint64_t)st.st_size < fd_offset + r->size) {
		snprintf(err, err_len, "memfd region: the file has %lld bytes, the region needs "
			 "%" PRIu64, (long long)st.st_size, fd_offset + r->size);
		return -EINVAL;
	}
	ret = check_mapping(&st, r->base, r->size, fd_offset, err, err_len);
	if (ret)
		return ret;
	/* The pager's own fd: the caller may close its one. */
	own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (own < 0) {
		snprintf(err, err_len, "memfd region: dup: %s", strerror(errno));
		return -errno;
	}
	alias = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, own, (off_t)fd_offset);
	if (alias == MAP_FAILED) {
		ret = -errno;
		snprintf(err, err_len, "memfd region: mapping the file a second time: %s",
			 strerror(errno));
		close(own);
		return ret;
	}
	/* 4 KiB pages, as the guest's mapping gets them: no huge page to collapse under it. */
	madvise(alias, r->size, MADV_NOHUGEPAGE);
	r->alias = alias;
	r->fd = own;
	r->fd_offset = fd_offset;
	return 0;
}

void region_memfd_detach(struct region *r)
{
	if (!r->alias)
		return;
	munmap(r->alias, r->size);
	close(r->fd);
	r->alias = NULL;
	r->fd = -1;
}
