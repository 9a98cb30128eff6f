// SPDX-License-Identifier: GPL-2.0-only
#include "machine.h"
#include "digest.h"
#include "log.h"

#include <asm/kvm_para.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A region's memory: anonymous, or a memfd of its size mapped shared (fd kept for the pager). */
static int map_region(struct machine *m, unsigned int i)
{
	uint64_t size = m->regions[i].size;

	if (m->backing == PAGER_BACKING_SHMEM) {
		m->memfd[i] = memfd_create("guest-memory", MFD_CLOEXEC);
		if (m->memfd[i] < 0 || ftruncate(m->memfd[i], (off_t)size))
			return -errno;
		m->mem[i] = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, m->memfd[i], 0);
	} else if (m->backing == PAGER_BACKING_HUGETLB) {
		/* Reserved now (no MAP_NORESERVE): a short pool fails here, not as a SIGBUS later. */
		m->mem[i] = mmap(NULL, size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
		if (m->mem[i] == MAP_FAILED) {
			m->mem[i] = NULL;
			pr_err("cannot map %" PRIu64 " MiB of 2 MiB hugetlb pages for memory slot %u: "
				"%s (is /proc/sys/vm/nr_hugepages large enough?)", size >> 20, i,
				strerror(errno));
			return -ENOMEM;
		}
		return 0;
	} else {
		m->mem[i] = mmap(NULL, size, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	if (m->mem[i] == MAP_FAILED) {
		m->mem[i] = NULL;
		return -errno;
	}
	/* The pager installs 4 KiB pages: huge pages would only be split again. */
	madvise(m->mem[i], size, MADV_NOHUGEPAGE);
	return 0;
}

int machine_create(const struct guest_config *cfg, bool irqchip, enum pager_backing backing,
		   struct machine **out)
{
	struct machine *m;
	unsigned int i;
	int ret;

	ret = guest_config_check(cfg);
	if (ret)
		return ret;
	if (backing != PAGER_BACKING_ANON && backing != PAGER_BACKING_SHMEM &&
	    backing != PAGER_BACKING_HUGETLB)
		return -EOPNOTSUPP;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->irqchip = irqchip;
	m->backing = backing;
	for (i = 0; i < GUEST_NR_REGIONS; i++)
		m->memfd[i] = -1;
	ret = vm_create(&m->vm);
	if (ret)
		goto err_free;
	if (irqchip) {
		ret = vm_create_irqchip(m->vm);
		if (!ret)
			ret = vm_create_pit(m->vm);
		if (ret)
			goto err_vm;
	}
	guest_regions(cfg, m->regions);
	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		ret = map_region(m, i);
		if (ret)
			goto err_mem;
	}
	*out = m;
	return 0;

err_mem:
	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		if (m->mem[i])
			munmap(m->mem[i], m->regions[i].size);
		if (m->memfd[i] >= 0)
			close(m->memfd[i]);
	}
err_vm:
	vm_destroy(m->vm);
err_free:
	free(m);
	return ret;
}

void machine_layout(const struct machine *m, struct pager_layout *layout)
{
	unsigned int i;

	layout->n_regions = GUEST_NR_REGIONS;
	for (i = 0; i < GUEST_NR_REGIONS; i++)
		layout->regions[i] = (struct pager_region){
			.id = i,
			.gpa = m->regions[i].gpa,
			.size = m->regions[i].size,
			.backing = m->backing,
		};
}

int machine_add_slots(struct machine *m)
{
	unsigned int i;
	int ret;

	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		ret = vm_set_memory(m->vm, m->regions[i].slot, m->regions[i].gpa, m->regions[i].size,
				    m->mem[i], 0);
		if (ret)
			return ret;
	}
	return 0;
}

int machine_add_vcpus(struct machine *m)
{
	unsigned int i;
	int ret;

	for (i = 0; i < m->cfg.nr_vcpus; i++) {
		ret = vm_vcpu_add(m->vm, i, &m->vcpus[i]);
		if (ret)
			return ret;
	}
	return guest_monitor_attach(m->vm, &m->monitor, m->cfg.nr_vcpus);
}

int machine_boot(struct machine *m)
{
	unsigned int i;
	int ret;

	ret = guest_boot_write(m->vm, &m->cfg);
	for (i = 0; !ret && i < m->cfg.nr_vcpus; i++)
		ret = guest_vcpu_boot(m->vcpus[i], &m->cfg);
	return ret;
}

int machine_enable_kvmclock(struct machine *m)
{
	unsigned int i;
	int ret = 0;

	_Static_assert(MACHINE_STEAL_TIME_GPA + 64 * GUEST_MAX_VCPUS <= GUEST_CODE_GPA &&
			       MACHINE_SYSTEM_TIME_GPA >= GUEST_TSS_GPA + 0x1000 + GUEST_IO_BITMAP_SIZE,
		       "paravirt pages sit between the TSS's I/O bitmap and the code");
	for (i = 0; !ret && i < m->cfg.nr_vcpus; i++) {
		ret = vcpu_set_msr(m->vcpus[i], MSR_KVM_SYSTEM_TIME_NEW,
				   (MACHINE_SYSTEM_TIME_GPA + 32 * i) | 1);
		if (!ret)
			ret = vcpu_set_msr(m->vcpus[i], MSR_KVM_WALL_CLOCK_NEW, MACHINE_WALL_CLOCK_GPA);
		if (!ret)
			ret = vcpu_set_msr(m->vcpus[i], MSR_KVM_STEAL_TIME,
					   (MACHINE_STEAL_TIME_GPA + 64 * i) | 1);
	}
	return ret;
}

int machine_stop(struct machine *m)
{
	vm_vcpus_stop(m->vm);
	return vm_vcpus_join(m->vm);
}

void machine_destroy(struct machine *m)
{
	unsigned int i;

	if (!m)
		return;
	vm_destroy(m->vm);
	for (i = 0; i < GUEST_NR_REGIONS; i++) {
		munmap(m->mem[i], m->regions[i].size);
		if (m->memfd[i] >= 0)
			close(m->memfd[i]);
	}
	free(m);
}

uint64_t machine_memory_digest(const struct machine *m)
{
	struct digest d;
	unsigned int i;

	if (digest_init(&d))
		return 0;
	for (i = 0; i < GUEST_NR_REGIONS; i++)
		digest_update_pages(&d, m->mem[i], m->regions[i].size, GUEST_PAGE_SIZE);
	return digest_final(&d);
}

static int check_vcpu(struct machine *m, unsigned int i, char *why, size_t why_len)
{
	const struct guest_report *rep = &m->monitor.vcpu[i];
	struct guest_slice slice = guest_slice(&m->cfg, i);
	uint8_t *mem = m->mem[GUEST_SLOT_WORK] + (slice.gpa - m->regions[GUEST_SLOT_WORK].gpa);
	uint64_t expected, edge;
	uint8_t low, *replay;

	switch (m->cfg.program) {
	case GUEST_INCREMENTER:
		if (guest_incrementer_check(mem, slice.size, -1, &low, &edge)) {
			snprintf(why, why_len, "vCPU %u: incrementer pages are not all equal but one edge", i);
			return -EINVAL;
		}
		return 0;
	case GUEST_PATTERN:
		expected = guest_pattern_expected(m->cfg.seed, slice.gpa, slice.size);
		break;
	case GUEST_TOUCHER:
		replay = calloc(1, slice.size);
		if (!replay)
			return -ENOMEM;
		expected = guest_toucher_simulate(m->cfg.seed, i, replay, slice.size, m->cfg.count);
		if (rep->done && memcmp(replay, mem, slice.size)) {
			free(replay);
			snprintf(why, why_len, "vCPU %u: toucher memory differs from the replay", i);
			return -EINVAL;
		}
		free(replay);
		break;
	case GUEST_NESTED:
		replay = calloc(1, slice.size - GUEST_NESTED_AREA);
		if (!replay)
			return -ENOMEM;
		expected = guest_nested_simulate(m->cfg.seed, replay, slice.size - GUEST_NESTED_AREA,
						 m->cfg.count);
		free(replay);
		if (rep->done && rep->status) {
			snprintf(why, why_len, "vCPU %u: nested guest status %#x: %s", i, rep->status,
				 guest_nested_status(rep->status));
			return -EINVAL;
		}
		break;
	default:
		snprintf(why, why_len, "unknown guest program");
		return -EINVAL;
	}
	if (!rep->done || !rep->has_result) {
		snprintf(why, why_len, "vCPU %u: the guest did not finish", i);
		return -EINVAL;
	}
	if (rep->status || rep->result != expected) {
		snprintf(why, why_len, "vCPU %u: status %u, result 0x%" PRIx64 ", expected 0x%" PRIx64, i,
			 rep->status, rep->result, expected);
		return -EINVAL;
	}
	return 0;
}

int machine_check_guest(struct machine *m, char *why, size_t why_len)
{
	unsigned int i;
	int ret;

	for (i = 0; i < m->cfg.nr_vcpus; i++) {
		ret = check_vcpu(m, i, why, why_len);
		if (ret)
			return ret;
	}
	snprintf(why, why_len, "ok");
	return 0;
}
