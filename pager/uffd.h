/* SPDX-License-Identifier: GPL-2.0-only */
/* userfaultfd: open with kernel-fault delivery, API handshake, registration, installs. */
#ifndef PAGER_UFFD_H
#define PAGER_UFFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uffd_compat.h"

/*
 * Opens a userfaultfd that also receives faults raised by the kernel on the process's behalf
 * (never UFFD_USER_MODE_ONLY: KVM's own accesses to guest memory must reach the listener),
 * and performs the API handshake asking for `features` exactly. Returns the fd or -errno with
 * an operator-facing explanation in err.
 */
int uffd_open(uint64_t features, uint64_t *supported, char *err, size_t err_len);

/* Features this kernel offers (a throw-away fd: the handshake can be done once per fd). */
int uffd_probe_features(uint64_t *features);

/*
 * Registers in `mode` (UFFDIO_REGISTER_MODE_*); fails unless the returned ioctl mask has
 * every bit of `need`.
 */
int uffd_register(int uffd, void *addr, uint64_t len, uint64_t mode, uint64_t need_ioctls,
		  char *err, size_t err_len);
int uffd_unregister(int uffd, void *addr, uint64_t len);

/*
 * Installs, without waking the waiters (uffd_wake() does, after the caller's bookkeeping):
 * each returns the bytes installed (possibly fewer than len on -EEXIST/-EAGAIN, reported
 * through *err_out), or 0 with the error when nothing was installed.
 */
int64_t uffd_copy(int uffd, void *dst, const void *src, uint64_t len, int *err_out);
/*
 * Moves the pages at src (private anonymous memory of this process, each present and not
 * shared) to dst, leaving holes at src: an install without a copy (Linux 6.8,
 * UFFD_FEATURE_MOVE).
 */
int64_t uffd_move(int uffd, void *dst, void *src, uint64_t len, int *err_out);
/*
 * Maps the file pages already in the page cache at dst (a MINOR-registered shmem range);
 * wake: also wake the range's waiters (the installs leave that to uffd_wake()).
 */
int64_t uffd_continue(int uffd, void *dst, uint64_t len, bool wake, int *err_out);
int64_t uffd_zeropage(int uffd, void *dst, uint64_t len, int *err_out);
int uffd_wake(int uffd, void *addr, uint64_t len);

#endif
