// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pager fails here and only here: lower layers return their errors, the listener's files
 * pass them on, and this records the first with what it leaves undone.
 */
#include "listener_internal.h"

#include <stdarg.h>
#include <stdio.h>

void listener_fail(struct listener *l, int error, const char *fmt, ...)
{
	struct pager *p = l->p;
	char cause[512], text[640];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cause, sizeof(cause), fmt, ap);
	va_end(ap);
	snprintf(text, sizeof(text), "%s; %llu of %llu pages missing, their faults stay blocked",
		 cause, (unsigned long long)region_table_missing(&p->regions),
		 (unsigned long long)p->regions.pages_total);
	if (run_state_fail(p, error, text))
		logger_err(&p->log, "pager: %s", text);
	l->failed = true;
	/* Nothing more is installed: the failure's count of missing pages stays true. */
	push_rx_abort(&l->push);
}

void listener_protocol_error(struct listener *l, int err, Wire__ErrorCode code, const char *fmt,
			     ...)
{
	Wire__Error msg = WIRE__ERROR__INIT;
	char text[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* Tell the source why we stop, best effort, behind whatever frame is in flight. */
	msg.code = code;
	msg.text = text;
	if (tx_queue_frame(&l->tx, WIRE_ERROR, &msg.base))
		logger_warn(&l->p->log, "pager: no room to tell the source about the error");
	listener_fail(l, err, "protocol error from the source: %s", text);
}
