// SPDX-License-Identifier: GPL-2.0-only
/*
 * Building the destination's VM and restoring the source's state into it. The order is the
 * point: the memory is registered with the pager before anything can touch it, and the
 * listener runs before the first restore ioctl, because KVM writes guest memory inside
 * KVM_SET_MSRS (kvmclock) and would inside KVM_SET_NESTED_STATE: those faults are served while
 * the ioctl waits.
 */
#include "dest.h"
#include "clock.h"
#include "digest.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_install(void *opaque, uint32_t region, uint64_t first, uint64_t n,
		       const void *data)
{
	struct received_digest *rd = opaque;
	uint64_t *slot = rd->hashes + rd->region_first[region] + first, i;

	for (i = 0; i < n; i++)
		slot[i] = data ? digest_page((const uint8_t *)data + i * GUEST_PAGE_SIZE,
					     GUEST_PAGE_SIZE)
			       : rd->zero_hash;
}

static void restore_begin(void *opaque, uint32_t vcpu_id, const char *ioctl)
{
	struct restore_log *log = opaque;
	int vcpu = vcpu_id == RESTORE_VM ? -1 : (int)vcpu_id;

	restore_faults_enter(log->faults, ioctl, vcpu);
	watchdog_enter(log->wd, ioctl, vcpu);
}

static void restore_end(void *opaque, uint32_t vcpu_id, const char *ioctl, int err,
			uint64_t elapsed_ns)
{
	struct restore_log *log = opaque;
	uint32_t faults = restore_faults_leave(log->faults);

	watchdog_leave(log->wd);
	if (log->n < DEST_MAX_RESTORE_STEPS)
		log->steps[log->n++] = (typeof(log->steps[0])){ ioctl, vcpu_id, elapsed_ns, faults };
	pr_debug("restore: %s (vCPU %d) %s in %.1f us", ioctl,
		 vcpu_id == RESTORE_VM ? -1 : (int)vcpu_id, err ? "failed" : "done",
		 (double)elapsed_ns / 1e3);
}

/* A hash slot for every page, filled as the pager installs it. */
static int received_digest_init(struct received_digest *rd, const struct pager_layout *layout)
{
	uint8_t zero[GUEST_PAGE_SIZE] = { 0 };
	uint64_t first = 0;
	unsigned int i;

	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		rd->region_first[i] = first;
		first += layout->regions[i].size / GUEST_PAGE_SIZE;
	}
	rd->n_pages = first;
	rd->zero_hash = digest_page(zero, sizeof(zero));
	rd->hashes = calloc(first, sizeof(uint64_t));
	return rd->hashes ? 0 : -ENOMEM;
}

/* At completion: the digest of every page as installed, for the source to confirm. */
static bool completion_digest(void *opaque, uint64_t *digest)
{
	const struct received_digest *rd = opaque;

	*digest = digest_of_page_hashes(rd->hashes, rd->n_pages);
	return true;
}

/* Guest memory registered with userfaultfd: from now on nothing maps it but the pager. */
static int register_memory(struct dest_session *s)
{
	struct pager_options popts;
	unsigned int i;
	int ret;

	ret = received_digest_init(&s->rd, &s->layout);
	if (ret)
		return ret;
	pager_options_init(&popts);
	popts.listener_cpu = s->o->listener_cpu;
	popts.install_move = s->o->install_move;
	popts.on_install = on_install;
	popts.on_install_opaque = &s->rd;
	popts.hold_push = true; /* restore faults first: they are the downtime */
	popts.reconnect_timeout_ms = s->o->reconnect_timeout_ms;
	popts.request_timeout_ms = DEST_REQUEST_TIMEOUT_MS(s->o);
	popts.silence_timeout_ms = DEST_SILENCE_TIMEOUT_MS;
	popts.completion_digest = completion_digest;
	popts.completion_digest_opaque = &s->rd;
	/* The library's messages through the daemon's logger: -q quiets them too. */
	popts.log_fn = log_forward;
	popts.log_opaque = "libpager";
	popts.log_level = (int)log_max_level;
	/* Each fault of the restore and of the vCPUs' first runs, page by page, for the report. */
	popts.on_fault = restore_faults_on_fault;
	popts.on_fault_opaque = &s->faults;
	ret = pager_create(&popts, &s->pager);
	for (i = 0; !ret && i < GUEST_NR_REGIONS; i++)
		ret = s->m->memfd[i] >= 0
			      ? pager_add_region_memfd(s->pager, i, s->m->mem[i],
						       s->layout.regions[i].size, s->m->memfd[i], 0)
			      : (s->m->backing == PAGER_BACKING_HUGETLB ? pager_add_region_hugetlb
									 : pager_add_region)(
					s->pager, i, s->m->mem[i], s->layout.regions[i].size);
	return ret;
}

int dest_build(struct dest_session *s)
{
	/* The memory is what the source's layout says it is (check_layout() made it uniform). */
	int ret = machine_create(&s->guest, s->irqchip, s->layout.regions[0].backing, &s->m);

	if (ret)
		return dest_fail(s, MIG_EXIT_MIGRATION, ret, "cannot build the VM for the config: %s",
				 strerror(-ret));
	ret = register_memory(s);
	if (ret)
		return dest_fail(s, MIG_EXIT_MIGRATION, ret,
				 "cannot register guest memory with the pager: %s", strerror(-ret));
	return 0;
}

/* For the watchdog's report: what the state being restored says lives at a page. */
static const char *page_what(void *opaque, uint64_t gpa)
{
	const struct dest_session *s = opaque;

	return restore_faults_page_what(&s->faults, gpa);
}

/* The watchdog: from now on a restore ioctl or vCPU blocked on a page is reported. */
static int start_watchdog(struct dest_session *s)
{
	struct watchdog_config wcfg = {
		.bound_ms = s->o->watchdog_ms,
		/* An unanswered request is asked again, a silent connection taken as lost. */
		.pager_grace_ms = DEST_SILENCE_TIMEOUT_MS + DEST_REQUEST_TIMEOUT_MS(s->o),
		.on_stall = dest_watchdog_stalled,
		.opaque = s,
		.page_what = page_what,
		.layout = &s->layout,
		/* Its vCPUs are not created yet: the VM is set once they all exist. */
		.vm = NULL,
	};
	int ret;

	restore_faults_init(&s->faults, &s->layout, s->vcpu_states, s->guest.nr_vcpus);
	ret = watchdog_start(&wcfg, &s->wd);
	if (ret)
		return dest_fail(s, MIG_EXIT_MIGRATION, ret, "starting the watchdog: %s",
				 strerror(-ret));
	s->restore.wd = s->wd;
	s->restore.faults = &s->faults;
	watchdog_set_pager(s->wd, s->pager);
	return 0;
}

/* The listener: every restore ioctl from now on can fault a page through it. */
static int start_listener(struct dest_session *s)
{
	int ret = pager_start(s->pager, s->fds[0], s->fds[1]);

	if (ret)
		return dest_fail(s, MIG_EXIT_MIGRATION, ret, "starting the pager: %s",
				 strerror(-ret));
	/* The pager owns the sockets now. */
	s->fds[0] = s->fds[1] = -1;
	ret = dest_reconnect_start(s);
	if (ret)
		return dest_fail(s, MIG_EXIT_MIGRATION, ret, "starting the reconnect thread: %s",
				 strerror(-ret));
	pr_info("listener running: guest memory faults are served from now on");
	return 0;
}

/* The documented order (vmm/state/vcpu_state.h); the listener runs already (but with
 * --x-restore-before-listener). */
static int restore_state(struct dest_session *s)
{
	struct restore_hooks hooks = {
		.begin = restore_begin,
		.end = restore_end,
		.opaque = &s->restore,
	};
	unsigned int i;
	int ret;

	ret = machine_add_slots(s->m);
	if (!ret)
		ret = machine_add_vcpus(s->m);
	if (ret)
		return ret;
	restore_faults_set_vcpus(&s->faults, s->m->vcpus, s->guest.nr_vcpus);
	watchdog_set_vm(s->wd, s->m->vm);
	s->restore_tid = gettid();
	ret = vm_state_restore_devices(s->m->vm, &s->vm_state, &hooks);
	for (i = 0; !ret && i < s->guest.nr_vcpus; i++)
		ret = vcpu_state_restore(s->m->vcpus[i], s->vcpu_states[i], &hooks);
	if (!ret)
		ret = vm_state_restore_tsc(s->m->vm, s->vcpu_states, &hooks);
	if (!ret)
		ret = vm_state_restore_clock(s->m->vm, &s->vm_state, &hooks);
	return ret;
}

int dest_restore(struct dest_session *s)
{
	uint64_t switchover_ns = s->entered_ns[DEST_STATE];
	bool wrong_order = s->o->restore_before_listener;
	int ret;

	ret = start_watchdog(s);
	if (!ret && !wrong_order)
		ret = start_listener(s);
	if (ret)
		return ret;
	/* From here a thread can block for good on a page the source never sends. */
	s->threads_may_hang = true;
	if (wrong_order)
		pr_warn("restoring the state BEFORE the listener runs (--x-restore-before-listener): "
			"a restore ioctl that touches a missing page blocks until the watchdog "
			"reports it");
	ret = restore_state(s);
	if (ret)
		return dest_fail(s, MIG_EXIT_MIGRATION, ret, "restoring vCPU state: %s",
				 strerror(-ret));
	if (wrong_order) {
		ret = start_listener(s);
		if (ret)
			return ret;
	}
	ret = vm_vcpus_start(s->m->vm);
	if (ret)
		return dest_fail(s, MIG_EXIT_SETUP, ret, "starting vCPUs: %s", strerror(-ret));
	pager_release_push(s->pager);
	pr_info("guest running on the destination %.1f ms after the switch-over message",
		(double)(clock_now_ns() - switchover_ns) / 1e6);
	return 0;
}
