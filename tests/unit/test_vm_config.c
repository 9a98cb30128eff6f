// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VMM's VmConfig (vmm/migrate/vm_config.c): the bytes on the wire, the destination's
 * checks, and the source's handshake over socket pairs, including a config that cannot be
 * sent after a good handshake (the error must say so, not print an unset buffer).
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

#include "log.h"
#include "source.h"
#include "vm_config.h"
#include "wire.h"

static const struct mig_vm_config pattern_2vcpu = {
	.guest = { .program = GUEST_PATTERN, .nr_vcpus = 2, .work_size = 16ull << 20, .seed = 5 },
	.irqchip = true,
};

/* The wire passes the frame through; the decoder refuses a body over its own cap unread. */
static void test_cap_is_the_decoders(void **state)
{
	uint8_t body[MIG_VM_CONFIG_MAX_ENCODED + 1] = { 0 };
	struct mig_vm_config cfg;
	char err[256] = "";

	assert_true(wire_type_is_opaque(WIRE_VM_CONFIG));
	assert_true(MIG_VM_CONFIG_MAX_ENCODED <= wire_max_body(WIRE_VM_CONFIG));
	assert_int_equal(mig_vm_config_decode(body, sizeof(body), &cfg, err, sizeof(err)),
			 -EPROTO);
	assert_non_null(strstr(err, "more than 128"));
}

/* The former wire.VmConfig's field numbers: what an older peer sends and expects. */
static void test_bytes_unchanged(void **state)
{
	static const uint8_t want[] = {
		0x08, 0x02,                                   /* nr_vcpus = 2 */
		0x10, 0x01,                                   /* irqchip */
		0x18, 0x01,                                   /* pit */
		0x22, 0x07, 'p', 'a', 't', 't', 'e', 'r', 'n', /* guest */
		0x28, 0x80, 0x80, 0x80, 0x08,                 /* work_size = 16 MiB */
		0x30, 0x05,                                   /* seed = 5 (count 0: absent) */
	};
	uint8_t got[MIG_VM_CONFIG_MAX_ENCODED];
	struct mig_vm_config back;
	Mig__VmConfig msg;
	char err[256];

	mig_vm_config_to_msg(&pattern_2vcpu, &msg);
	assert_int_equal(mig__vm_config__get_packed_size(&msg), sizeof(want));
	mig__vm_config__pack(&msg, got);
	assert_memory_equal(got, want, sizeof(want));
	assert_int_equal(mig_vm_config_decode(want, sizeof(want), &back, err, sizeof(err)), 0);
	assert_memory_equal(&back.guest, &pattern_2vcpu.guest, sizeof(back.guest));
	assert_true(back.irqchip);
}

static int decode_msg(const Mig__VmConfig *msg, char *err, size_t err_len)
{
	uint8_t body[256];
	struct mig_vm_config cfg;
	size_t len = mig__vm_config__get_packed_size(msg);

	assert_true(len <= sizeof(body));
	mig__vm_config__pack(msg, body);
	return mig_vm_config_decode(body, len, &cfg, err, err_len);
}

static void test_decode_refuses(void **state)
{
	static const uint8_t truncated[] = { 0x22, 0x07, 'p', 'a' };
	uint8_t oversized[MIG_VM_CONFIG_MAX_ENCODED + 1] = { 0 };
	struct mig_vm_config cfg;
	Mig__VmConfig msg;
	char err[256];

	mig_vm_config_to_msg(&pattern_2vcpu, &msg);
	msg.guest = (char *)"bios";
	assert_int_equal(decode_msg(&msg, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "guest 'bios'"));

	mig_vm_config_to_msg(&pattern_2vcpu, &msg);
	msg.nr_vcpus = 0;
	assert_int_equal(decode_msg(&msg, err, sizeof(err)), -EPROTO);
	msg.nr_vcpus = GUEST_MAX_VCPUS + 1;
	assert_int_equal(decode_msg(&msg, err, sizeof(err)), -EPROTO);

	/* Not a whole page per vCPU: the layout rules, refused as a layout problem. */
	mig_vm_config_to_msg(&pattern_2vcpu, &msg);
	msg.work_size = GUEST_PAGE_SIZE;
	assert_int_equal(decode_msg(&msg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bytes of work memory for 2 vCPUs"));

	assert_int_equal(mig_vm_config_decode(truncated, sizeof(truncated), &cfg, err, sizeof(err)),
			 -EPROTO);
	assert_int_equal(mig_vm_config_decode(oversized, sizeof(oversized), &cfg, err, sizeof(err)),
			 -EPROTO);
}

/* ---- the source's handshake against the real destination handshake ---- */

struct fake_dest {
	int fds[2]; /* demand, push: the destination's ends */
	struct pager_layout layout;
	int handshake;
	char err[512];
	bool read_config;
	int recv;
	unsigned int type;
	uint8_t body[MIG_VM_CONFIG_MAX_ENCODED];
	size_t len;
};

static void *fake_dest_main(void *arg)
{
	struct fake_dest *d = arg;

	struct pager_handshake hs;

	pager_handshake_init(&hs);
	hs.timeout_ms = 5000;
	d->handshake = pager_handshake_dest(&d->fds[0], &d->fds[1], false, &hs, &d->layout, d->err,
					    sizeof(d->err));
	if (!d->handshake && d->read_config)
		d->recv = wire_recv_raw(d->fds[0], &d->type, d->body, sizeof(d->body), &d->len, 5000);
	return NULL;
}

/* Runs mig_source_handshake() against a destination thread; returns its result. */
static int handshake(struct fake_dest *d, const Mig__VmConfig *msg, char *err, size_t err_len)
{
	struct pager_layout layout = {
		.n_regions = 2,
		.regions = {
			{ .id = 0, .gpa = 0, .size = 1 << 20, .backing = PAGER_BACKING_ANON },
			{ .id = 1, .gpa = 1 << 30, .size = 16 << 20, .backing = PAGER_BACKING_ANON },
		},
	};
	struct pager_handshake hs;
	int demand[2], push[2], ret;
	pthread_t thread;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, demand), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, push), 0);
	d->fds[0] = demand[1];
	d->fds[1] = push[1];
	assert_int_equal(pthread_create(&thread, NULL, fake_dest_main, d), 0);
	pager_handshake_init(&hs);
	ret = mig_source_handshake(&demand[0], &push[0], &hs, &layout, msg, err, err_len);
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(d->handshake, 0);
	assert_int_equal(d->layout.n_regions, 2);
	close(demand[0]);
	close(push[0]);
	close(d->fds[0]);
	close(d->fds[1]);
	return ret;
}

static void test_handshake_sends_config(void **state)
{
	struct fake_dest d = { .read_config = true };
	struct mig_vm_config got;
	Mig__VmConfig msg;
	char err[512];

	mig_vm_config_to_msg(&pattern_2vcpu, &msg);
	assert_int_equal(handshake(&d, &msg, err, sizeof(err)), 0);
	assert_int_equal(d.recv, 0);
	assert_int_equal(d.type, WIRE_VM_CONFIG);
	assert_int_equal(mig_vm_config_decode(d.body, d.len, &got, err, sizeof(err)), 0);
	assert_memory_equal(&got.guest, &pattern_2vcpu.guest, sizeof(got.guest));
}

/* Regression: the handshake went well, the config could not go: err must say why. */
static void test_config_send_failure_is_reported(void **state)
{
	struct fake_dest d = { .read_config = false };
	char name[MIG_VM_CONFIG_MAX_ENCODED + 1];
	Mig__VmConfig msg;
	char err[512];

	memset(err, 0x7f, sizeof(err)); /* what an unset buffer could hold */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	mig_vm_config_to_msg(&pattern_2vcpu, &msg);
	msg.guest = name; /* over the frame's cap */
	assert_int_equal(handshake(&d, &msg, err, sizeof(err)), -EMSGSIZE);
	assert_non_null(memchr(err, '\0', sizeof(err)));
	assert_string_equal(err, "sending the VM config: Message too long");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_is_the_decoders),
		cmocka_unit_test(test_bytes_unchanged),
		cmocka_unit_test(test_decode_refuses),
		cmocka_unit_test(test_handshake_sends_config),
		cmocka_unit_test(test_config_send_failure_is_reported),
	};

	log_max_level = LOG_ERR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
