// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-uffd-stage: the receive-and-install work of one pushed page, without the network,
 * by the two ways the pager could do it. Each 64-page run (one push frame) is written into a
 * page-aligned staging buffer, as recv() would, then
 *   copy (default): UFFDIO_COPY from the staging buffer, which stays mapped and hot;
 *   --move:          UFFDIO_MOVE of the staging pages into place (zero-copy install), so the
 *                    next run's recv() writes into pages that must be faulted in afresh;
 *   --move-populate: the same, the staging pages populated first with MADV_POPULATE_WRITE.
 * The pager installs with COPY because that is the fastest here (docs/benchmarks.md).
 */
#include "clock.h"
#include "log.h"
#include "probe.h"
#include "uffd_compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define RUN_BYTES (64u * 4096u)
#define ROUNDS 5

enum method { COPY, MOVE, MOVE_POPULATE };

static const char *const names[] = { "copy", "move", "move_populate" };

static void install(int uffd, enum method m, uint8_t *dst, uint8_t *stage)
{
	if (m == COPY) {
		struct uffdio_copy c = { .dst = (uintptr_t)dst, .src = (uintptr_t)stage,
					 .len = RUN_BYTES, .mode = UFFDIO_COPY_MODE_DONTWAKE };

		if (ioctl(uffd, UFFDIO_COPY, &c) || c.copy != RUN_BYTES)
			die("UFFDIO_COPY: %s", strerror(errno));
	} else {
		struct uffdio_move mv = { .dst = (uintptr_t)dst, .src = (uintptr_t)stage,
					  .len = RUN_BYTES, .mode = UFFDIO_MOVE_MODE_DONTWAKE };

		if (ioctl(uffd, UFFDIO_MOVE, &mv) || mv.move != RUN_BYTES)
			die("UFFDIO_MOVE: %s", strerror(errno));
	}
}

/* One round over the region: ns taken. */
static uint64_t run_round(int uffd, enum method m, uint8_t *mem, uint64_t size, uint8_t *stage,
			  const uint8_t *wire)
{
	uint64_t t0 = clock_now_ns(), off;

	for (off = 0; off < size; off += RUN_BYTES) {
		if (m == MOVE_POPULATE && madvise(stage, RUN_BYTES, MADV_POPULATE_WRITE))
			die("MADV_POPULATE_WRITE: %s", strerror(errno));
		/* What recv() does: the payload lands in the staging pages. */
		memcpy(stage, wire, RUN_BYTES);
		install(uffd, m, mem + off, stage);
	}
	return clock_now_ns() - t0;
}

static int open_uffd(enum method m)
{
	struct uffdio_api api = { .api = UFFD_API, .features = m == COPY ? 0 : UFFD_FEATURE_MOVE };
	int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);

	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api))
		die("userfaultfd%s: %s", m == COPY ? "" : " with UFFD_FEATURE_MOVE", strerror(errno));
	return uffd;
}

int main(int argc, char **argv)
{
	struct probe_opts o = { .cpu_a = -1, .cpu_b = -1, .threads = 1, .size = 256ull << 20 };
	enum method m = COPY;
	uint64_t ns[ROUNDS], best, r;
	uint8_t *mem, *stage, *wire;
	struct json j;
	int uffd;

	if (argc > 1 && (!strcmp(argv[1], "--move") || !strcmp(argv[1], "--move-populate"))) {
		m = strcmp(argv[1], "--move") ? MOVE_POPULATE : MOVE;
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	probe_parse(argc, argv, "Receive-and-install of pushed pages: UFFDIO_COPY from a staging "
		    "buffer (default), or UFFDIO_MOVE of it (--move, --move-populate).", &o);
	probe_pin_self(o.cpu_a);
	o.size = (o.size + RUN_BYTES - 1) / RUN_BYTES * RUN_BYTES;
	mem = mmap(NULL, o.size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	stage = mmap(NULL, RUN_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	wire = malloc(RUN_BYTES);
	if (mem == MAP_FAILED || stage == MAP_FAILED || !wire)
		die("out of memory");
	memset(wire, 0x5a, RUN_BYTES);
	madvise(mem, o.size, MADV_NOHUGEPAGE);
	madvise(stage, RUN_BYTES, MADV_NOHUGEPAGE);
	uffd = open_uffd(m);
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)mem, .len = o.size },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER: %s", strerror(errno));
	for (r = 0; r < ROUNDS; r++) {
		ns[r] = run_round(uffd, m, mem, o.size, stage, wire);
		madvise(mem, o.size, MADV_DONTNEED);
	}
	for (best = ns[0], r = 1; r < ROUNDS; r++)
		best = ns[r] < best ? ns[r] : best;
	probe_json_begin(&j, "uffd_stage", &o);
	json_kv_str(&j, "method", names[m]);
	json_kv_u64(&j, "bytes", o.size);
	json_kv_u64(&j, "run_bytes", RUN_BYTES);
	json_kv_double(&j, "gbytes_per_s", (double)o.size / (double)best, 3);
	json_kv_double(&j, "us_per_page", (double)best / 1e3 / (double)(o.size / 4096), 3);
	probe_json_end(&j);
	return 0;
}
