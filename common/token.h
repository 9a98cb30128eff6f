/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The session token an orchestrator gives both ends of a migration: read from a file
 * (--token-file), or from $PAGER_TOKEN when no file is named. It admits the right peer only;
 * it travels in the clear (docs/protocol.md), so it is no substitute for a secure tunnel.
 */
#ifndef COMMON_TOKEN_H
#define COMMON_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_MAX 128 /* bytes: the protocol's limit */
#define TOKEN_MIN 16  /* bytes: anything shorter is guessable */
#define TOKEN_ENV "PAGER_TOKEN"

struct token {
	uint8_t bytes[TOKEN_MAX];
	size_t len; /* 0: none */
};

/*
 * From the file at path (its one trailing newline is not part of the token), else from
 * $PAGER_TOKEN, else none. 0, or -errno with the reason in err: unreadable, empty, shorter
 * than TOKEN_MIN or longer than TOKEN_MAX bytes. A file others may read is warned about.
 */
int token_load(const char *path, struct token *t, char *err, size_t err_len);

#endif
