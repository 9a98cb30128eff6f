// SPDX-License-Identifier: GPL-2.0-only
/*
 * The source's side of a hugetlb region, on a socket pair: pre-copy sends it in whole 2 MiB
 * frames (a zero huge page as one zero frame), each checksum right; a discard covers whole
 * huge pages, any of whose 4 KiB pages was written; the layout says HUGETLB; sizes that are not
 * whole huge pages are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pager.h"
#include "rx_buffer.h"
#include "wire.h"

#define HUGE (2ull << 20)
#define HUGE_PAGES 4
#define PS 4096u

struct sender {
	struct pager_source *src;
	int fd;
	const uint64_t *bitmap;
	bool discard;
	uint64_t pages;
	int ret;
};

static void *sender_main(void *arg)
{
	struct sender *s = arg;

	s->ret = s->discard ? pager_source_discard(s->src, s->fd, 1, s->bitmap, &s->pages)
			    : pager_source_precopy(s->src, s->fd, 1, s->bitmap, &s->pages);
	shutdown(s->fd, SHUT_WR);
	return NULL;
}

struct frames {
	unsigned int n_pages, n_zero, n_discards;
	uint64_t offsets[16], lengths[16];
	uint64_t discard_offsets[16], discard_counts[16];
};

/* Every frame the sender sends until it shuts its end, checked and noted. */
static void receive_all(int fd, struct frames *f)
{
	static struct wire_arena arena;
	struct rx_buffer rb;
	struct rx_frame frame;
	char err[256];
	ssize_t n;
	int ret;

	memset(f, 0, sizeof(*f));
	assert_int_equal(rx_buffer_init(&rb, 0), 0);
	wire_arena_init(&arena);
	for (;;) {
		rx_buffer_compact(&rb);
		n = recv(fd, rx_buffer_space_ptr(&rb), rx_buffer_space(&rb), 0);
		assert_true(n >= 0);
		if (n == 0)
			break;
		rx_buffer_commit(&rb, (size_t)n);
		while ((ret = rx_buffer_next(&rb, &arena, &frame, err, sizeof(err))) == 1) {
			if (frame.type == WIRE_PAGE) {
				const Wire__PageHeader *h = (const Wire__PageHeader *)frame.msg;

				assert_int_equal(h->region, 1);
				assert_true(h->checksum ==
					    wire_page_checksum(h->region, h->offset, h->length, h->flags,
							       frame.payload,
							       frame.payload ? frame.payload_len : 0));
				f->offsets[f->n_pages] = h->offset;
				f->lengths[f->n_pages++] = h->length;
				f->n_zero += !!(h->flags & WIRE_PAGE_FLAG_ZERO);
			} else {
				const Wire__Discard *d = (const Wire__Discard *)frame.msg;
				size_t i;

				assert_int_equal(frame.type, WIRE_DISCARD);
				for (i = 0; i < d->n_offsets; i++) {
					f->discard_offsets[f->n_discards] = d->offsets[i];
					f->discard_counts[f->n_discards++] = d->counts[i];
				}
			}
			rx_buffer_consume(&rb, &frame);
			wire_arena_reset(&arena);
		}
		assert_int_equal(ret, 0);
	}
	assert_int_equal(rx_buffer_pending(&rb), 0);
	rx_buffer_free(&rb);
}

static void run(struct pager_source *src, const uint64_t *bitmap, bool discard,
		struct frames *f, uint64_t *pages)
{
	struct sender s = { .src = src, .bitmap = bitmap, .discard = discard };
	pthread_t t;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	s.fd = sv[0];
	assert_int_equal(pthread_create(&t, NULL, sender_main, &s), 0);
	receive_all(sv[1], f);
	pthread_join(t, NULL);
	assert_int_equal(s.ret, 0);
	*pages = s.pages;
	close(sv[0]);
	close(sv[1]);
}

static void hugetlb_region_in_whole_pages(void **state)
{
	uint64_t words = HUGE_PAGES * 512 / 64, pages, i;
	uint64_t *bitmap = calloc(words, sizeof(uint64_t));
	struct pager_source *src;
	struct pager_layout layout;
	struct frames f;
	uint8_t *image;

	(void)state;
	image = mmap(NULL, HUGE_PAGES * HUGE + PS, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(image != MAP_FAILED && bitmap);
	/* Data everywhere but huge page 2, all zero. */
	for (i = 0; i < HUGE_PAGES * HUGE; i += PS)
		if (i / HUGE != 2)
			image[i + 100] = (uint8_t)(i / PS) | 1;
	assert_int_equal(pager_source_create(NULL, &src), 0);
	assert_int_equal(pager_source_add_region(src, 0, 0, image + HUGE_PAGES * HUGE, PS), 0);
	assert_int_equal(pager_source_add_region_hugetlb(src, 1, 0x100000000ull, image, HUGE + PS),
			 -EINVAL);
	assert_int_equal(pager_source_add_region_hugetlb(src, 1, 0x100000000ull + PS, image, HUGE),
			 -EINVAL);
	assert_int_equal(pager_source_add_region_hugetlb(src, 1, 0x100000000ull, image,
							 HUGE_PAGES * HUGE), 0);
	pager_source_layout(src, &layout);
	assert_int_equal(layout.regions[0].backing, PAGER_BACKING_ANON);
	assert_int_equal(layout.regions[1].backing, PAGER_BACKING_HUGETLB);

	/*
	 * Pre-copy of written pages sends their whole huge page, once: here every other page of
	 * huge page 3 (256 runs of the bitmap, one frame).
	 */
	for (i = 0; i < 512; i += 2)
		bitmap[(3 * 512 + i) / 64] |= 1ull << ((3 * 512 + i) % 64);
	run(src, bitmap, false, &f, &pages);
	assert_int_equal(pages, 512);
	assert_int_equal(f.n_pages, 1);
	assert_int_equal(f.offsets[0], 3 * HUGE);
	assert_int_equal(f.lengths[0], HUGE);
	/* Then all of it: one frame a huge page, the zero one as a zero frame. */
	run(src, NULL, false, &f, &pages);
	assert_int_equal(pages, HUGE_PAGES * 512);
	assert_int_equal(f.n_pages, HUGE_PAGES);
	assert_int_equal(f.n_zero, 1);
	for (i = 0; i < HUGE_PAGES; i++) {
		assert_int_equal(f.offsets[i], i * HUGE);
		assert_int_equal(f.lengths[i], HUGE);
	}
	assert_int_equal(pager_source_pages_held(src), HUGE_PAGES * 512);

	/* Written since: one page of huge page 1, two of huge page 3: both go whole. */
	memset(bitmap, 0, words * sizeof(uint64_t));
	bitmap[513 / 64] |= 1ull << (513 % 64);
	bitmap[(3 * 512) / 64] |= 1;
	bitmap[(4 * 512 - 1) / 64] |= 1ull << 63;
	run(src, bitmap, true, &f, &pages);
	assert_int_equal(pages, 1024);
	assert_int_equal(f.n_discards, 2);
	assert_int_equal(f.discard_offsets[0], HUGE);
	assert_int_equal(f.discard_counts[0], 512);
	assert_int_equal(f.discard_offsets[1], 3 * HUGE);
	assert_int_equal(f.discard_counts[1], 512);
	assert_int_equal(pager_source_pages_held(src), (HUGE_PAGES - 2) * 512);
	pager_source_destroy(src);
	munmap(image, HUGE_PAGES * HUGE + PS);
	free(bitmap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hugetlb_region_in_whole_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
