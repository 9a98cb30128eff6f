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
 * Installs pages [first, first+count) of r, all missing by the page state, from src (or as
 * zero pages); marks them present, shows them to the observer, closes their waiters and wakes
 * them. 0, or -errno with the reason in err (res counts what was done before it).
 */
int install_run(struct pager *p, struct region *r, uint64_t first, uint64_t count,
		const uint8_t *src, bool zero, struct install_result *res, char *err,
		size_t err_len);

/*
 * A page frame (its header already checked against the layout): installs its pages not yet
 * present and counts them. 0, or -errno with the reason in err.
 */
int install_frame(struct pager *p, const Wire__PageHeader *hdr, const uint8_t *payload,
		  char *err, size_t err_len);

#endif
