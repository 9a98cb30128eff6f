// SPDX-License-Identifier: GPL-2.0-only
/* The source end: run the guest, stop it at the switch-over, send its state, serve its pages. */
#include "migrate.h"
#include "clock.h"
#include "digest.h"
#include "json.h"
#include "log.h"
#include "machine.h"
#include "net.h"
#include "state_codec.h"
#include "vcpu_state.h"
#include "vm_config.h"
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool all_reached(const struct machine *m, uint64_t progress)
{
	unsigned int i;

	for (i = 0; i < m->cfg.nr_vcpus; i++)
		if (atomic_load(&m->monitor.vcpu[i].progress) < progress)
			return false;
	return true;
}

/*
 * Runs the guest until the switch-over point. Without pre-copy each vCPU stops itself there
 * (a precise, reproducible point); with pre-copy they keep running (and writing) while the
 * rounds go out, and stop_guest() stops them.
 */
static int run_until_switch(struct machine *m, const struct mig_source_opts *o)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)o->timeout_ms * 1000000ull;
	unsigned int i;
	int ret;

	for (i = 0; o->switch_at_progress && !o->precopy_rounds && i < m->cfg.nr_vcpus; i++)
		m->monitor.vcpu[i].stop_at_progress = o->switch_at_progress;
	ret = vm_vcpus_start(m->vm);
	if (ret)
		return ret;
	if (!o->switch_at_progress) {
		usleep(o->switch_after_ms * 1000u);
		return 0;
	}
	while (!all_reached(m, o->switch_at_progress) && clock_now_ns() < deadline)
		usleep(1000);
	if (all_reached(m, o->switch_at_progress))
		return 0;
	pr_err("the guest did not reach progress %" PRIu64 " within %d ms", o->switch_at_progress,
	       o->timeout_ms);
	return -ETIMEDOUT;
}

static int stop_guest(struct machine *m)
{
	unsigned int i;
	int ret = machine_stop(m);

	for (i = 0; !ret && i < m->cfg.nr_vcpus; i++) {
		if (m->monitor.vcpu[i].done) {
			pr_err("vCPU %u finished before the switch-over: nothing left to migrate "
			       "mid-run (switch earlier, or give the guest more work)", i);
			ret = -EINVAL;
		}
	}
	return ret;
}

/*
 * Bounded pre-copy while the guest runs: round 0 sends every page, each later round the pages
 * written during the previous one, until the rounds run out or few pages are left dirty.
 */
#define PRECOPY_ENOUGH_PAGES 64
static int precopy(struct machine *m, struct pager_source *src, int fd, unsigned int rounds,
		   uint64_t *bitmaps[GUEST_NR_REGIONS], uint64_t *sent_total)
{
	uint64_t sent, dirty;
	unsigned int round, i;
	int ret;

	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		ret = vm_dirty_log_enable(m->vm, m->regions[i].slot);
		if (!ret)
			ret = vm_dirty_log_get(m->vm, m->regions[i].slot, bitmaps[i]);
		if (ret)
			return ret;
	}
	for (round = 0; round < rounds; round++) {
		dirty = 0;
		for (i = 0; i < GUEST_NR_REGIONS; i++) {
			if (round) {
				ret = vm_dirty_log_get(m->vm, m->regions[i].slot, bitmaps[i]);
				if (ret)
					return ret;
			}
			ret = pager_source_precopy(src, fd, i, round ? bitmaps[i] : NULL, &sent);
			if (ret)
				return ret;
			dirty += sent;
		}
		*sent_total += dirty;
		pr_info("pre-copy round %u: %" PRIu64 " pages", round, dirty);
		if (round && dirty < PRECOPY_ENOUGH_PAGES)
			break;
	}
	return 0;
}

/* After the vCPUs stopped: the pages written since the last round are stale over there. */
static int precopy_discard(struct machine *m, struct pager_source *src, int fd,
			   uint64_t *bitmaps[GUEST_NR_REGIONS], uint64_t *discarded_total)
{
	uint64_t discarded;
	unsigned int i;
	int ret;

	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		ret = vm_dirty_log_get(m->vm, m->regions[i].slot, bitmaps[i]);
		if (!ret)
			ret = pager_source_discard(src, fd, i, bitmaps[i], &discarded);
		if (!ret)
			ret = vm_dirty_log_disable(m->vm, m->regions[i].slot);
		if (ret)
			return ret;
		*discarded_total += discarded;
	}
	return 0;
}

static uint64_t memory_digest(const struct machine *m)
{
	struct digest d;
	unsigned int i;

	if (digest_init(&d))
		return 0;
	for (i = 0; i < GUEST_NR_REGIONS; i++)
		digest_update_pages(&d, m->mem[i], m->regions[i].size, GUEST_PAGE_SIZE);
	return digest_final(&d);
}

/* What the destination needs to build the VM (and register its memory) before any page. */
static int send_config(int fd, const struct machine *m)
{
	struct mig_vm_config cfg = { .guest = m->cfg, .irqchip = m->irqchip };
	Mig__VmConfig msg;

	mig_vm_config_to_msg(&cfg, &msg);
	return mig_vm_config_send(fd, &msg, MIG_HANDSHAKE_TIMEOUT_MS);
}

/* Switchover, VmState, then one VcpuState per vCPU, on the demand socket. */
static int send_state(int fd, struct machine *m, uint64_t digest, uint64_t precopy_pages,
		      size_t *state_bytes)
{
	Wire__Switchover sw = WIRE__SWITCHOVER__INIT;
	struct vm_state vm_st;
	struct vcpu_state *st;
	size_t cap = VCPU_STATE_MAX_ENCODED;
	unsigned int i;
	ssize_t len;
	void *buf;
	int ret;

	sw.memory_digest = digest;
	sw.precopy_pages = precopy_pages;
	ret = wire_send(fd, WIRE_SWITCHOVER, &sw.base, MIG_HANDSHAKE_TIMEOUT_MS);
	if (ret)
		return ret;

	buf = malloc(cap);
	st = vcpu_state_alloc();
	if (!buf || !st) {
		ret = -ENOMEM;
		goto out;
	}
	ret = vm_state_save(m->vm, &vm_st);
	if (ret)
		goto out;
	len = vm_state_encode(&vm_st, buf, cap);
	ret = len < 0 ? (int)len : wire_send_raw(fd, WIRE_VM_STATE, buf, (size_t)len, MIG_HANDSHAKE_TIMEOUT_MS);
	*state_bytes = len > 0 ? (size_t)len : 0;
	for (i = 0; !ret && i < m->cfg.nr_vcpus; i++) {
		ret = vcpu_state_save(m->vcpus[i], st);
		if (ret)
			break;
		len = vcpu_state_encode(st, buf, cap);
		if (len < 0) {
			ret = (int)len;
			break;
		}
		*state_bytes += (size_t)len;
		ret = wire_send_raw(fd, WIRE_VCPU_STATE, buf, (size_t)len, MIG_HANDSHAKE_TIMEOUT_MS);
	}
out:
	vcpu_state_free(st);
	free(buf);
	return ret;
}

static void write_json(const struct mig_source_opts *o, const struct pager_source_stats *s,
		       uint64_t digest, size_t state_bytes, uint64_t downtime_ns, int status)
{
	struct json j;
	char hex[17];
	FILE *f;

	if (!o->json_path)
		return;
	f = strcmp(o->json_path, "-") ? fopen(o->json_path, "w") : stdout;
	if (!f) {
		pr_err("cannot write %s: %s", o->json_path, strerror(errno));
		return;
	}
	json_init(&j, f);
	json_object_begin(&j);
	json_kv_bool(&j, "ok", status == 0);
	snprintf(hex, sizeof(hex), "%016" PRIx64, digest);
	json_kv_str(&j, "memory_digest", hex);
	json_kv_u64(&j, "state_bytes", state_bytes);
	json_kv_double(&j, "stop_to_serve_ms", (double)downtime_ns / 1e6, 3);
	json_key(&j, "serve");
	json_value_prepare(&j);
	pager_source_stats_write_json(s, f);
	json_object_end(&j);
	if (f != stdout)
		fclose(f);
}

int mig_source_run(const struct mig_source_opts *o)
{
	struct pager_source_stats stats = { 0 };
	struct pager_source *src = NULL;
	struct pager_layout layout;
	struct machine *m = NULL;
	struct net_addr addr;
	uint64_t *bitmaps[GUEST_NR_REGIONS] = { NULL };
	uint64_t digest = 0, stopped_ns = 0, serving_ns = 0, precopy_sent = 0, discarded = 0;
	size_t state_bytes = 0;
	int fds[2] = { -1, -1 }, ret, status = MIG_EXIT_SETUP;
	char err[512];
	unsigned int i;

	if (net_parse_addr(o->connect, "127.0.0.1", &addr)) {
		pr_err("bad destination address '%s'", o->connect);
		return MIG_EXIT_SETUP;
	}
	ret = machine_create(&o->guest, o->irqchip, &m);
	if (!ret)
		ret = machine_add_slots(m);
	if (!ret)
		ret = machine_add_vcpus(m);
	if (!ret)
		ret = machine_boot(m);
	if (!ret && o->kvmclock)
		ret = machine_enable_kvmclock(m);
	machine_layout(m, &layout);
	if (!ret)
		ret = pager_source_create(&o->serve, &src);
	for (i = 0; !ret && i < layout.n_regions; i++) {
		ret = pager_source_add_region(src, i, layout.regions[i].gpa, m->mem[i],
					      layout.regions[i].size);
		bitmaps[i] = calloc(layout.regions[i].size / GUEST_PAGE_SIZE / 64 + 1, sizeof(uint64_t));
		if (!ret && !bitmaps[i])
			ret = -ENOMEM;
	}
	if (ret) {
		pr_err("cannot build the guest: %s", strerror(-ret));
		goto out;
	}

	/* Connect first: the destination builds the VM and registers memory meanwhile. */
	status = MIG_EXIT_MIGRATION;
	for (i = 0; i < 2; i++) {
		fds[i] = net_connect(&addr, o->timeout_ms);
		if (fds[i] < 0) {
			pr_err("cannot connect to the destination %s: %s", o->connect, strerror(-fds[i]));
			goto out;
		}
	}
	ret = pager_handshake_source(&fds[0], &fds[1], true, 0, &layout, MIG_HANDSHAKE_TIMEOUT_MS,
				     err, sizeof(err));
	if (!ret)
		ret = send_config(fds[0], m);
	if (ret) {
		pr_err("handshake with %s: %s", o->connect, ret ? err : "");
		goto out;
	}

	pr_info("running %s on %u vCPUs over %" PRIu64 " MiB", guest_image(o->guest.program)->name,
		o->guest.nr_vcpus, o->guest.work_size >> 20);
	ret = run_until_switch(m, o);
	if (!ret && o->precopy_rounds)
		ret = precopy(m, src, fds[0], o->precopy_rounds, bitmaps, &precopy_sent);
	if (ret) {
		machine_stop(m);
		pr_err("running up to the switch-over: %s", strerror(-ret));
		goto out;
	}
	ret = stop_guest(m);
	if (!ret && o->precopy_rounds)
		ret = precopy_discard(m, src, fds[0], bitmaps, &discarded);
	if (ret)
		goto out;
	stopped_ns = clock_now_ns();
	digest = memory_digest(m);
	pr_info("switch-over: vCPUs stopped at progress %" PRIu64 ", memory digest %016" PRIx64
		", %" PRIu64 " pages pre-copied, %" PRIu64 " of them discarded",
		m->monitor.vcpu[0].progress, digest, precopy_sent, discarded);

	ret = send_state(fds[0], m, digest, pager_source_pages_held(src), &state_bytes);
	if (ret) {
		pr_err("sending the guest's state: %s", strerror(-ret));
		goto out;
	}
	serving_ns = clock_now_ns();
	pr_info("state sent (%zu bytes); serving pages", state_bytes);
	ret = pager_source_serve(src, fds[0], fds[1]);
	if (ret) {
		pr_err("serving pages: %s", pager_source_error(src));
		goto out;
	}
	status = MIG_EXIT_OK;
out:
	if (src)
		pager_source_get_stats(src, &stats);
	if (!status)
		pr_info("destination has every page: %" PRIu64 " demanded, %" PRIu64 " pushed",
			stats.pages_demand, stats.pages_push);
	write_json(o, &stats, digest, state_bytes, serving_ns ? serving_ns - stopped_ns : 0, status);
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (i = 0; i < GUEST_NR_REGIONS; i++)
		free(bitmaps[i]);
	pager_source_destroy(src);
	machine_destroy(m);
	return status;
}
