/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fault path, second half: pages in place, then woken. An install returns its result; it
 * never fails the pager (the listener decides what an error means).
 */
#ifndef PAGER_INSTALL_H
#define PAGER_INSTALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pager_internal.h"
#include "wire.h"

struct install_result {
	uint64_t installed; /* pages installed by us (not those the kernel had: EEXIST) */
	uint64_t retries;   /* EAGAIN, retried */
};

/*
 * Installs pages [first, first+count) of r, all claimed by the caller, from src (or as
 * zero pages): shows them to the observer, maps them, marks them present, closes their
 * waiters and wakes them. movable: src is private anonymous pages of the caller's that may
 * be moved into place (UFFDIO_MOVE, in an anonymous region; they are holes afterwards) rather
 * than copied. 0, or -errno with the reason in err (res counts what was done before it).
 */
int install_run(struct pager *p, struct region *r, uint64_t first, uint64_t count,
		const uint8_t *src, bool zero, bool movable, struct install_result *res,
		char *err, size_t err_len);

/*
 * Claims what no installer claimed yet of [first, first+count) and installs it (install_run),
 * from src (page first's bytes) or as zero pages. Any thread; 0, or -errno as install_run().
 */
int install_claimed(struct pager *p, struct region *r, uint64_t first, uint64_t count,
		    const uint8_t *src, bool zero, bool movable, struct install_result *res,
		    char *err, size_t err_len);

/*
 * A page frame (its header already checked against the layout): installs its pages not yet
 * claimed and counts them into c under lock (each installing thread has its own: the
 * listener's are the pager lock and counters). 0, or -errno with the reason in err.
 */
int install_frame(struct pager *p, const Wire__PageHeader *hdr, const uint8_t *payload,
		  bool movable, pthread_mutex_t *lock, struct pager_counters *c, char *err,
		  size_t err_len);

#endif
