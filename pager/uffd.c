// SPDX-License-Identifier: GPL-2.0-only
#include "uffd.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UFFD_PRIVILEGE_HELP                                                                  \
	"kernel-mode faults (KVM touching guest memory inside an ioctl) need one of: "        \
	"CAP_SYS_PTRACE, sysctl vm.unprivileged_userfaultfd=1, or read/write access to "     \
	"/dev/userfaultfd (e.g. a 'kvm' group ACL on it); user-mode-only faults are never "  \
	"used because KVM's own accesses would then fail"

static int uffd_open_raw(void)
{
	int fd, dev, err;

	fd = (int)syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0)
		return fd;
	err = -errno;
	/* The device grants kernel-fault delivery by file access instead of capability. */
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return err == -ENOSYS ? -ENOSYS : err;
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		err = -errno;
	close(dev);
	return fd >= 0 ? fd : err;
}

int uffd_probe_features(uint64_t *features)
{
	struct uffdio_api api = { .api = UFFD_API, .features = 0 };
	int fd = uffd_open_raw(), err = 0;

	if (fd < 0)
		return fd;
	if (ioctl(fd, UFFDIO_API, &api))
		err = -errno;
	else
		*features = api.features;
	close(fd);
	return err;
}

int uffd_open(uint64_t features, uint64_t *supported, char *err, size_t err_len)
{
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	uint64_t have = 0;
	int fd, ret;

	ret = uffd_probe_features(&have);
	if (ret == -EPERM || ret == -EACCES) {
		snprintf(err, err_len, "userfaultfd: permission denied (%s); " UFFD_PRIVILEGE_HELP,
			 strerror(-ret));
		return ret;
	}
	if (ret == -ENOSYS) {
		snprintf(err, err_len, "userfaultfd: not built into this kernel (CONFIG_USERFAULTFD)");
		return ret;
	}
	if (ret) {
		snprintf(err, err_len, "userfaultfd: API probe failed: %s", strerror(-ret));
		return ret;
	}
	if ((have & features) != features) {
		snprintf(err, err_len,
			 "userfaultfd: kernel lacks features 0x%llx (has 0x%llx, needs 0x%llx)",
			 (unsigned long long)(features & ~have), (unsigned long long)have,
			 (unsigned long long)features);
		return -EOPNOTSUPP;
	}
	fd = uffd_open_raw();
	if (fd < 0) {
		snprintf(err, err_len, "userfaultfd: %s", strerror(-fd));
		return fd;
	}
	if (ioctl(fd, UFFDIO_API, &api)) {
		ret = -errno;
		snprintf(err, err_len, "userfaultfd: UFFDIO_API(features 0x%llx): %s",
			 (unsigned long long)features, strerror(errno));
		close(fd);
		return ret;
	}
	if (supported)
		*supported = have;
	return fd;
}

int uffd_register(int uffd, void *addr, uint64_t len, uint64_t mode, uint64_t need_ioctls,
		  char *err, size_t err_len)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)addr, .len = len },
		.mode = mode,
	};
	bool minor = mode & UFFDIO_REGISTER_MODE_MINOR;
	int ret;

	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		ret = -errno;
		snprintf(err, err_len, "UFFDIO_REGISTER %p+0x%llx (%s): %s%s", addr,
			 (unsigned long long)len, minor ? "MISSING|MINOR" : "MISSING",
			 strerror(errno),
			 errno != EINVAL ? "" :
			 minor ? " (memory must be a shared mapping of a memfd, page aligned)" :
				 " (memory must be private anonymous and page aligned)");
		return ret;
	}
	if ((reg.ioctls & need_ioctls) != need_ioctls) {
		bool no_zeropage = (need_ioctls & ~reg.ioctls) & (1ull << _UFFDIO_ZEROPAGE);

		snprintf(err, err_len,
			 "UFFDIO_REGISTER %p: kernel offers ioctls 0x%llx, the pager needs 0x%llx%s",
			 addr, (unsigned long long)reg.ioctls, (unsigned long long)need_ioctls,
			 no_zeropage ? " (no UFFDIO_ZEROPAGE: hugetlb memory? register it with "
				       "pager_add_region_hugetlb())" : "");
		uffd_unregister(uffd, addr, len);
		return -EOPNOTSUPP;
	}
	return 0;
}

int uffd_unregister(int uffd, void *addr, uint64_t len)
{
	struct uffdio_range range = { .start = (uintptr_t)addr, .len = len };

	return ioctl(uffd, UFFDIO_UNREGISTER, &range) ? -errno : 0;
}

/*
 * The kernel reports partial progress in the struct's result field: bytes done, or -errno
 * when nothing was done. Normalise that into (bytes, error).
 */
static int64_t install_result(int ret, int64_t field, int *err_out)
{
	*err_out = ret ? -errno : 0;
	if (!ret)
		return field;
	if (field > 0)
		return field;
	return 0;
}

int64_t uffd_copy(int uffd, void *dst, const void *src, uint64_t len, int *err_out)
{
	struct uffdio_copy copy = {
		.dst = (uintptr_t)dst,
		.src = (uintptr_t)src,
		.len = len,
		/* The caller wakes, once the page state says present (install.c). */
		.mode = UFFDIO_COPY_MODE_DONTWAKE,
	};
	int ret = ioctl(uffd, UFFDIO_COPY, &copy);

	return install_result(ret, copy.copy, err_out);
}

int64_t uffd_move(int uffd, void *dst, void *src, uint64_t len, int *err_out)
{
	struct uffdio_move move = {
		.dst = (uintptr_t)dst,
		.src = (uintptr_t)src,
		.len = len,
		.mode = UFFDIO_MOVE_MODE_DONTWAKE,
	};
	int ret = ioctl(uffd, UFFDIO_MOVE, &move);

	return install_result(ret, move.move, err_out);
}

int64_t uffd_continue(int uffd, void *dst, uint64_t len, bool wake, int *err_out)
{
	struct uffdio_continue cont = {
		.range = { .start = (uintptr_t)dst, .len = len },
		.mode = wake ? 0 : UFFDIO_CONTINUE_MODE_DONTWAKE,
	};
	int ret = ioctl(uffd, UFFDIO_CONTINUE, &cont);

	return install_result(ret, cont.mapped, err_out);
}

int64_t uffd_zeropage(int uffd, void *dst, uint64_t len, int *err_out)
{
	struct uffdio_zeropage zero = {
		.range = { .start = (uintptr_t)dst, .len = len },
		.mode = UFFDIO_ZEROPAGE_MODE_DONTWAKE,
	};
	int ret = ioctl(uffd, UFFDIO_ZEROPAGE, &zero);

	return install_result(ret, zero.zeropage, err_out);
}

int uffd_wake(int uffd, void *addr, uint64_t len)
{
	struct uffdio_range range = { .start = (uintptr_t)addr, .len = len };

	return ioctl(uffd, UFFDIO_WAKE, &range) ? -errno : 0;
}
