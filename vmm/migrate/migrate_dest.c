// SPDX-License-Identifier: GPL-2.0-only
/*
 * The destination daemon's one migration: accept, receive the layout, the VM config and the
 * state; build the VM and its memory; register the memory with the pager and start the
 * listener; only then restore state (KVM writes guest memory inside KVM_SET_MSRS, and would
 * inside KVM_SET_NESTED_STATE: those faults are served while the ioctl waits); run the guest
 * while its memory arrives; check the guest's answer and the memory as received.
 */
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
#include "watchdog.h"
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_RESTORE_STEPS (8 + GUEST_MAX_VCPUS * 16)

/* Every page's hash as installed, before the guest could write to it. */
struct received_digest {
	uint64_t *hashes;
	uint64_t region_first[GUEST_NR_REGIONS]; /* index of each region's first page */
	uint64_t n_pages;
	uint64_t zero_hash;
};

struct restore_log {
	struct watchdog *wd;
	unsigned int n;
	struct {
		const char *ioctl;
		uint32_t vcpu;
		uint64_t ns;
	} steps[MAX_RESTORE_STEPS];
};

struct dest_run {
	const struct mig_dest_opts *o;
	struct machine *m;
	struct pager *pager;
	struct watchdog *wd;
	struct pager_layout layout;
	struct guest_config guest;
	bool irqchip;
	uint64_t source_digest, received_digest;
	struct received_digest rd;
	struct vm_state vm_state;
	struct vcpu_state *vcpu_states[GUEST_MAX_VCPUS];
	size_t state_bytes;
	struct restore_log restore;
	pid_t restore_tid;
	uint64_t t_accepted, t_switchover, t_state, t_running, t_complete;
	bool guest_ok, digest_match;
	char guest_check[256];
	char failure[640];
};

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

	watchdog_enter(log->wd, ioctl, vcpu_id == RESTORE_VM ? -1 : (int)vcpu_id);
}

static void restore_end(void *opaque, uint32_t vcpu_id, const char *ioctl, int err,
			uint64_t elapsed_ns)
{
	struct restore_log *log = opaque;

	watchdog_leave(log->wd);
	if (log->n < MAX_RESTORE_STEPS)
		log->steps[log->n++] = (typeof(log->steps[0])){ ioctl, vcpu_id, elapsed_ns };
	pr_debug("restore: %s (vCPU %d) %s in %.1f us", ioctl,
		 vcpu_id == RESTORE_VM ? -1 : (int)vcpu_id, err ? "failed" : "done",
		 (double)elapsed_ns / 1e3);
}

static int accept_pair(const struct mig_dest_opts *o, int fds[2])
{
	struct net_addr addr;
	char text[128];
	int lfd, i;

	if (net_parse_addr(o->listen, "127.0.0.1", &addr)) {
		pr_err("bad listen address '%s'", o->listen);
		return -EINVAL;
	}
	lfd = net_listen(&addr, 2);
	if (lfd < 0) {
		pr_err("cannot listen on %s: %s", o->listen, strerror(-lfd));
		return lfd;
	}
	if (o->port_file) {
		i = net_write_port_file(o->port_file, lfd);
		if (i) {
			pr_err("cannot write %s: %s", o->port_file, strerror(-i));
			close(lfd);
			return i;
		}
	}
	net_format_addr(&addr, text, sizeof(text));
	pr_info("waiting for a migration on %s (port %d)", text, net_local_port(lfd));
	fds[0] = net_accept(lfd, o->accept_timeout_ms);
	fds[1] = fds[0] < 0 ? fds[0] : net_accept(lfd, MIG_HANDSHAKE_TIMEOUT_MS);
	/* One migration at a time: nobody else gets in once this one has both connections. */
	close(lfd);
	for (i = 0; i < 2; i++) {
		if (fds[i] < 0) {
			pr_err("no source connected: %s", strerror(-fds[i]));
			if (i == 1)
				close(fds[0]);
			return fds[i];
		}
	}
	return 0;
}

static int fail_peer(int fd, Wire__ErrorCode code, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_peer(int fd, Wire__ErrorCode code, int err, const char *fmt, ...)
{
	char text[WIRE_MAX_ERROR_TEXT];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	pr_err("%s", text);
	wire_send_error(fd, code, text);
	return err;
}

static bool layouts_equal(const struct pager_layout *a, const struct pager_layout *b)
{
	uint32_t i;

	if (a->n_regions != b->n_regions)
		return false;
	for (i = 0; i < a->n_regions; i++)
		if (a->regions[i].gpa != b->regions[i].gpa || a->regions[i].size != b->regions[i].size)
			return false;
	return true;
}

/* The memory the config implies must be the memory the source will serve. */
static int check_layout(struct dest_run *run, int fd)
{
	struct guest_region regions[GUEST_NR_REGIONS];
	struct pager_layout expected = { .n_regions = GUEST_NR_REGIONS };
	unsigned int i;

	guest_regions(&run->guest, regions);
	for (i = 0; i < GUEST_NR_REGIONS; i++)
		expected.regions[i] = (struct pager_region){ .id = i, .gpa = regions[i].gpa,
							     .size = regions[i].size };
	if (layouts_equal(&expected, &run->layout))
		return 0;
	return fail_peer(fd, WIRE__ERROR_CODE__ERROR_LAYOUT, -EINVAL,
			 "memory layout refused: %u regions (first 0x%" PRIx64 "+0x%" PRIx64
			 "), the VM config needs %u (first 0x%" PRIx64 "+0x%" PRIx64 ")",
			 run->layout.n_regions, run->layout.regions[0].gpa,
			 run->layout.regions[0].size, expected.n_regions, expected.regions[0].gpa,
			 expected.regions[0].size);
}

static int recv_config(struct dest_run *run, int fd)
{
	uint8_t body[MIG_VM_CONFIG_MAX_ENCODED];
	struct mig_vm_config cfg;
	unsigned int type;
	char err[256];
	size_t len;
	int ret;

	ret = wire_recv_raw(fd, &type, body, sizeof(body), &len, MIG_HANDSHAKE_TIMEOUT_MS);
	if (ret || type != WIRE_VM_CONFIG)
		return fail_peer(fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, ret ? ret : -EPROTO,
				 "expected the VM config after the layout (%s)",
				 ret ? strerror(-ret) : wire_type_name(type));
	ret = mig_vm_config_decode(body, len, &cfg, err, sizeof(err));
	if (ret)
		return fail_peer(fd, ret == -EINVAL ? WIRE__ERROR_CODE__ERROR_LAYOUT
						    : WIRE__ERROR_CODE__ERROR_PROTOCOL,
				 ret, "VM config refused: %s", err);
	run->guest = cfg.guest;
	run->irqchip = cfg.irqchip;
	return check_layout(run, fd);
}

static int recv_states(struct dest_run *run, int fd)
{
	size_t cap = VCPU_STATE_MAX_ENCODED, len;
	char err[256];
	unsigned int type, i;
	void *buf = malloc(cap);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = wire_recv_raw(fd, &type, buf, cap, &len, MIG_HANDSHAKE_TIMEOUT_MS);
	if (!ret && type != WIRE_VM_STATE)
		ret = -EPROTO;
	if (!ret)
		ret = vm_state_decode(buf, len, &run->vm_state, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "no VM state: %s", strerror(-ret));
	if (ret) {
		ret = fail_peer(fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, ret, "VM state refused: %s", err);
		goto out;
	}
	run->state_bytes = len;
	for (i = 0; i < run->guest.nr_vcpus; i++) {
		run->vcpu_states[i] = vcpu_state_alloc();
		if (!run->vcpu_states[i]) {
			ret = -ENOMEM;
			goto out;
		}
		ret = wire_recv_raw(fd, &type, buf, cap, &len, MIG_HANDSHAKE_TIMEOUT_MS);
		if (!ret && type != WIRE_VCPU_STATE)
			ret = -EPROTO;
		if (!ret)
			ret = vcpu_state_decode(buf, len, run->vcpu_states[i], err, sizeof(err));
		else
			snprintf(err, sizeof(err), "%s", strerror(-ret));
		if (!ret && run->vcpu_states[i]->vcpu_id != i) {
			snprintf(err, sizeof(err), "state %u is for vCPU %u", i,
				 run->vcpu_states[i]->vcpu_id);
			ret = -EPROTO;
		}
		if (ret) {
			ret = fail_peer(fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, ret,
					"state of vCPU %u refused: %s", i, err);
			goto out;
		}
		run->state_bytes += len;
	}
out:
	free(buf);
	return ret;
}

/* The VM and its memory, mapped and untouched. */
static int create_machine(struct dest_run *run)
{
	int ret = machine_create(&run->guest, run->irqchip, &run->m);

	if (ret)
		pr_err("cannot create the VM: %s", strerror(-ret));
	return ret;
}

/* Guest memory registered with userfaultfd: from now on nothing maps it but the pager. */
static int register_memory(struct dest_run *run)
{
	struct pager_options popts;
	uint8_t zero[GUEST_PAGE_SIZE] = { 0 };
	uint64_t first = 0;
	unsigned int i;
	int ret;

	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		run->rd.region_first[i] = first;
		first += run->layout.regions[i].size / GUEST_PAGE_SIZE;
	}
	run->rd.n_pages = first;
	run->rd.zero_hash = digest_page(zero, sizeof(zero));
	run->rd.hashes = calloc(first, sizeof(uint64_t));
	if (!run->rd.hashes)
		return -ENOMEM;

	pager_options_init(&popts);
	popts.listener_cpu = run->o->listener_cpu;
	popts.on_install = on_install;
	popts.on_install_opaque = &run->rd;
	popts.hold_push = true; /* restore faults first: they are the downtime */
	ret = pager_create(&popts, &run->pager);
	for (i = 0; !ret && i < GUEST_NR_REGIONS; i++)
		ret = pager_add_region(run->pager, i, run->m->mem[i], run->layout.regions[i].size);
	if (ret)
		pr_err("cannot register guest memory with the pager: %s", strerror(-ret));
	return ret;
}

/*
 * Pre-copied pages go straight into the registered memory; discards drop the ones the guest
 * wrote again. Ends at the Switchover message, which carries the source's memory digest.
 */
static int recv_precopy(struct dest_run *run, int fd)
{
	struct wire_arena *arena = malloc(sizeof(*arena));
	uint8_t body[WIRE_ARENA_SIZE], *pages = malloc(WIRE_MAX_PAGE_RUN);
	const Wire__PageHeader *ph;
	const Wire__Discard *dis;
	ProtobufCMessage *msg;
	unsigned int type;
	char err[256];
	size_t len, i;
	int ret;

	if (!arena || !pages) {
		ret = -ENOMEM;
		goto out;
	}
	wire_arena_init(arena);
	for (;;) {
		/* The guest still runs on the source: this phase lasts as long as it decides. */
		ret = wire_recv_raw(fd, &type, body, sizeof(body), &len, run->o->timeout_ms);
		if (!ret)
			ret = wire_decode(arena, type, body, len, &msg);
		if (ret) {
			ret = fail_peer(fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, ret,
					"expected pre-copy pages or the switch-over: %s", strerror(-ret));
			goto out;
		}
		if (type == WIRE_SWITCHOVER) {
			const Wire__Switchover *sw = (const Wire__Switchover *)msg;
			struct pager_stats st;

			run->source_digest = sw->memory_digest;
			run->t_switchover = clock_now_ns();
			pager_get_stats(run->pager, &st);
			if (st.pages_precopy != sw->precopy_pages) {
				ret = fail_peer(fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, -EPROTO,
						"pre-copy: the source says %" PRIu64 " pages were sent and"
						" kept, %" PRIu64 " are here",
						sw->precopy_pages, st.pages_precopy);
			}
			break;
		}
		if (type == WIRE_PAGE) {
			ph = (const Wire__PageHeader *)msg;
			ret = wire_check_page_header(ph, &run->layout, GUEST_PAGE_SIZE, err, sizeof(err));
			if (!ret && (ph->flags & WIRE_PAGE_FLAG_DEMAND))
				ret = -EPROTO;
			if (!ret && !(ph->flags & WIRE_PAGE_FLAG_ZERO))
				ret = net_read_full(fd, pages, ph->length, run->o->timeout_ms);
			if (!ret)
				ret = pager_preload(run->pager, ph->region, ph->offset,
						    ph->flags & WIRE_PAGE_FLAG_ZERO ? NULL : pages,
						    ph->length);
		} else if (type == WIRE_DISCARD) {
			dis = (const Wire__Discard *)msg;
			ret = wire_check_discard(dis, &run->layout, GUEST_PAGE_SIZE, err, sizeof(err));
			for (i = 0; !ret && i < dis->n_offsets; i++)
				ret = pager_discard(run->pager, dis->region, dis->offsets[i],
						    (uint64_t)dis->counts[i] * GUEST_PAGE_SIZE);
		} else {
			snprintf(err, sizeof(err), "unexpected %s message", wire_type_name(type));
			ret = -EPROTO;
		}
		if (ret) {
			ret = fail_peer(fd, WIRE__ERROR_CODE__ERROR_PROTOCOL, ret, "pre-copy refused: %s",
					ret == -EPROTO || ret == -EINVAL || ret == -ERANGE ? err
											  : strerror(-ret));
			goto out;
		}
	}
out:
	free(pages);
	free(arena);
	return ret;
}

/* The listener: every restore ioctl from now on can fault a page through it. */
static int start_listener(struct dest_run *run, int demand_fd, int push_fd)
{
	int ret;

	watchdog_set_pager(run->wd, run->pager);
	ret = pager_start(run->pager, demand_fd, push_fd);
	if (ret) {
		pr_err("cannot start the pager: %s", strerror(-ret));
		return ret;
	}
	pr_info("listener running: guest memory faults are served from now on");
	return 0;
}

/* The documented order (vmm/state/vcpu_state.h); the listener is already running. */
static int restore_state(struct dest_run *run)
{
	struct restore_hooks hooks = {
		.begin = restore_begin,
		.end = restore_end,
		.opaque = &run->restore,
	};
	unsigned int i;
	int ret;

	ret = machine_add_slots(run->m);
	if (!ret)
		ret = machine_add_vcpus(run->m);
	if (ret)
		return ret;
	run->restore_tid = gettid();
	ret = vm_state_restore_devices(run->m->vm, &run->vm_state, &hooks);
	for (i = 0; !ret && i < run->guest.nr_vcpus; i++)
		ret = vcpu_state_restore(run->m->vcpus[i], run->vcpu_states[i], &hooks);
	if (!ret)
		ret = vm_state_restore_tsc(run->m->vm, run->vcpu_states, &hooks);
	if (!ret)
		ret = vm_state_restore_clock(run->m->vm, &run->vm_state, &hooks);
	return ret;
}

static bool guest_finished(const struct machine *m)
{
	unsigned int i;

	for (i = 0; i < m->cfg.nr_vcpus; i++)
		if (!m->monitor.vcpu[i].done)
			return false;
	return true;
}

static int wait_for_memory(struct dest_run *run)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)run->o->timeout_ms * 1000000ull;
	bool tty = isatty(STDERR_FILENO) && log_max_level >= LOG_INFO;
	struct pager_stats st;
	int ret;

	do {
		ret = pager_wait(run->pager, 200);
		if (tty) {
			pager_get_stats(run->pager, &st);
			fprintf(stderr, "\rpost-copy: %" PRIu64 "/%" PRIu64 " pages, %" PRIu64
				" faults, p50 %.0f us   %s", st.pages_present, st.pages_total, st.faults,
				(double)st.latency_p50_ns / 1e3, ret == -ETIMEDOUT ? "" : "\n");
		}
	} while (ret == -ETIMEDOUT && clock_now_ns() < deadline);
	if (tty && ret == -ETIMEDOUT)
		fputc('\n', stderr);
	return ret;
}

static int wait_for_guest(struct dest_run *run)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)run->o->timeout_ms * 1000000ull;

	if (run->guest.program == GUEST_INCREMENTER && !run->guest.count) {
		/* Runs forever: let it run on the complete memory a while, then stop it. */
		usleep(run->o->run_after_complete_ms * 1000u);
	} else {
		while (!guest_finished(run->m) && clock_now_ns() < deadline)
			usleep(1000);
	}
	return machine_stop(run->m);
}

static uint64_t thread_blocked_ns(const struct pager_stats *st, pid_t tid, uint64_t *faults)
{
	uint32_t i;

	for (i = 0; i < st->n_threads; i++) {
		if (st->threads[i].tid == tid) {
			*faults = st->threads[i].faults;
			return st->threads[i].blocked_ns;
		}
	}
	*faults = 0;
	return 0;
}

static void write_json(struct dest_run *run, int status)
{
	struct pager_stats st = { 0 };
	uint64_t blocked, faults;
	struct json j;
	char hex[17];
	unsigned int i;
	FILE *f;

	if (!run->o->json_path)
		return;
	f = strcmp(run->o->json_path, "-") ? fopen(run->o->json_path, "w") : stdout;
	if (!f) {
		pr_err("cannot write %s: %s", run->o->json_path, strerror(errno));
		return;
	}
	if (run->pager)
		pager_get_stats(run->pager, &st);
	json_init(&j, f);
	json_object_begin(&j);
	json_kv_i64(&j, "status", status);
	/* The failure can quote the peer's own error text: the writer escapes it. */
	json_kv_str(&j, "failure", run->failure);
	json_kv_str(&j, "guest", guest_image(run->guest.program)->name);
	json_kv_u64(&j, "vcpus", run->guest.nr_vcpus);
	json_kv_bool(&j, "guest_ok", run->guest_ok);
	json_kv_str(&j, "guest_check", run->guest_check);
	json_kv_bool(&j, "digest_match", run->digest_match);
	snprintf(hex, sizeof(hex), "%016" PRIx64, run->received_digest);
	json_kv_str(&j, "digest", hex);
	snprintf(hex, sizeof(hex), "%016" PRIx64, run->source_digest);
	json_kv_str(&j, "source_digest", hex);
	json_kv_u64(&j, "pages_total", st.pages_total);
	json_kv_u64(&j, "pages_demand", st.pages_demand);
	json_kv_u64(&j, "pages_push", st.pages_push);
	json_kv_u64(&j, "pages_zero", st.pages_zero);
	json_kv_u64(&j, "pages_precopy", st.pages_precopy);
	json_kv_u64(&j, "pages_discarded", st.pages_discarded);
	json_kv_u64(&j, "pages_duplicate", st.pages_duplicate);
	json_kv_u64(&j, "faults", st.faults);
	json_key(&j, "fault_latency_us");
	json_object_begin(&j);
	json_kv_double(&j, "p50", (double)st.latency_p50_ns / 1e3, 1);
	json_kv_double(&j, "p90", (double)st.latency_p90_ns / 1e3, 1);
	json_kv_double(&j, "p99", (double)st.latency_p99_ns / 1e3, 1);
	json_kv_double(&j, "p99_9", (double)st.latency_p999_ns / 1e3, 1);
	json_kv_double(&j, "max", (double)st.latency_max_ns / 1e3, 1);
	json_kv_u64(&j, "count", st.latency_count);
	json_object_end(&j);
	json_key(&j, "blocktime_ms");
	json_array_begin(&j);
	for (i = 0; i < run->guest.nr_vcpus; i++) {
		/* The pager knows threads; a vCPU is the thread that ran it. */
		pid_t tid = run->m && run->m->vcpus[i] ? atomic_load(&run->m->vcpus[i]->run_tid) : 0;

		blocked = tid ? thread_blocked_ns(&st, tid, &faults) : 0;
		json_double(&j, (double)blocked / 1e6, 3);
	}
	json_array_end(&j);
	blocked = thread_blocked_ns(&st, run->restore_tid, &faults);
	json_kv_u64(&j, "restore_faults", faults);
	json_kv_double(&j, "restore_blocktime_ms", (double)blocked / 1e6, 3);
	json_kv_u64(&j, "state_bytes", run->state_bytes);
	json_kv_double(&j, "switchover_ms",
		       run->t_running ? (double)(run->t_running - run->t_switchover) / 1e6 : 0.0, 3);
	json_kv_double(&j, "duration_ms", (double)st.duration_ns / 1e6, 3);
	json_key(&j, "restore_steps");
	json_array_begin(&j);
	for (i = 0; i < run->restore.n; i++) {
		json_object_begin(&j);
		json_kv_str(&j, "ioctl", run->restore.steps[i].ioctl);
		json_kv_i64(&j, "vcpu",
			    run->restore.steps[i].vcpu == RESTORE_VM ? -1 : (int)run->restore.steps[i].vcpu);
		json_kv_double(&j, "us", (double)run->restore.steps[i].ns / 1e3, 1);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_key(&j, "pager");
	json_value_prepare(&j);
	pager_stats_write_json(&st, f);
	json_object_end(&j);
	if (f != stdout)
		fclose(f);
	if (run->pager && log_max_level >= LOG_INFO)
		pager_stats_write_summary(&st, stderr);
}

/* Threads may be blocked for good on pages that will never come: leave without them. */
static void __attribute__((noreturn)) abandon(struct dest_run *run, int status)
{
	write_json(run, status);
	fflush(NULL);
	_exit(status);
}

int mig_dest_run(const struct mig_dest_opts *o)
{
	struct watchdog_config wcfg = { 0 };
	struct dest_run *run = calloc(1, sizeof(*run));
	int fds[2], ret, status = MIG_EXIT_SETUP;
	unsigned int i;
	char err[512];

	if (!run)
		return MIG_EXIT_SETUP;
	run->o = o;
	if (accept_pair(o, fds))
		goto out;
	run->t_accepted = clock_now_ns();
	status = MIG_EXIT_MIGRATION;
	ret = pager_handshake_dest(&fds[0], &fds[1], false, 0, &run->layout,
				   MIG_HANDSHAKE_TIMEOUT_MS, err, sizeof(err));
	if (ret) {
		snprintf(run->failure, sizeof(run->failure), "handshake: %s", err);
		pr_err("%s", run->failure);
		goto out_close;
	}
	if (recv_config(run, fds[0])) {
		snprintf(run->failure, sizeof(run->failure), "the source's VM config was refused");
		goto out_close;
	}

	if (create_machine(run) || register_memory(run)) {
		snprintf(run->failure, sizeof(run->failure), "cannot build the VM for the config");
		goto out_close;
	}
	if (recv_precopy(run, fds[0]) || recv_states(run, fds[0])) {
		snprintf(run->failure, sizeof(run->failure), "the source's state was refused");
		goto out_close;
	}
	run->t_state = clock_now_ns();
	pr_info("incoming %s on %u vCPUs, %zu bytes of state", guest_image(run->guest.program)->name,
		run->guest.nr_vcpus, run->state_bytes);
	wcfg.bound_ms = o->watchdog_ms;
	wcfg.layout = &run->layout;
	wcfg.vm = run->m->vm;
	ret = watchdog_start(&wcfg, &run->wd);
	if (ret)
		goto out_close;
	run->restore.wd = run->wd;
	ret = start_listener(run, fds[0], fds[1]);
	if (ret) {
		snprintf(run->failure, sizeof(run->failure), "starting the pager: %s", strerror(-ret));
		goto out_close;
	}
	/* The pager owns the sockets now. */
	fds[0] = fds[1] = -1;
	ret = restore_state(run);
	if (ret) {
		snprintf(run->failure, sizeof(run->failure), "restoring vCPU state: %s", strerror(-ret));
		pr_err("%s", run->failure);
		abandon(run, MIG_EXIT_MIGRATION);
	}
	ret = vm_vcpus_start(run->m->vm);
	if (ret) {
		snprintf(run->failure, sizeof(run->failure), "starting vCPUs: %s", strerror(-ret));
		abandon(run, MIG_EXIT_SETUP);
	}
	run->t_running = clock_now_ns();
	pager_release_push(run->pager);
	pr_info("guest running on the destination %.1f ms after the switch-over message",
		(double)(run->t_running - run->t_switchover) / 1e6);

	ret = wait_for_memory(run);
	if (ret) {
		snprintf(run->failure, sizeof(run->failure), "%s",
			 ret == -ETIMEDOUT ? "post-copy did not complete in time" : pager_error(run->pager));
		pr_err("migration failed: %s", run->failure);
		abandon(run, MIG_EXIT_MIGRATION);
	}
	run->t_complete = clock_now_ns();
	ret = wait_for_guest(run);
	watchdog_stop(run->wd);
	run->wd = NULL;
	if (ret) {
		snprintf(run->failure, sizeof(run->failure), "a vCPU failed: %s", strerror(-ret));
		status = MIG_EXIT_CHECK;
		goto out;
	}
	run->received_digest = digest_of_page_hashes(run->rd.hashes, run->rd.n_pages);
	run->digest_match = run->received_digest == run->source_digest;
	run->guest_ok = !machine_check_guest(run->m, run->guest_check, sizeof(run->guest_check));
	pr_info("guest check: %s; memory as received %s the source's at switch-over",
		run->guest_check, run->digest_match ? "matches" : "DIFFERS FROM");
	status = run->guest_ok && run->digest_match ? MIG_EXIT_OK : MIG_EXIT_CHECK;
	goto out;

out_close:
	for (i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
out:
	write_json(run, status);
	watchdog_stop(run->wd);
	pager_destroy(run->pager);
	machine_destroy(run->m);
	for (i = 0; i < GUEST_MAX_VCPUS; i++)
		vcpu_state_free(run->vcpu_states[i]);
	free(run->rd.hashes);
	free(run);
	return status;
}
