// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes the fuzzers' seed corpus: one valid encoding of every wire message, a stream of
 * frames as the listener receives it, the hellos a listening end admits or refuses, a VM
 * config, and the state of a real KVM vCPU and VM. Run it again when the protocol, the VM
 * config or the state codec changes:
 *	build/tests/fuzz/make-seeds tests/fuzz/corpus
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/kvm.h>

#include "kvm.h"
#include "log.h"
#include "state_codec.h"
#include "vcpu_state.h"
#include "vm_config.h"
#include "wire.h"

/* fuzz_admission's expected token and session (its first byte's bits 0 and 2 ask for them). */
#define ADMISSION_TOKEN "fuzz-session-token-0123456789"
#define ADMISSION_SESSION 0x1234abcdull

static const char *top;

static void write_seed(const char *harness, const char *name, const void *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", top, harness);
	if (mkdir(path, 0755) && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s/%s", top, harness, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		die("writing %s", path);
}

/* One frame into stream (for fuzz_rx_stream), its body as a fuzz_wire_message seed. */
static size_t add_message(uint8_t *stream, size_t used, size_t cap, enum wire_type type,
			  const ProtobufCMessage *msg)
{
	uint8_t seed[1 + WIRE_ARENA_SIZE];
	ssize_t n = wire_encode(type, msg, stream + used, cap - used);

	if (n < 0)
		die("wire_encode %s: %zd", wire_type_name(type), n);
	seed[0] = (uint8_t)type;
	memcpy(seed + 1, stream + used + WIRE_FRAME_HDR_SIZE, (size_t)n - WIRE_FRAME_HDR_SIZE);
	write_seed("fuzz_wire_message", wire_type_name(type), seed,
		   (size_t)n - WIRE_FRAME_HDR_SIZE + 1);
	write_seed("fuzz_frame_header", wire_type_name(type), stream + used, WIRE_FRAME_HDR_SIZE);
	return used + (size_t)n;
}

static void wire_seeds(void)
{
	static uint8_t stream[64 * 1024];
	Wire__Hello hello = WIRE__HELLO__INIT;
	Wire__Region region = WIRE__REGION__INIT, *regions[] = { &region };
	Wire__MemoryLayout layout = WIRE__MEMORY_LAYOUT__INIT;
	Wire__PageRequest req = WIRE__PAGE_REQUEST__INIT;
	Wire__PageHeader page = WIRE__PAGE_HEADER__INIT;
	Wire__PushDone done = WIRE__PUSH_DONE__INIT;
	Wire__Complete complete = WIRE__COMPLETE__INIT;
	Wire__Error error = WIRE__ERROR__INIT;
	uint64_t offsets[] = { 0, 8192 };
	uint32_t counts[] = { 1, 3 };
	Wire__Discard discard = WIRE__DISCARD__INIT;
	Wire__Switchover sw = WIRE__SWITCHOVER__INIT;
	Wire__PresentBitmap bitmap = WIRE__PRESENT_BITMAP__INIT;
	Wire__ResumeReady ready = WIRE__RESUME_READY__INIT;
	uint8_t bits[32] = { 0xff, 0x0f, 0x01 };
	size_t used = 0;

	hello.magic = WIRE_MAGIC;
	hello.version = WIRE_VERSION;
	hello.page_size = 4096;
	hello.channel = WIRE__CHANNEL__CHANNEL_DEMAND;
	hello.session_id = 0x1234;
	hello.token.data = (uint8_t *)ADMISSION_TOKEN;
	hello.token.len = sizeof(ADMISSION_TOKEN) - 1;
	used = add_message(stream, used, sizeof(stream), WIRE_HELLO, &hello.base);
	region.size = 1u << 20;
	region.backing = WIRE__BACKING__BACKING_ANON;
	layout.n_regions = 1;
	layout.regions = regions;
	used = add_message(stream, used, sizeof(stream), WIRE_LAYOUT, &layout.base);
	req.offset = 4096;
	req.count = 2;
	req.request_id = 7;
	used = add_message(stream, used, sizeof(stream), WIRE_PAGE_REQUEST, &req.base);
	/* A demanded page with its payload, then a pushed zero page. */
	page.offset = 4096;
	page.length = 4096;
	page.flags = WIRE_PAGE_FLAG_DEMAND;
	page.request_id = 7;
	used = add_message(stream, used, sizeof(stream), WIRE_PAGE, &page.base);
	memset(stream + used, 0xa5, 4096);
	used += 4096;
	page.offset = 8192;
	page.flags = WIRE_PAGE_FLAG_ZERO;
	page.request_id = 0;
	used = add_message(stream, used, sizeof(stream), WIRE_PAGE, &page.base);
	done.pages_sent = 256;
	used = add_message(stream, used, sizeof(stream), WIRE_PUSH_DONE, &done.base);
	complete.pages_received = 256;
	used = add_message(stream, used, sizeof(stream), WIRE_COMPLETE, &complete.base);
	discard.n_offsets = discard.n_counts = 2;
	discard.offsets = offsets;
	discard.counts = counts;
	used = add_message(stream, used, sizeof(stream), WIRE_DISCARD, &discard.base);
	sw.memory_digest = 0x0123456789abcdefull;
	sw.precopy_pages = 3;
	sw.state_digest = 0xfedcba9876543210ull;
	used = add_message(stream, used, sizeof(stream), WIRE_SWITCHOVER, &sw.base);
	bitmap.first_page = 8;
	bitmap.bits.data = bits;
	bitmap.bits.len = sizeof(bits);
	used = add_message(stream, used, sizeof(stream), WIRE_PRESENT_BITMAP, &bitmap.base);
	ready.pages_present = 13;
	used = add_message(stream, used, sizeof(stream), WIRE_RESUME_READY, &ready.base);
	error.code = WIRE__ERROR_CODE__ERROR_PROTOCOL;
	error.text = "a \"quoted\" reason\n";
	used = add_message(stream, used, sizeof(stream), WIRE_ERROR, &error.base);
	/* The seed starts with the chunking byte. */
	memmove(stream + 1, stream, used);
	stream[0] = 0x5a;
	write_seed("fuzz_rx_stream", "session", stream, used + 1);
	/* pager-relay's frame tracker reads the same streams. */
	write_seed("fuzz_relay_tracker", "session", stream, used + 1);
}

/* One admission seed: the byte of what this end expects, then what the peer sends. */
static void admission_seed(const char *name, uint8_t expect, const void *sent, size_t len)
{
	uint8_t seed[1 + 512];

	seed[0] = expect;
	memcpy(seed + 1, sent, len);
	write_seed("fuzz_admission", name, seed, 1 + len);
}

static void admission_seeds(void)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: dest\r\n\r\n";
	Wire__Hello hello = WIRE__HELLO__INIT;
	uint8_t frame[512];
	ssize_t n;

	hello.magic = WIRE_MAGIC;
	hello.version = WIRE_VERSION;
	hello.page_size = 4096;
	hello.channel = WIRE__CHANNEL__CHANNEL_PUSH;
	hello.session_id = ADMISSION_SESSION;
	hello.token.data = (uint8_t *)ADMISSION_TOKEN;
	hello.token.len = sizeof(ADMISSION_TOKEN) - 1;
	n = wire_encode(WIRE_HELLO, &hello.base, frame, sizeof(frame));
	if (n < 0)
		die("wire_encode hello: %zd", n);
	/* Read in pieces of 32 bytes, then 1: a token expected; any session, then this one. */
	admission_seed("new-session", 0xf8 | 0x01, frame, (size_t)n);
	admission_seed("new-session-by-bytes", 0x01 | 0x04, frame, (size_t)n);
	hello.resume = true;
	n = wire_encode(WIRE_HELLO, &hello.base, frame, sizeof(frame));
	if (n < 0)
		die("wire_encode hello: %zd", n);
	admission_seed("resume", 0x38 | 0x01 | 0x02 | 0x04, frame, (size_t)n); /* pieces of 8 */
	admission_seed("http", 0xf9, http, sizeof(http) - 1);
}

static void vm_config_seed(void)
{
	const struct mig_vm_config cfg = {
		.guest = { .program = GUEST_PATTERN, .nr_vcpus = 2, .work_size = 16u << 20,
			   .seed = 7, .count = 0 },
		.irqchip = true,
	};
	uint8_t body[MIG_VM_CONFIG_MAX_ENCODED];
	Mig__VmConfig msg;
	size_t len;

	mig_vm_config_to_msg(&cfg, &msg);
	len = mig__vm_config__get_packed_size(&msg);
	if (len > sizeof(body))
		die("VM config of %zu bytes", len);
	mig__vm_config__pack(&msg, body);
	write_seed("fuzz_vm_config", "pattern-2vcpu", body, len);
}

/* The state of a fresh vCPU and VM of this host's KVM, as vmm-source would send them. */
static void state_seeds(void)
{
	struct vcpu_state *st = vcpu_state_alloc();
	struct vm_state vmst;
	struct vcpu *vcpu;
	struct vm *vm;
	uint8_t *buf;
	ssize_t len;

	if (!st || vm_create(&vm) || vm_create_irqchip(vm) || vm_create_pit(vm) ||
	    vm_vcpu_add(vm, 0, &vcpu) || vcpu_init_cpuid(vcpu))
		die("cannot create a VM and a vCPU for the state seeds");
	if (vcpu_state_save(vcpu, st) || vm_state_save(vm, &vmst))
		die("cannot save the state");
	buf = malloc(VCPU_STATE_MAX_ENCODED);
	if (!buf)
		die("out of memory");
	len = vcpu_state_encode(st, buf, VCPU_STATE_MAX_ENCODED);
	if (len < 0)
		die("vcpu_state_encode: %zd", len);
	write_seed("fuzz_vcpu_state", "fresh-vcpu", buf, (size_t)len);
	len = vm_state_encode(&vmst, buf, VCPU_STATE_MAX_ENCODED);
	if (len < 0)
		die("vm_state_encode: %zd", len);
	write_seed("fuzz_vm_state", "fresh-vm", buf, (size_t)len);
	free(buf);
	vcpu_state_free(st);
	vm_destroy(vm);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		die("usage: %s CORPUS-DIR", argv[0]);
	top = argv[1];
	if (mkdir(top, 0755) && errno != EEXIST)
		die("mkdir %s: %s", top, strerror(errno));
	wire_seeds();
	admission_seeds();
	vm_config_seed();
	state_seeds();
	return 0;
}
