// SPDX-License-Identifier: GPL-2.0-only
/*
 * A program outside the project: built by libpager_abi.sh against the installed header and
 * pkg-config file only. It uses the options' size checks, the log callback and the default
 * log (stderr, "libpager:"), and pager_state(). Exit 0 pass, 1 fail, 77 no userfaultfd.
 */
#include <pager.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stdout, "FAIL line %d: %s\n", __LINE__, #cond); \
			exit(1);                                                 \
		}                                                                \
	} while (0)

struct captured {
	int count, level;
	char msg[512];
};

static void capture(void *opaque, int level, const char *msg)
{
	struct captured *c = opaque;

	c->count++;
	c->level = level;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
}

static void source_side(void)
{
	static unsigned char image[16 * 4096] __attribute__((aligned(4096)));
	struct pager_source_options so;
	struct pager_source *src;
	struct pager_layout layout;

	pager_source_options_init(&so);
	CHECK(so.size == sizeof(so) && so.push && so.log_level == PAGER_LOG_WARN);
	CHECK(pager_source_create(&so, &src) == 0);
	CHECK(pager_source_add_region(src, 0, 0, image, sizeof(image)) == 0);
	pager_source_layout(src, &layout);
	CHECK(layout.n_regions == 1 && layout.regions[0].size == sizeof(image));
	pager_source_destroy(src);
}

int main(void)
{
	struct {
		struct pager_options o;
		unsigned long long from_the_future;
	} newer;
	struct captured c = { 0 };
	struct pager_options o;
	struct pager *p;
	size_t size = 1 << 20;
	void *mem;
	int ret;

	source_side();
	/* Sized options: too small for this library, or unknown fields that are not zero. */
	pager_options_init(&o);
	CHECK(o.size == sizeof(o) && o.listener_cpu == -1 && o.log_level == PAGER_LOG_WARN);
	o.size = 4;
	CHECK(pager_create(&o, &p) == -EINVAL);
	/* What pager_options_init() does in a caller built with a newer, longer struct. */
	newer.from_the_future = 7;
	pager_options_defaults(&newer.o, sizeof(newer));
	CHECK(newer.o.size == sizeof(newer) && newer.from_the_future == 0);
	newer.from_the_future = 1;
	CHECK(pager_create(&newer.o, &p) == -E2BIG);

	/* Messages through the callback, filtered by level. */
	pager_options_init(&o);
	o.log_fn = capture;
	o.log_opaque = &c;
	o.log_level = PAGER_LOG_ERR;
	ret = pager_create(&o, &p);
	if (ret == -ENOSYS || ret == -EPERM || ret == -EACCES) {
		printf("SKIP: no userfaultfd (%s)\n", strerror(-ret));
		return 77;
	}
	CHECK(ret == 0);
	CHECK(pager_state(p) == PAGER_STATE_IDLE);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mem != MAP_FAILED);
	CHECK(pager_add_region(p, 1, mem, size) == -EINVAL); /* region 0 comes first */
	CHECK(c.count == 1 && c.level == PAGER_LOG_ERR && strstr(c.msg, "layout order"));
	CHECK(pager_add_region(p, 0, mem, size) == 0);
	CHECK(pager_pages_missing(p) == size / 4096 && !pager_page_present(p, mem));
	pager_destroy(p);

	/* No callback: one line on stderr, "libpager: error: ..." (the script checks it). */
	CHECK(pager_create(NULL, &p) == 0);
	CHECK(pager_add_region(p, 1, mem, size) == -EINVAL);
	pager_destroy(p);
	printf("outside: ok\n");
	return 0;
}
