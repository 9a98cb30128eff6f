// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmm-caps: what this host's KVM offers the VMM. A table for people, --json for machines.
 * Exit 0 when /dev/kvm answered, 1 otherwise.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "caps.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: vmm-caps [--json] [--help]\n"
		   "Prints the KVM API version, the capabilities the VMM uses (with their values)\n"
		   "and the MSR and CPUID counts of this host.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int c, r;

	log_set_prefix("vmm-caps");
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	r = kvm_caps_report(stdout, json);
	if (r < 0)
		die("cannot probe KVM: %s", strerror(-r));
	return 0;
}
