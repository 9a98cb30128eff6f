// SPDX-License-Identifier: GPL-2.0-only
#include "kvm_test.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *watch_what = "the test";
static unsigned int watch_secs;

static void watchdog_fire(int sig)
{
	char msg[256];
	int n;

	n = snprintf(msg, sizeof(msg), "FAIL: watchdog: %s did not finish within %u s\n",
		     watch_what, watch_secs);
	if (n > 0)
		(void)!write(2, msg, (size_t)n);
	_exit(1);
}

void kvm_test_watch(const char *what, unsigned int timeout_s)
{
	watch_what = what;
	watch_secs = timeout_s;
	alarm(timeout_s);
}

void kvm_test_init(const char *name, unsigned int timeout_s)
{
	struct sigaction sa = { .sa_handler = watchdog_fire };

	log_set_prefix(name);
	log_init_from_env();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access("/dev/kvm", F_OK) != 0 && errno == ENOENT) {
		printf("SKIP: /dev/kvm does not exist\n");
		exit(KVM_TEST_SKIP);
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	kvm_test_watch("the test", timeout_s);
}

void stderr_capture_begin(struct stderr_capture *c)
{
	fflush(stderr);
	c->tmp = tmpfile();
	TEST_ASSERT(c->tmp, "tmpfile: %s", strerror(errno));
	c->saved_fd = dup(2);
	TEST_ASSERT(c->saved_fd >= 0 && dup2(fileno(c->tmp), 2) == 2, "dup2: %s",
		    strerror(errno));
}

char *stderr_capture_end(struct stderr_capture *c)
{
	long len;
	char *text;

	fflush(stderr);
	dup2(c->saved_fd, 2);
	close(c->saved_fd);
	len = ftell(c->tmp);
	TEST_ASSERT(len >= 0, "ftell: %s", strerror(errno));
	text = calloc(1, (size_t)len + 1);
	TEST_ASSERT(text, "out of memory");
	rewind(c->tmp);
	TEST_ASSERT(fread(text, 1, (size_t)len, c->tmp) == (size_t)len, "reading the capture");
	fclose(c->tmp);
	fputs(text, stderr);
	return text;
}

void test_guest_create(struct test_guest *g, const struct guest_config *cfg, bool irqchip,
		       bool boot)
{
	unsigned int i;

	memset(g, 0, sizeof(*g));
	g->cfg = *cfg;
	TEST_OK(guest_config_check(cfg));
	TEST_OK(vm_create(&g->vm));
	if (irqchip) {
		TEST_OK(vm_create_irqchip(g->vm));
		TEST_OK(vm_create_pit(g->vm));
	}
	guest_regions(cfg, g->regions);
	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		g->mem[i] = mmap(NULL, g->regions[i].size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		TEST_ASSERT(g->mem[i] != MAP_FAILED, "mmap guest memory: %s", strerror(errno));
		TEST_OK(vm_set_memory(g->vm, g->regions[i].slot, g->regions[i].gpa,
				      g->regions[i].size, g->mem[i], 0));
	}
	TEST_OK(guest_monitor_attach(g->vm, &g->mon, cfg->nr_vcpus));
	if (boot)
		TEST_OK(guest_boot_write(g->vm, cfg));
	for (i = 0; i < cfg->nr_vcpus; i++) {
		struct vcpu *vcpu;

		TEST_OK(vm_vcpu_add(g->vm, i, &vcpu));
		if (boot)
			TEST_OK(guest_vcpu_boot(vcpu, cfg));
	}
}

void test_guest_destroy(struct test_guest *g)
{
	unsigned int i;

	vm_destroy(g->vm);
	for (i = 0; i < GUEST_NR_REGIONS; i++)
		munmap(g->mem[i], g->regions[i].size);
}

int test_guest_run(struct test_guest *g)
{
	int r;

	r = vm_vcpus_start(g->vm);
	if (r < 0)
		return r;
	return vm_vcpus_join(g->vm);
}

void *test_guest_slice(struct test_guest *g, unsigned int index)
{
	struct guest_slice s = guest_slice(&g->cfg, index);

	return (char *)g->mem[1] + (s.gpa - g->regions[1].gpa);
}

bool test_guest_all_done(const struct test_guest *g)
{
	unsigned int i;

	for (i = 0; i < g->cfg.nr_vcpus; i++) {
		const struct guest_report *rep = &g->mon.vcpu[i];

		if (!rep->done || rep->status || !rep->has_result) {
			pr_err("vcpu %u: done %d, status %u, result %s", i, rep->done,
			       rep->status, rep->has_result ? "reported" : "missing");
			return false;
		}
	}
	return true;
}
