// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-uffd-copy: how fast UFFDIO_COPY installs pages in 2 MiB batches, with no fault and
 * no network: the ceiling of the listener's install work (the pager installs pushed runs
 * with UFFDIO_COPY). --threads installers (each pinned to cpu-a, or cpu-a and cpu-b in turn)
 * copy their share of a registered region; the region is zapped between rounds and the best
 * and median round are reported.
 */
#include "clock.h"
#include "log.h"
#include "probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BATCH_BYTES (2u << 20)
#define ROUNDS 7

struct installer {
	pthread_t thread;
	int uffd, cpu;
	uint8_t *dst;
	uint64_t len;
	const uint8_t *src;
};

static void *installer_main(void *arg)
{
	struct installer *in = arg;
	uint64_t off;

	probe_pin_self(in->cpu);
	for (off = 0; off < in->len; off += BATCH_BYTES) {
		struct uffdio_copy copy = {
			.dst = (uintptr_t)(in->dst + off),
			.src = (uintptr_t)in->src,
			.len = in->len - off < BATCH_BYTES ? in->len - off : BATCH_BYTES,
		};

		/* A partial copy (EAGAIN) says how far it got: go on from there. */
		while (ioctl(in->uffd, UFFDIO_COPY, &copy)) {
			if (errno != EAGAIN || copy.copy <= 0)
				die("UFFDIO_COPY: %s", strerror(errno));
			copy.dst += (uint64_t)copy.copy;
			copy.src += (uint64_t)copy.copy;
			copy.len -= (uint64_t)copy.copy;
			copy.copy = 0;
		}
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One round: every installer copies its share; returns the wall time in ns. */
static uint64_t run_round(struct installer *ins, uint64_t n)
{
	uint64_t t0 = clock_now_ns(), i;

	for (i = 0; i < n; i++)
		if (pthread_create(&ins[i].thread, NULL, installer_main, &ins[i]))
			die("cannot start an installer");
	for (i = 0; i < n; i++)
		pthread_join(ins[i].thread, NULL);
	return clock_now_ns() - t0;
}

int main(int argc, char **argv)
{
	struct probe_opts o = { .cpu_a = -1, .cpu_b = -1, .threads = 1, .size = 256ull << 20 };
	struct uffdio_api api = { .api = UFFD_API };
	uint64_t ns[ROUNDS], share, i, r;
	struct installer *ins;
	uint8_t *mem, *src;
	struct json j;
	int uffd;

	probe_parse(argc, argv, "UFFDIO_COPY throughput in 2 MiB batches into a registered "
		    "region.", &o);
	o.size = (o.size + BATCH_BYTES * o.threads - 1) / (BATCH_BYTES * o.threads) *
		 (BATCH_BYTES * o.threads);
	share = o.size / o.threads;
	mem = mmap(NULL, o.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	src = aligned_alloc(4096, BATCH_BYTES);
	ins = calloc(o.threads, sizeof(*ins));
	if (mem == MAP_FAILED || !src || !ins)
		die("out of memory");
	memset(src, 0x5a, BATCH_BYTES);
	madvise(mem, o.size, MADV_NOHUGEPAGE);
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		die("userfaultfd: %s", strerror(errno));
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)mem, .len = o.size },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER: %s", strerror(errno));
	for (i = 0; i < o.threads; i++)
		ins[i] = (struct installer){ .uffd = uffd, .cpu = i % 2 ? o.cpu_b : o.cpu_a,
					     .dst = mem + i * share, .len = share, .src = src };
	for (r = 0; r < ROUNDS; r++) {
		ns[r] = run_round(ins, o.threads);
		/* Missing again, still registered: the next round installs every page anew. */
		madvise(mem, o.size, MADV_DONTNEED);
	}
	qsort(ns, ROUNDS, sizeof(ns[0]), cmp_u64);
	probe_json_begin(&j, "uffd_copy", &o);
	json_kv_u64(&j, "threads", o.threads);
	json_kv_u64(&j, "bytes", o.size);
	json_kv_u64(&j, "batch_bytes", BATCH_BYTES);
	json_kv_double(&j, "gbytes_per_s", (double)o.size / (double)ns[ROUNDS / 2], 3);
	json_kv_double(&j, "gbytes_per_s_best", (double)o.size / (double)ns[0], 3);
	json_kv_double(&j, "mpages_per_s", (double)o.size / 4096.0 / (double)ns[ROUNDS / 2] * 1e3,
		       3);
	probe_json_end(&j);
	return 0;
}
