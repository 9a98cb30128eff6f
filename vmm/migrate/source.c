// SPDX-License-Identifier: GPL-2.0-only
/* The source end: run the guest, stop it at the switch-over, send its state, serve its pages. */
#include "source.h"
#include "clock.h"
#include "log.h"
#include "net.h"
#include "vm_config.h"

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
		const struct guest_report *rep = &m->monitor.vcpu[i];

		if (rep->done && m->cfg.program == GUEST_NESTED && rep->status) {
			pr_err("vCPU %u: the nested guest stopped with status %#x: %s", i,
			       rep->status, guest_nested_status(rep->status));
			ret = -EINVAL;
		} else if (rep->done) {
			pr_err("vCPU %u finished before the switch-over: nothing left to migrate "
			       "mid-run (switch earlier, or give the guest more work)", i);
			ret = -EINVAL;
		}
	}
	return ret;
}

/* The booted guest, the page server over its memory, and a dirty bitmap per region. */
static int build(struct source_run *run)
{
	const struct mig_source_opts *o = run->o;
	unsigned int i;
	int ret;

	ret = machine_create(&o->guest, o->irqchip, o->backing, &run->m);
	if (ret)
		return ret;
	ret = machine_add_slots(run->m);
	if (!ret)
		ret = machine_add_vcpus(run->m);
	if (!ret)
		ret = machine_boot(run->m);
	if (!ret && o->kvmclock)
		ret = machine_enable_kvmclock(run->m);
	machine_layout(run->m, &run->layout);
	if (!ret)
		ret = pager_source_create(&o->serve, &run->src);
	for (i = 0; !ret && i < run->layout.n_regions; i++) {
		const struct pager_region *r = &run->layout.regions[i];

		ret = (r->backing == PAGER_BACKING_HUGETLB ? pager_source_add_region_hugetlb
							    : pager_source_add_region)(
			run->src, i, r->gpa, run->m->mem[i], r->size);
		run->dirty_bitmaps[i] = calloc(r->size / GUEST_PAGE_SIZE / 64 + 1, sizeof(uint64_t));
		if (!ret && !run->dirty_bitmaps[i])
			ret = -ENOMEM;
	}
	return ret;
}

/* Connects first: the destination builds the VM and registers memory meanwhile. */
static int connect_dest(struct source_run *run, const struct net_addr *addr)
{
	const struct mig_source_opts *o = run->o;
	struct mig_vm_config cfg = { .guest = run->m->cfg, .irqchip = run->m->irqchip };
	Mig__VmConfig msg;
	char err[512];
	unsigned int i;
	int ret;

	for (i = 0; i < o->connections; i++) {
		run->fds[i] = net_connect(addr, o->timeout_ms);
		if (run->fds[i] < 0) {
			pr_err("cannot connect to the destination %s: %s", o->connect,
			       strerror(-run->fds[i]));
			return run->fds[i];
		}
	}
	mig_vm_config_to_msg(&cfg, &msg);
	run->hs = o->handshake;
	ret = mig_source_handshake(&run->fds[0], &run->fds[1], &run->hs, &run->layout,
				   &msg, err, sizeof(err));
	if (ret)
		pr_err("handshake with %s: %s", o->connect, err);
	return ret;
}

/* Runs the guest (pre-copying) up to the switch-over, stops it and digests its memory. */
static int switch_over(struct source_run *run)
{
	const struct mig_source_opts *o = run->o;
	int ret;

	pr_info("running %s on %u vCPUs over %" PRIu64 " MiB", guest_image(o->guest.program)->name,
		o->guest.nr_vcpus, o->guest.work_size >> 20);
	ret = run_until_switch(run->m, o);
	if (!ret && o->precopy_rounds)
		ret = mig_source_precopy(run);
	if (ret) {
		machine_stop(run->m);
		pr_err("running up to the switch-over: %s", strerror(-ret));
		return ret;
	}
	ret = stop_guest(run->m);
	if (!ret && o->stop_and_copy)
		ret = mig_source_precopy_final(run);
	else if (!ret && o->precopy_rounds)
		ret = mig_source_precopy_discard(run);
	if (ret)
		return ret;
	run->stopped_ns = clock_now_ns();
	run->digest = machine_memory_digest(run->m);
	pr_info("switch-over: vCPUs stopped at progress %" PRIu64 ", memory digest %016" PRIx64
		", %" PRIu64 " pages pre-copied, %" PRIu64 " of them discarded",
		run->m->monitor.vcpu[0].progress, run->digest, run->precopy_sent, run->discarded);
	return 0;
}

/* The state, then pages on demand and pushed until the destination has them all. */
static int send_and_serve(struct source_run *run, const struct net_addr *addr)
{
	int ret = mig_source_send_state(run);

	if (ret) {
		pr_err("sending the guest's state: %s", strerror(-ret));
		return ret;
	}
	run->serving_ns = clock_now_ns();
	pr_info("state sent (%zu bytes); serving pages", run->state_bytes);
	return mig_source_serve(run, addr);
}

int mig_source_run(const struct mig_source_opts *o)
{
	struct source_run run = { .o = o, .fds = { -1, -1 } };
	int ret, status = MIG_EXIT_SETUP;
	struct net_addr addr;
	unsigned int i;

	if (net_parse_addr(o->connect, "127.0.0.1", &addr)) {
		pr_err("bad destination address '%s'", o->connect);
		return MIG_EXIT_SETUP;
	}
	ret = build(&run);
	if (ret) {
		pr_err("cannot build the guest: %s", strerror(-ret));
		goto out;
	}
	status = MIG_EXIT_MIGRATION;
	ret = connect_dest(&run, &addr);
	if (!ret)
		ret = switch_over(&run);
	if (!ret)
		ret = send_and_serve(&run, &addr);
	if (!ret)
		status = MIG_EXIT_OK;
	else if (ret == -EBADMSG)
		status = MIG_EXIT_CHECK;
out:
	mig_source_write_report(&run, status);
	for (i = 0; i < 2; i++)
		if (run.fds[i] >= 0)
			close(run.fds[i]);
	for (i = 0; i < GUEST_NR_REGIONS; i++)
		free(run.dirty_bitmaps[i]);
	pager_source_destroy(run.src);
	machine_destroy(run.m);
	return status;
}
