// SPDX-License-Identifier: GPL-2.0-only
#include "token.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_file(const char *path, struct token *t, char *err, size_t err_len)
{
	uint8_t buf[TOKEN_MAX + 3]; /* room to see a token too long, after its newline */
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, err_len, "cannot read the token file %s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		pr_warn("the token file %s can be read by others (mode %03o): chmod 600 it",
			path, (unsigned int)(st.st_mode & 0777));
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		ret = -errno;
		snprintf(err, err_len, "cannot read the token file %s: %s", path, strerror(errno));
		goto out;
	}
	/* One trailing newline, as `echo` or an editor leaves it, is not part of the token. */
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > TOKEN_MAX) {
		snprintf(err, err_len, "the token in %s is longer than %d bytes", path, TOKEN_MAX);
		ret = -EINVAL;
		goto out;
	}
	memcpy(t->bytes, buf, (size_t)n);
	t->len = (size_t)n;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

int token_load(const char *path, struct token *t, char *err, size_t err_len)
{
	const char *env = getenv(TOKEN_ENV);
	const char *from = path ? path : "$" TOKEN_ENV;
	int ret;

	memset(t, 0, sizeof(*t));
	if (path) {
		ret = read_file(path, t, err, err_len);
		if (ret)
			return ret;
	} else if (env) {
		if (strlen(env) > TOKEN_MAX) {
			snprintf(err, err_len, "$%s is longer than %d bytes", TOKEN_ENV, TOKEN_MAX);
			return -EINVAL;
		}
		t->len = strlen(env);
		memcpy(t->bytes, env, t->len);
	} else {
		return 0;
	}
	if (t->len < TOKEN_MIN) {
		snprintf(err, err_len, "the token from %s has %zu bytes, at least %d are needed "
			 "(e.g. head -c 32 /dev/urandom | base64)", from, t->len, TOKEN_MIN);
		memset(t, 0, sizeof(*t));
		return -EINVAL;
	}
	return 0;
}
