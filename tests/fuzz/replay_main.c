// SPDX-License-Identifier: GPL-2.0-only
/*
 * Without libFuzzer (gcc builds): runs a harness once on every file named, or found in the
 * directories named, so the seed corpus and every regression input are replayed as an
 * ordinary test under the plain and ASan+UBSan builds.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned int inputs;

static int replay_file(const char *path)
{
	uint8_t *data = NULL;
	long size;
	FILE *f = fopen(path, "rb");

	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	/* One byte more, so that an empty input is a valid pointer too. */
	data = malloc((size_t)size + 1);
	if (!data || fread(data, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "cannot read %s\n", path);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, (size_t)size);
	free(data);
	inputs++;
	return 0;
}

static int replay(const char *path)
{
	struct dirent *e;
	struct stat sb;
	char child[4096];
	int failed = 0;
	DIR *d;

	if (stat(path, &sb)) {
		fprintf(stderr, "no such input: %s\n", path);
		return 1;
	}
	if (!S_ISDIR(sb.st_mode))
		return replay_file(path);
	d = opendir(path);
	if (!d)
		return 1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
		failed |= replay(child);
	}
	closedir(d);
	return failed;
}

int main(int argc, char **argv)
{
	int i, failed = 0;

	for (i = 1; i < argc; i++)
		failed |= replay(argv[i]);
	if (!failed && inputs == 0) {
		fprintf(stderr, "no inputs found: the corpus is missing\n");
		return 1;
	}
	printf("%u inputs replayed\n", inputs);
	return failed;
}
