/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A migration source for kvm tests: a forked process that serves a copy of the test's guest
 * memory (inherited through fork) with pager_source over real TCP on 127.0.0.1. Demand only,
 * no background push: a page stays missing on the destination until something touches it,
 * so a test can say exactly which access fetched it.
 */
#ifndef TESTS_KVM_PAGE_SERVER_H
#define TESTS_KVM_PAGE_SERVER_H

#include <sys/types.h>

#include "guest.h"
#include "pager.h"

struct page_server {
	pid_t pid;
	int port;
	int result_fd; /* the child writes pager_source_serve()'s result here */
};

/* Forks the server over the n guest regions mapped at mem[]; returns once it listens. */
void page_server_start(struct page_server *ps, const struct guest_region *regions,
		       void *const mem[], unsigned int n);
/* Connects both channels and runs the handshake: fds[0] demand, fds[1] push. */
void page_server_connect(const struct page_server *ps, int fds[2], struct pager_layout *layout);
/*
 * Waits up to timeout_ms for the server to end after the destination reported completion
 * and reaps it; returns pager_source_serve()'s result (0: served to completion).
 */
int page_server_finish(struct page_server *ps, int timeout_ms);
/* Ends it at once (SIGKILL works on a stopped process too) and reaps it. */
void page_server_kill(struct page_server *ps);

#endif
