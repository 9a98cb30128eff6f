// SPDX-License-Identifier: GPL-2.0-only
/* /dev/kvm: the API version check and the system-wide queries. */
#include "kvm.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "kvm_ioctl.h"

int kvm_open(void)
{
	int fd, version;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		pr_err("open /dev/kvm: %s", strerror(errno));
		return err;
	}
	version = kvm_ioctl_val(fd, KVM_GET_API_VERSION, 0);
	if (version < 0) {
		close(fd);
		return version;
	}
	if (version != KVM_API_VERSION_REQUIRED) {
		pr_err("KVM_GET_API_VERSION: %d, this VMM speaks %d", version,
		       KVM_API_VERSION_REQUIRED);
		close(fd);
		return -EPROTONOSUPPORT;
	}
	return fd;
}

int kvm_check_cap(int kvm_fd, long cap)
{
	return kvm_ioctl_val(kvm_fd, KVM_CHECK_EXTENSION, cap);
}

/* Both MSR lists: ask for the count with an empty list (E2BIG), then fetch it. */
static int get_msr_list(int kvm_fd, unsigned long cmd, const char *name,
			struct kvm_msr_list **out)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *list;
	int r;

	r = kvm_ioctl_raw(kvm_fd, cmd, (unsigned long)&probe);
	if (r < 0 && r != -E2BIG) {
		pr_err("%s failed: %s", name, strerror(-r));
		return r;
	}
	list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(list->indices[0]));
	if (!list)
		return -ENOMEM;
	list->nmsrs = probe.nmsrs;
	r = kvm_ioctl_raw(kvm_fd, cmd, (unsigned long)list);
	if (r < 0) {
		pr_err("%s failed: %s", name, strerror(-r));
		free(list);
		return r;
	}
	*out = list;
	return 0;
}

int kvm_get_msr_index_list(int kvm_fd, struct kvm_msr_list **list)
{
	kvm_ioctl_check_arg(KVM_GET_MSR_INDEX_LIST, *list);
	return get_msr_list(kvm_fd, KVM_GET_MSR_INDEX_LIST, "KVM_GET_MSR_INDEX_LIST", list);
}

int kvm_get_msr_feature_index_list(int kvm_fd, struct kvm_msr_list **list)
{
	kvm_ioctl_check_arg(KVM_GET_MSR_FEATURE_INDEX_LIST, *list);
	return get_msr_list(kvm_fd, KVM_GET_MSR_FEATURE_INDEX_LIST,
			    "KVM_GET_MSR_FEATURE_INDEX_LIST", list);
}

int kvm_get_supported_cpuid(int kvm_fd, struct kvm_cpuid2 **out)
{
	struct kvm_cpuid2 *cpuid;
	uint32_t nent = 64;
	int r;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return -ENOMEM;
		cpuid->nent = nent;
		r = __kvm_ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid);
		if (r != -E2BIG || nent >= 4096)
			break;
		/* The kernel does not say how many it has: grow and ask again. */
		free(cpuid);
		nent *= 2;
	}
	if (r < 0) {
		pr_err("KVM_GET_SUPPORTED_CPUID failed: %s", strerror(-r));
		free(cpuid);
		return r;
	}
	*out = cpuid;
	return 0;
}
