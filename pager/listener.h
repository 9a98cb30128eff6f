/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The listener thread: one io_uring drives the userfaultfd, both sockets and the control
 * eventfd. It alone turns an error (its own, or one a lower layer returned) into the pager's
 * failure. Its state is private to listener.c.
 */
#ifndef PAGER_LISTENER_H
#define PAGER_LISTENER_H

#include "pager_internal.h"

/* Before the thread starts: buffers, socket tuning. 0 or -errno. */
int listener_create(struct pager *p);
/* The thread (pthread_create's start routine, arg the pager). */
void *listener_main(void *arg);
/* After the thread ended (or never started). */
void listener_destroy(struct pager *p);

#endif
