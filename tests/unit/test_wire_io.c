// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for proto/wire_io.c on a socket pair: a frame arrives whole, and a peer that
 * trickles a frame a byte at a time gets one deadline for the frame, not one per part.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "wire.h"

#define TRICKLE_GAP_US 100000 /* one byte every 100 ms */

struct trickle {
	int fd;
	uint8_t frame[64];
	size_t len;
};

static size_t encode_hello(uint8_t *buf, size_t cap)
{
	Wire__Hello h = WIRE__HELLO__INIT;
	ssize_t n;

	h.magic = WIRE_MAGIC;
	h.version = WIRE_VERSION;
	h.page_size = 4096;
	h.channel = WIRE__CHANNEL__CHANNEL_DEMAND;
	h.session_id = 0x0123456789abcdefull;
	n = wire_encode(WIRE_HELLO, &h.base, buf, cap);
	assert_true(n > 0);
	return (size_t)n;
}

static void *trickle_main(void *arg)
{
	struct trickle *t = arg;
	size_t i;

	for (i = 0; i < t->len; i++) {
		usleep(TRICKLE_GAP_US);
		if (send(t->fd, t->frame + i, 1, MSG_NOSIGNAL) != 1)
			break; /* the reader gave up and closed: expected */
	}
	return NULL;
}

static void whole_frame_arrives(void **state)
{
	uint8_t frame[64], body[WIRE_ARENA_SIZE];
	size_t len = encode_hello(frame, sizeof(frame)), got;
	unsigned int type;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(write(sv[1], frame, len), (ssize_t)len);
	assert_int_equal(wire_recv_raw(sv[0], &type, body, sizeof(body), &got, 1000), 0);
	assert_int_equal(type, WIRE_HELLO);
	assert_int_equal(got, len - WIRE_FRAME_HDR_SIZE);
	assert_memory_equal(body, frame + WIRE_FRAME_HDR_SIZE, got);
	close(sv[0]);
	close(sv[1]);
}

/*
 * The header alone (8 bytes, 0.8 s) fits the 1 s bound, and so would the body on its own
 * clock: one deadline for both ends the read at 1 s, not at 1.8 s.
 */
static void trickled_frame_gets_one_deadline(void **state)
{
	struct trickle t;
	uint8_t body[WIRE_ARENA_SIZE];
	unsigned int type;
	pthread_t thread;
	uint64_t start, elapsed_ms;
	size_t got;
	int sv[2], ret;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	t.fd = sv[1];
	t.len = encode_hello(t.frame, sizeof(t.frame));
	assert_true(t.len > 2 * WIRE_FRAME_HDR_SIZE); /* the body alone outlasts the bound */
	assert_int_equal(pthread_create(&thread, NULL, trickle_main, &t), 0);
	start = clock_now_ns();
	ret = wire_recv_raw(sv[0], &type, body, sizeof(body), &got, 1000);
	elapsed_ms = (clock_now_ns() - start) / 1000000;
	assert_int_equal(ret, -ETIMEDOUT);
	if (elapsed_ms < 950 || elapsed_ms > 1300)
		fail_msg("a trickled frame timed out after %llu ms under a 1000 ms bound",
			 (unsigned long long)elapsed_ms);
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(thread, NULL);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_frame_arrives),
		cmocka_unit_test(trickled_frame_gets_one_deadline),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
