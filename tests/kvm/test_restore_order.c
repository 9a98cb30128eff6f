// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ordering rule, proven on this host's KVM (DESIGN.md section 1, issue 3): guest memory
 * is registered with userfaultfd and the listener runs before the first ioctl that restores
 * vCPU state. A source VM sets the kvmclock wall clock, system time and steal time MSRs to
 * pages of its workload; its state is saved, and a source process serves its memory over TCP.
 *
 *   wrong order  (child) restore before pager_start: KVM_SET_MSRS blocks in the kernel for
 *                good; the watchdog names it and the wall-clock page within its bound and
 *                ends the child with WATCHDOG_EXIT_STALL.
 *   vCPU stall   (child) the listener runs but the source is stopped (SIGSTOP) when the guest
 *                touches a missing page: the watchdog names the vCPU, KVM_RUN and the page.
 *   right order  pager_start, then the restore: the wall-clock and system-time pages, missing,
 *                are fetched inside KVM_SET_MSRS by the restoring thread, the steal-time page
 *                at the first KVM_RUN by the vCPU thread, and the guest reads the wall clock
 *                KVM wrote (a kernel write into missing memory, not lost). KVM_SET_NESTED_STATE
 *                takes part where KVM_CAP_NESTED_STATE is non-zero.
 *   no SIGBUS    the pager's userfaultfd, as the kernel reports it, lacks UFFD_FEATURE_SIGBUS
 *                (which would make KVM_SET_MSRS "succeed" and lose the kernel's write).
 *
 * The scenarios that fork run first, while this process has no threads.
 */
#include <asm/kvm_para.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "child_proc.h"
#include "clock.h"
#include "kvm_test.h"
#include "page_server.h"
#include "pager.h"
#include "state_codec.h"
#include "vcpu_state.h"
#include "watchdog.h"

#define WORK_SIZE (64 * 1024)
/* Each kvmclock structure on a page of its own, so that presence tells which one faulted. */
#define WALL_CLOCK_GPA (GUEST_WORK_GPA + 0x1000)
#define SYSTEM_TIME_GPA (GUEST_WORK_GPA + 0x2000)
#define STEAL_TIME_GPA (GUEST_WORK_GPA + 0x3000)
/* The page the vCPU-stall scenario's guest reads while the source is stopped. */
#define UNSERVED_GPA (GUEST_WORK_GPA + 0x4000)

/*
 * The source's wall clock page holds this version before KVM writes it; each KVM write adds
 * 2. So the destination reads SOURCE_WALL_VERSION + 4 only if KVM read the source's page,
 * fetched inside the ioctl, before writing it.
 */
#define SOURCE_WALL_VERSION 0x100u
/* Every source workload page carries a marker from this offset on (past any kvmclock struct). */
#define MARKER_OFFSET 64

/* The wall clock KVM writes against the epoch the test measures around it. */
#define WALL_EPOCH_TOLERANCE_NS 5000000ll

#define STALL_BOUND_MS 1000
#define STALL_MARGIN_MS 1000
#define CHILD_HARD_LIMIT_MS 15000
#define MARK_RESTORE "restore begins"
#define MARK_RUN "vCPU starts"
#define MARK_REPORT "watchdog: "

struct source {
	struct guest_config cfg;
	struct test_guest guest;
	struct vcpu_state *state;
	struct vm_state vm_state;
	uint32_t wall_version; /* what KVM left in the source's wall clock */
	int nested_cap;
	uint64_t set_msrs_present_ns; /* KVM_SET_MSRS of the state with every page present */
};

static uint8_t marker_byte(gpa_t page_gpa)
{
	return (uint8_t)(0xa5 ^ (page_gpa >> 12));
}

static void *gpa_hva(struct test_guest *g, gpa_t gpa)
{
	void *hva = vm_gpa_to_hva(g->vm, gpa, GUEST_PAGE_SIZE);

	TEST_ASSERT(hva, "gpa %#lx is not guest memory", (unsigned long)gpa);
	return hva;
}

static struct kvm_msr_entry *state_msr(struct vcpu_state *st, uint32_t index)
{
	uint32_t i;

	for (i = 0; i < st->nmsrs; i++)
		if (st->msrs[i].index == index)
			return &st->msrs[i];
	die("MSR %#x is not in the saved state", index);
}

static unsigned int restore_step_index(const char *ioctl)
{
	unsigned int i;

	for (i = 0; i < vcpu_restore_nr_steps; i++)
		if (!strcmp(vcpu_restore_steps[i].ioctl, ioctl))
			return i;
	die("no %s restore step", ioctl);
}

static void state_through_codec(const struct vcpu_state *in, struct vcpu_state *out)
{
	size_t cap = vcpu_state_encoded_size(in);
	char err[256] = "";
	void *buf = malloc(cap);

	TEST_ASSERT(buf && vcpu_state_encode(in, buf, cap) == (ssize_t)cap, "encode");
	TEST_ASSERT(vcpu_state_decode(buf, cap, out, err, sizeof(err)) == 0, "decode: %s", err);
	free(buf);
}

/*
 * The source: a wallclock guest whose kvmclock MSRs point into its workload, saved (and sent
 * through the codec, as the migration stream would) without ever running.
 */
static void source_build(struct source *src)
{
	struct vcpu_state *saved = vcpu_state_alloc();
	uint8_t wall_clock[GUEST_WALLCLOCK_SIZE];
	struct vcpu *vcpu;
	uint32_t version;
	gpa_t page;
	uint64_t start;

	src->cfg = (struct guest_config){
		.program = GUEST_WALLCLOCK, .nr_vcpus = 1, .work_size = WORK_SIZE,
		.count = WALL_CLOCK_GPA,
	};
	src->state = vcpu_state_alloc();
	TEST_ASSERT(saved && src->state, "out of memory");
	test_guest_create(&src->guest, &src->cfg, false, true);
	vcpu = src->guest.vm->vcpus[0];
	for (page = GUEST_WORK_GPA; page < GUEST_WORK_GPA + WORK_SIZE; page += GUEST_PAGE_SIZE)
		memset((uint8_t *)gpa_hva(&src->guest, page) + MARKER_OFFSET, marker_byte(page),
		       GUEST_PAGE_SIZE - MARKER_OFFSET);
	version = SOURCE_WALL_VERSION;
	TEST_OK(vm_gpa_write(src->guest.vm, WALL_CLOCK_GPA + GUEST_WALLCLOCK_VERSION, &version,
			     sizeof(version)));

	/* guest_vcpu_boot() set the CPUID with KVM's paravirt leaves: the MSRs are accepted. */
	TEST_OK(vcpu_set_msr(vcpu, MSR_KVM_WALL_CLOCK_NEW, WALL_CLOCK_GPA));
	TEST_OK(vcpu_set_msr(vcpu, MSR_KVM_SYSTEM_TIME_NEW, SYSTEM_TIME_GPA | KVM_MSR_ENABLED));
	TEST_OK(vcpu_set_msr(vcpu, MSR_KVM_STEAL_TIME, STEAL_TIME_GPA | KVM_MSR_ENABLED));
	TEST_OK(vm_gpa_read(src->guest.vm, WALL_CLOCK_GPA + GUEST_WALLCLOCK_VERSION,
			    &src->wall_version, sizeof(src->wall_version)));
	TEST_ASSERT(src->wall_version == SOURCE_WALL_VERSION + 2,
		    "KVM left wall clock version %#x on the source, expected %#x",
		    src->wall_version, SOURCE_WALL_VERSION + 2);

	TEST_OK(vcpu_state_save(vcpu, saved));
	TEST_OK(vm_state_save(src->guest.vm, &src->vm_state));
	state_through_codec(saved, src->state);
	TEST_ASSERT(state_msr(src->state, MSR_KVM_WALL_CLOCK_NEW)->data == WALL_CLOCK_GPA &&
		    state_msr(src->state, MSR_KVM_SYSTEM_TIME_NEW)->data ==
			    (SYSTEM_TIME_GPA | KVM_MSR_ENABLED) &&
		    state_msr(src->state, MSR_KVM_STEAL_TIME)->data ==
			    (STEAL_TIME_GPA | KVM_MSR_ENABLED),
		    "the saved state does not carry the kvmclock and steal time MSRs");

	src->nested_cap = vm_check_cap(src->guest.vm, KVM_CAP_NESTED_STATE);
	TEST_ASSERT(src->nested_cap >= 0, "KVM_CHECK_EXTENSION(NESTED_STATE): %d",
		    src->nested_cap);
	TEST_ASSERT(!!(src->state->parts & VCPU_PART_NESTED) == !!src->nested_cap,
		    "nested state saved: %s, KVM_CAP_NESTED_STATE %d",
		    src->state->parts & VCPU_PART_NESTED ? "yes" : "no", src->nested_cap);

	/*
	 * The baseline: the same KVM_SET_MSRS with every page present, on the source itself.
	 * It writes the source's wall clock again: its saved bytes are put back after.
	 */
	TEST_OK(vm_gpa_read(src->guest.vm, WALL_CLOCK_GPA, wall_clock, sizeof(wall_clock)));
	start = clock_now_ns();
	TEST_OK(vcpu_restore_step(vcpu, src->state, restore_step_index("KVM_SET_MSRS"), NULL));
	src->set_msrs_present_ns = clock_now_ns() - start;
	TEST_OK(vm_gpa_write(src->guest.vm, WALL_CLOCK_GPA, wall_clock, sizeof(wall_clock)));
	vcpu_state_free(saved);
}

/* ---- the destination's memory and pager ---- */

static void layout_of_guest(const struct test_guest *g, struct pager_layout *layout)
{
	unsigned int i;

	memset(layout, 0, sizeof(*layout));
	layout->n_regions = GUEST_NR_REGIONS;
	for (i = 0; i < GUEST_NR_REGIONS; i++)
		layout->regions[i] = (struct pager_region){
			.id = i, .gpa = g->regions[i].gpa, .size = g->regions[i].size,
			.backing = PAGER_BACKING_ANON,
		};
}

/* The destination VM, empty, and a pager over its memory (not started). */
static struct pager *dest_create(struct test_guest *dst, const struct guest_config *cfg,
				 const struct pager_options *opts)
{
	struct pager *pager;
	unsigned int i;
	int r;

	test_guest_create(dst, cfg, false, false);
	r = pager_create(opts, &pager);
	TEST_ASSERT(r == 0, "pager_create: %s", strerror(-r));
	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		r = pager_add_region(pager, i, dst->mem[i], dst->regions[i].size);
		TEST_ASSERT(r == 0, "pager_add_region %u: %s", i, strerror(-r));
	}
	return pager;
}

/* Connects to the source; its layout must be the destination's. */
static void dest_start(struct test_guest *dst, struct pager *pager, const struct page_server *ps)
{
	struct pager_layout theirs, ours;
	unsigned int i;
	int fds[2], r;

	page_server_connect(ps, fds, &theirs);
	layout_of_guest(dst, &ours);
	TEST_ASSERT(theirs.n_regions == ours.n_regions, "layout: %u regions", theirs.n_regions);
	for (i = 0; i < ours.n_regions; i++)
		TEST_ASSERT(theirs.regions[i].gpa == ours.regions[i].gpa &&
			    theirs.regions[i].size == ours.regions[i].size,
			    "layout region %u differs", i);
	r = pager_start(pager, fds[0], fds[1]);
	TEST_ASSERT(r == 0, "pager_start: %s", strerror(-r));
}

/* Reads one byte of every page but `skip`: each missing one is fetched by this thread. */
static void prefault_all_but(struct test_guest *dst, gpa_t skip)
{
	unsigned int i;
	uint64_t off;

	for (i = 0; i < GUEST_NR_REGIONS; i++)
		for (off = 0; off < dst->regions[i].size; off += GUEST_PAGE_SIZE)
			if (dst->regions[i].gpa + off != skip)
				(void)*(volatile uint8_t *)((uint8_t *)dst->mem[i] + off);
}

static uint64_t faults_of(struct pager *pager, pid_t tid)
{
	struct pager_stats s;
	uint32_t i;

	TEST_OK(pager_get_stats(pager, &s));
	for (i = 0; i < s.n_threads; i++)
		if (s.threads[i].tid == tid)
			return s.threads[i].faults;
	return 0;
}

/*
 * Whether the kernel maps the page: the truth a faulting thread sees, independent of the
 * pager's own bookkeeping (which, by design, is complete before the waiter is woken).
 */
static bool present(struct test_guest *dst, gpa_t gpa)
{
	unsigned char vec;

	TEST_ASSERT(mincore(gpa_hva(dst, gpa), GUEST_PAGE_SIZE, &vec) == 0, "mincore: %s",
		    strerror(errno));
	return vec & 1;
}

static uint64_t missing_pages(struct test_guest *dst)
{
	uint64_t off, missing = 0;
	unsigned int i;

	for (i = 0; i < GUEST_NR_REGIONS; i++)
		for (off = 0; off < dst->regions[i].size; off += GUEST_PAGE_SIZE)
			missing += !present(dst, dst->regions[i].gpa + off);
	return missing;
}

/* Restore hooks that only tell the watchdog which ioctl runs. */
static void watch_begin(void *opaque, uint32_t vcpu_id, const char *ioctl)
{
	watchdog_enter(opaque, ioctl, vcpu_id == RESTORE_VM ? -1 : (int)vcpu_id);
}

static void watch_end(void *opaque, uint32_t vcpu_id, const char *ioctl, int err,
		      uint64_t elapsed_ns)
{
	watchdog_leave(opaque);
}

static void restore_all(struct test_guest *dst, const struct source *src,
			const struct vcpu_state *st, const struct restore_hooks *hooks)
{
	TEST_OK(vm_state_restore_devices(dst->vm, &src->vm_state, hooks));
	TEST_OK(vcpu_state_restore(dst->vm->vcpus[0], st, hooks));
	TEST_OK(vm_state_restore_clock(dst->vm, &src->vm_state, hooks));
}

/* ---- wrong order: restore before pager_start ---- */

struct child_arg {
	const struct source *src;
	struct vcpu_state *state;
	struct page_server *server;
};

static int wrong_order_child(void *opaque)
{
	struct child_arg *arg = opaque;
	struct watchdog_config wcfg = { .bound_ms = STALL_BOUND_MS };
	struct restore_hooks hooks = { .begin = watch_begin, .end = watch_end };
	struct pager_layout layout;
	struct test_guest dst;
	struct watchdog *wd;
	struct pager *pager;

	pager = dest_create(&dst, &arg->src->cfg, NULL);
	layout_of_guest(&dst, &layout);
	wcfg.pager = pager;
	wcfg.layout = &layout;
	wcfg.vm = dst.vm;
	TEST_OK(watchdog_start(&wcfg, &wd));
	hooks.opaque = wd;
	fprintf(stderr, "%s: KVM_SET_MSRS will fault the wall clock page %#lx, and no listener "
			"runs\n", MARK_RESTORE, (unsigned long)WALL_CLOCK_GPA);
	restore_all(&dst, arg->src, arg->state, &hooks);
	fprintf(stderr, "the restore returned although nobody served its pages\n");
	return 1;
}

static void expect_in_report(const char *output, const char *what)
{
	TEST_ASSERT(strstr(output, what), "the watchdog's report lacks \"%s\"", what);
}

static void check_stall_exit(const struct child_result *res, const char *scenario)
{
	TEST_ASSERT(!res->killed, "%s: the child was still blocked after %u ms (SIGKILLed)",
		    scenario, CHILD_HARD_LIMIT_MS);
	TEST_ASSERT(WIFEXITED(res->status) && WEXITSTATUS(res->status) == WATCHDOG_EXIT_STALL,
		    "%s: child status %#x, expected exit %d", scenario, res->status,
		    WATCHDOG_EXIT_STALL);
	TEST_ASSERT(res->saw_start, "%s: the child never reached its blocking step", scenario);
	TEST_ASSERT(res->saw_event, "%s: no watchdog report after the blocking step", scenario);
	TEST_ASSERT(res->event_ns >= STALL_BOUND_MS * 1000000ull &&
		    res->event_ns <= (STALL_BOUND_MS + STALL_MARGIN_MS) * 1000000ull,
		    "%s: the watchdog reported %.3f s after the child blocked, bound %u ms",
		    scenario, res->event_ns / 1e9, STALL_BOUND_MS);
}

static void run_wrong_order(const struct source *src)
{
	struct vcpu_state *st = vcpu_state_alloc();
	struct child_arg arg = { .src = src, .state = st };
	struct child_result res;
	char gpa_text[64];

	/*
	 * Only the wall clock: the system time MSRs come first in KVM_GET_MSR_INDEX_LIST, and
	 * their fault would block the ioctl before the wall clock's page is touched. Both the
	 * legacy and the _NEW index read back the one system time address.
	 */
	TEST_ASSERT(st, "out of memory");
	memcpy(st, src->state, sizeof(*st));
	state_msr(st, MSR_KVM_SYSTEM_TIME)->data = 0;
	state_msr(st, MSR_KVM_SYSTEM_TIME_NEW)->data = 0;
	state_msr(st, MSR_KVM_STEAL_TIME)->data = 0;

	child_run(wrong_order_child, &arg, MARK_RESTORE, MARK_REPORT, CHILD_HARD_LIMIT_MS, &res);
	check_stall_exit(&res, "wrong order");
	snprintf(gpa_text, sizeof(gpa_text), "guest page %#lx (region %u offset %#lx)",
		 (unsigned long)WALL_CLOCK_GPA, GUEST_SLOT_WORK,
		 (unsigned long)(WALL_CLOCK_GPA - GUEST_WORK_GPA));
	expect_in_report(res.output, "KVM_SET_MSRS on vCPU 0");
	expect_in_report(res.output, gpa_text);
	expect_in_report(res.output, "the pager's listener is not running");
	printf("ok: wrong order: KVM_SET_MSRS blocked on the wall clock page; the watchdog "
	       "(bound %u ms) named both %.3f s after the restore began, and the child exited "
	       "with %d %.3f s later\n", STALL_BOUND_MS, res.event_ns / 1e9, WATCHDOG_EXIT_STALL,
	       res.exit_ns / 1e9);
	free(res.output);
	vcpu_state_free(st);
}

/* ---- vCPU stall: the listener runs, the source does not answer ---- */

/* SIGSTOP is asynchronous: wait (bounded) until the kernel shows the process stopped. */
static void stop_process(pid_t pid)
{
	char path[64], stat[256], *state;
	unsigned int tries;
	ssize_t n;
	int fd;

	TEST_ASSERT(kill(pid, SIGSTOP) == 0, "SIGSTOP: %s", strerror(errno));
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (tries = 0; tries < 2000; tries++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		TEST_ASSERT(fd >= 0, "%s: %s", path, strerror(errno));
		n = read(fd, stat, sizeof(stat) - 1);
		close(fd);
		TEST_ASSERT(n > 0, "%s: empty", path);
		stat[n] = '\0';
		state = strrchr(stat, ')');
		if (state && state[1] == ' ' && state[2] == 'T')
			return;
		usleep(1000);
	}
	die("the page server did not stop within 2 s");
}

static int vcpu_stall_child(void *opaque)
{
	struct child_arg *arg = opaque;
	struct watchdog_config wcfg = { .bound_ms = STALL_BOUND_MS };
	struct restore_hooks hooks = { .begin = watch_begin, .end = watch_end };
	struct pager_layout layout;
	struct test_guest dst;
	struct watchdog *wd;
	struct pager *pager;

	pager = dest_create(&dst, &arg->src->cfg, NULL);
	layout_of_guest(&dst, &layout);
	wcfg.pager = pager;
	wcfg.layout = &layout;
	wcfg.vm = dst.vm;
	TEST_OK(watchdog_start(&wcfg, &wd));
	hooks.opaque = wd;
	dest_start(&dst, pager, arg->server);
	restore_all(&dst, arg->src, arg->state, &hooks);
	/* Everything the first KVM_RUN needs is here, but the page the guest will read. */
	prefault_all_but(&dst, UNSERVED_GPA);
	TEST_ASSERT(missing_pages(&dst) == 1, "%lu pages missing, expected 1",
		    (unsigned long)missing_pages(&dst));
	stop_process(arg->server->pid);
	fprintf(stderr, "%s: the guest reads %#lx, the source is stopped\n", MARK_RUN,
		(unsigned long)UNSERVED_GPA);
	TEST_OK(test_guest_run(&dst));
	fprintf(stderr, "the guest ran although its page was never served\n");
	return 1;
}

static void run_vcpu_stall(struct source *src)
{
	struct vcpu_state *st = vcpu_state_alloc();
	struct page_server server;
	struct child_arg arg = { .src = src, .state = st, .server = &server };
	struct child_result res;
	char gpa_text[64];

	/* The guest reads its "wall clock" at a page nobody will serve. */
	TEST_ASSERT(st, "out of memory");
	memcpy(st, src->state, sizeof(*st));
	st->regs.r8 = UNSERVED_GPA;

	page_server_start(&server, src->guest.regions, src->guest.mem, GUEST_NR_REGIONS);
	child_run(vcpu_stall_child, &arg, MARK_RUN, MARK_REPORT, CHILD_HARD_LIMIT_MS, &res);
	page_server_kill(&server);
	check_stall_exit(&res, "vCPU stall");
	snprintf(gpa_text, sizeof(gpa_text), "for guest page %#lx (region %u offset %#lx)",
		 (unsigned long)UNSERVED_GPA, GUEST_SLOT_WORK,
		 (unsigned long)(UNSERVED_GPA - GUEST_WORK_GPA));
	expect_in_report(res.output, "vCPU 0 (thread ");
	expect_in_report(res.output, "in KVM_RUN");
	expect_in_report(res.output, gpa_text);
	expect_in_report(res.output, "the source, which has not answered");
	printf("ok: vCPU stall: the guest's page was requested from a stopped source; the "
	       "watchdog named vCPU 0 in KVM_RUN and the page %.3f s after the vCPU started, "
	       "and the child exited with %d %.3f s later\n", res.event_ns / 1e9,
	       WATCHDOG_EXIT_STALL, res.exit_ns / 1e9);
	free(res.output);
	vcpu_state_free(st);
}

/* ---- the pager's userfaultfd, as the kernel sees it ---- */

/*
 * /proc/self/fdinfo of a userfaultfd shows "API:\t<api>:<features>:<ioctls>" (fs/userfaultfd.c,
 * userfaultfd_show_fdinfo): the features the pager really asked for. Returns how many
 * userfaultfds this process has; each must lack SIGBUS and have THREAD_ID.
 */
static unsigned int check_uffd_features(void)
{
	char path[300], link[64], info[512];
	unsigned long long api, features, ioctls;
	unsigned int found = 0;
	struct dirent *de;
	const char *line;
	ssize_t n;
	DIR *dir;
	int fd;

	dir = opendir("/proc/self/fd");
	TEST_ASSERT(dir, "/proc/self/fd: %s", strerror(errno));
	while ((de = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		if (strcmp(link, "anon_inode:[userfaultfd]"))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		TEST_ASSERT(fd >= 0, "%s: %s", path, strerror(errno));
		n = read(fd, info, sizeof(info) - 1);
		close(fd);
		TEST_ASSERT(n > 0, "%s: empty", path);
		info[n] = '\0';
		line = strstr(info, "API:\t");
		TEST_ASSERT(line && sscanf(line, "API:\t%llx:%llx:%llx", &api, &features,
					   &ioctls) == 3,
			    "%s has no API line:\n%s", path, info);
		TEST_ASSERT(!(features & UFFD_FEATURE_SIGBUS),
			    "userfaultfd %s has UFFD_FEATURE_SIGBUS (features %#llx): KVM's writes "
			    "into missing guest pages would be lost", de->d_name, features);
		TEST_ASSERT(features & UFFD_FEATURE_THREAD_ID,
			    "userfaultfd %s lacks THREAD_ID (features %#llx)", de->d_name, features);
		printf("ok: userfaultfd fd %s: features %#llx, no SIGBUS\n", de->d_name, features);
		found++;
	}
	closedir(dir);
	return found;
}

/* ---- right order: pager_start, then the restore ---- */

/* What the restore and the first run showed, gathered on the threads that saw it. */
struct probe {
	struct watchdog *wd;
	struct pager *pager;
	struct test_guest *dst;
	/* restore steps, on the restoring thread */
	pid_t restore_tid;
	uint64_t step_begin_ns, step_faults_before;
	bool wall_before, system_before, steal_before;
	uint64_t set_msrs_ns;
	uint64_t restore_faults;
	bool nested_ran;
	uint64_t nested_faults;
	int64_t wall_epoch_ns; /* host realtime - kvmclock, right after KVM_SET_MSRS */
	/* the first exit of the vCPU's first KVM_RUN, on the vCPU thread */
	bool first_exit_seen;
	bool steal_at_first_exit;
	pid_t vcpu_tid, vcpu_run_tid;
	uint64_t vcpu_faults_at_first_exit;
};

static void probe_begin(void *opaque, uint32_t vcpu_id, const char *ioctl)
{
	struct probe *pr = opaque;

	watchdog_enter(pr->wd, ioctl, vcpu_id == RESTORE_VM ? -1 : (int)vcpu_id);
	pr->wall_before = present(pr->dst, WALL_CLOCK_GPA);
	pr->system_before = present(pr->dst, SYSTEM_TIME_GPA);
	pr->steal_before = present(pr->dst, STEAL_TIME_GPA);
	pr->step_faults_before = faults_of(pr->pager, pr->restore_tid);
	pr->step_begin_ns = clock_now_ns();
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void check_set_msrs(struct probe *pr, uint64_t faults, uint64_t end_ns)
{
	uint64_t before, after;
	struct vm_state now;

	TEST_ASSERT(!pr->wall_before && !pr->system_before && !pr->steal_before,
		    "a kvmclock page was present before KVM_SET_MSRS (wall %d, system %d, "
		    "steal %d)", pr->wall_before, pr->system_before, pr->steal_before);
	TEST_ASSERT(present(pr->dst, WALL_CLOCK_GPA) && present(pr->dst, SYSTEM_TIME_GPA),
		    "KVM_SET_MSRS returned without fetching the wall clock and system time pages");
	TEST_ASSERT(!present(pr->dst, STEAL_TIME_GPA),
		    "the steal time page was fetched inside KVM_SET_MSRS");
	TEST_ASSERT(faults == 2, "KVM_SET_MSRS: %lu faults charged to the restoring thread %d, "
		    "expected 2", (unsigned long)faults, (int)pr->restore_tid);
	printf("ok: KVM_SET_MSRS fetched the wall clock and system time pages, absent when it "
	       "began and mapped when it returned %.1f us later, through 2 faults of the "
	       "restoring thread %d\n", (end_ns - pr->step_begin_ns) / 1e3, (int)pr->restore_tid);

	/*
	 * What KVM writes as the wall clock (kvm_get_wall_clock_epoch): host realtime minus the
	 * VM's kvmclock, the guest's boot time since 1970. KVM_SET_CLOCK later moves kvmclock,
	 * so it is measured now. KVM_GET_CLOCK gives the realtime with it only on a TSC
	 * clocksource (not on this nested host): else the realtime read around the call.
	 */
	before = realtime_ns();
	TEST_OK(vm_state_save(pr->dst->vm, &now));
	after = realtime_ns();
	if (now.clock.flags & KVM_CLOCK_REALTIME)
		pr->wall_epoch_ns = (int64_t)now.clock.realtime - (int64_t)now.clock.clock;
	else
		pr->wall_epoch_ns = (int64_t)(before + (after - before) / 2) - (int64_t)now.clock.clock;
}

static void probe_end(void *opaque, uint32_t vcpu_id, const char *ioctl, int err,
		      uint64_t elapsed_ns)
{
	struct probe *pr = opaque;
	uint64_t end_ns = clock_now_ns();
	uint64_t faults = faults_of(pr->pager, pr->restore_tid) - pr->step_faults_before;

	watchdog_leave(pr->wd);
	TEST_ASSERT(err == 0, "restore step %s failed: %s", ioctl, strerror(-err));
	pr->restore_faults += faults;
	printf("  restore %s: %.1f us, %lu fault(s) on the restoring thread\n", ioctl,
	       elapsed_ns / 1e3, (unsigned long)faults);
	if (!strcmp(ioctl, "KVM_SET_MSRS")) {
		pr->set_msrs_ns = elapsed_ns;
		check_set_msrs(pr, faults, end_ns);
	} else if (!strcmp(ioctl, "KVM_SET_NESTED_STATE")) {
		pr->nested_ran = true;
		pr->nested_faults = faults;
	} else {
		TEST_ASSERT(faults == 0, "%s faulted %lu guest page(s)", ioctl,
			    (unsigned long)faults);
	}
}

static int probe_first_exit(struct vcpu *vcpu, uint64_t progress, void *opaque)
{
	struct probe *pr = opaque;

	if (progress != 1 || pr->first_exit_seen)
		return VM_IO_CONTINUE;
	pr->first_exit_seen = true;
	pr->steal_at_first_exit = present(pr->dst, STEAL_TIME_GPA);
	pr->vcpu_tid = gettid();
	pr->vcpu_run_tid = atomic_load(&vcpu->run_tid);
	pr->vcpu_faults_at_first_exit = faults_of(pr->pager, pr->vcpu_tid);
	return VM_IO_CONTINUE;
}

struct wall_clock {
	uint32_t version, sec, nsec;
};

static struct wall_clock read_wall_clock(struct test_guest *g)
{
	uint8_t raw[GUEST_WALLCLOCK_SIZE];
	struct wall_clock wc;

	TEST_OK(vm_gpa_read(g->vm, WALL_CLOCK_GPA, raw, sizeof(raw)));
	memcpy(&wc.version, raw + GUEST_WALLCLOCK_VERSION, 4);
	memcpy(&wc.sec, raw + GUEST_WALLCLOCK_SEC, 4);
	memcpy(&wc.nsec, raw + GUEST_WALLCLOCK_NSEC, 4);
	return wc;
}

/*
 * How often restoring st writes the wall clock: once per wall clock MSR with an address. The
 * legacy MSR_KVM_WALL_CLOCK reads back the same address as the _NEW one, so a saved state
 * carries it twice, and each write adds 2 to the version.
 */
static unsigned int wall_clock_writes(const struct vcpu_state *st)
{
	unsigned int i, n = 0;

	for (i = 0; i < st->nmsrs; i++)
		if ((st->msrs[i].index == MSR_KVM_WALL_CLOCK ||
		     st->msrs[i].index == MSR_KVM_WALL_CLOCK_NEW) && st->msrs[i].data)
			n++;
	return n;
}

/* Came from the source: the marker past the kvmclock structure is intact. */
static void check_from_source(struct test_guest *dst, gpa_t page)
{
	const uint8_t *p = gpa_hva(dst, page);
	unsigned int i;

	for (i = MARKER_OFFSET; i < GUEST_PAGE_SIZE; i++)
		TEST_ASSERT(p[i] == marker_byte(page), "page %#lx byte %u is %#x, not the source's "
			    "%#x", (unsigned long)page, i, p[i], marker_byte(page));
}

static void check_nested(const struct source *src, const struct probe *pr)
{
	if (src->nested_cap) {
		TEST_ASSERT(pr->nested_ran, "KVM_SET_NESTED_STATE did not run although "
			    "KVM_CAP_NESTED_STATE is %d", src->nested_cap);
		printf("ok: KVM_SET_NESTED_STATE ran in the restore sequence after pager_start "
		       "(cap %d), with %lu fault(s) on the restoring thread\n", src->nested_cap,
		       (unsigned long)pr->nested_faults);
		return;
	}
	TEST_ASSERT(!pr->nested_ran, "KVM_SET_NESTED_STATE ran without a nested state");
	printf("NOT EXERCISED: KVM_SET_NESTED_STATE. KVM_CAP_NESTED_STATE is 0 on this host "
	       "(kvm_pvm has no nested virtualization), so no nested state was saved and the "
	       "restore skipped that step. Checked instead: the same sequence with "
	       "KVM_SET_MSRS, the synchronous kernel access this host has. docs/nested.md says "
	       "how to run the nested case on a nested-capable host.\n");
}

static void run_right_order(struct source *src)
{
	struct watchdog_config wcfg = { 0 };
	struct page_server server;
	struct pager_options opts;
	struct pager_layout layout;
	struct restore_hooks hooks;
	struct test_guest dst;
	struct wall_clock wc;
	struct probe *pr;
	int64_t host_now, written_ns;
	unsigned int writes;
	uint64_t result;
	int r;

	pr = calloc(1, sizeof(*pr));
	TEST_ASSERT(pr, "out of memory");
	page_server_start(&server, src->guest.regions, src->guest.mem, GUEST_NR_REGIONS);
	pager_options_init(&opts);
	pr->pager = dest_create(&dst, &src->cfg, &opts);
	pr->dst = &dst;
	pr->restore_tid = gettid();
	layout_of_guest(&dst, &layout);
	/* The production bound: a hang here ends the test with the watchdog's report. */
	wcfg.pager = pr->pager;
	wcfg.layout = &layout;
	wcfg.vm = dst.vm;
	TEST_OK(watchdog_start(&wcfg, &pr->wd));
	dest_start(&dst, pr->pager, &server);
	TEST_ASSERT(check_uffd_features() >= 1, "no userfaultfd found in this process");

	hooks = (struct restore_hooks){ .begin = probe_begin, .end = probe_end, .opaque = pr };
	printf("right order: the listener runs; restoring vCPU state with its kvmclock pages "
	       "missing\n");
	restore_all(&dst, src, src->state, &hooks);
	TEST_ASSERT(pr->set_msrs_ns, "KVM_SET_MSRS did not run");
	TEST_ASSERT(pr->restore_faults == 2, "the restore faulted %lu pages, expected 2",
		    (unsigned long)pr->restore_faults);
	TEST_ASSERT(!present(&dst, STEAL_TIME_GPA),
		    "the steal time page was fetched during the restore");
	check_nested(src, pr);

	/* KVM wrote into the pages it fetched: the source's bytes, and its own on top. */
	check_from_source(&dst, WALL_CLOCK_GPA);
	check_from_source(&dst, SYSTEM_TIME_GPA);
	wc = read_wall_clock(&dst);
	writes = wall_clock_writes(src->state);
	TEST_ASSERT(wc.version == src->wall_version + 2 * writes, "wall clock version %#x, "
		    "expected %#x (the source's %#x, written %u more times)", wc.version,
		    src->wall_version + 2 * writes, src->wall_version, writes);

	/*
	 * Only the steal time page stays missing, so the vCPU thread's faults in its first
	 * KVM_RUN can be only that page's.
	 */
	prefault_all_but(&dst, STEAL_TIME_GPA);
	TEST_ASSERT(missing_pages(&dst) == 1, "%lu pages missing, expected 1",
		    (unsigned long)missing_pages(&dst));
	dst.mon.on_progress = probe_first_exit;
	dst.mon.opaque = pr;
	TEST_OK(test_guest_run(&dst));
	TEST_ASSERT(pr->first_exit_seen, "the guest never reported progress 1");
	TEST_ASSERT(pr->vcpu_tid != pr->restore_tid && pr->vcpu_run_tid == pr->vcpu_tid,
		    "vCPU thread %d (run_tid %d), restoring thread %d", (int)pr->vcpu_tid,
		    (int)pr->vcpu_run_tid, (int)pr->restore_tid);
	TEST_ASSERT(pr->steal_at_first_exit, "the steal time page was still missing at the "
		    "first exit of the first KVM_RUN");
	TEST_ASSERT(pr->vcpu_faults_at_first_exit == 1, "the vCPU thread had %lu faults at its "
		    "first exit, expected 1 (the steal time page)",
		    (unsigned long)pr->vcpu_faults_at_first_exit);
	check_from_source(&dst, STEAL_TIME_GPA);
	printf("ok: the steal time page stayed missing through the restore and was faulted by "
	       "the vCPU thread %d in its first KVM_RUN\n", (int)pr->vcpu_tid);

	/* The guest's own reading of the wall clock. */
	TEST_ASSERT(test_guest_all_done(&dst), "the guest did not finish");
	result = dst.mon.vcpu[0].result;
	host_now = time(NULL);
	TEST_ASSERT(result == wc.sec, "the guest read sec %lu, the page holds %u",
		    (unsigned long)result, wc.sec);
	TEST_ASSERT(host_now - (int64_t)result >= -1 && host_now - (int64_t)result <= 60,
		    "the guest's wall clock says %lu s, the host's time is %ld s",
		    (unsigned long)result, (long)host_now);
	written_ns = (int64_t)wc.sec * 1000000000 + wc.nsec;
	TEST_ASSERT(llabs(written_ns - pr->wall_epoch_ns) <= WALL_EPOCH_TOLERANCE_NS,
		    "the wall clock %u.%09u is not KVM's epoch (realtime - kvmclock) %.9f",
		    wc.sec, wc.nsec, pr->wall_epoch_ns / 1e9);
	printf("ok: the guest read the wall clock KVM wrote inside KVM_SET_MSRS: sec %lu (host "
	       "time %ld); the page holds %u.%09u, KVM's realtime - kvmclock was %.9f; version "
	       "%#x: the source's %#x, written %u times during the restore\n",
	       (unsigned long)result, (long)host_now, wc.sec, wc.nsec, pr->wall_epoch_ns / 1e9,
	       wc.version, src->wall_version, writes);

	r = pager_wait(pr->pager, 10000);
	TEST_ASSERT(r == 0, "pager_wait: %s (%s)", strerror(-r), pager_error(pr->pager));
	TEST_ASSERT(!watchdog_fired(pr->wd), "the watchdog fired in the right order");
	watchdog_stop(pr->wd);
	TEST_ASSERT(page_server_finish(&server, 10000) == 0, "the source did not serve to "
		    "completion");
	printf("measured: KVM_SET_MSRS with two pages fetched over TCP inside it %.1f us, with "
	       "every page present %.1f us\n", pr->set_msrs_ns / 1e3,
	       src->set_msrs_present_ns / 1e3);
	pager_destroy(pr->pager);
	test_guest_destroy(&dst);
	free(pr);
}

int main(void)
{
	struct source src;

	kvm_test_init("test_restore_order", 120);
	test_require_userfaultfd();
	memset(&src, 0, sizeof(src));
	source_build(&src);

	run_wrong_order(&src);
	run_vcpu_stall(&src);
	run_right_order(&src);

	test_guest_destroy(&src.guest);
	vcpu_state_free(src.state);
	return 0;
}
