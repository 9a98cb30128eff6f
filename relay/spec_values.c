// SPDX-License-Identifier: GPL-2.0-only
/* The values of the fault spec language: durations, rates, probabilities. */
#include "spec.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct unit {
	const char *name;
	double scale;
};

/*
 * A non-negative decimal number followed by one of the units, nothing else. Units are matched
 * whole so that "1m" is refused rather than read as something the user did not mean.
 */
static int parse_scaled(const char *text, const struct unit *units, double *out)
{
	char *end;
	double v;

	if (!text || !*text || *text == '-' || *text == '+')
		return -EINVAL;
	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || !isfinite(v) || v < 0)
		return -EINVAL;
	for (; units->name; units++) {
		if (!strcmp(end, units->name)) {
			*out = v * units->scale;
			return 0;
		}
	}
	return -EINVAL;
}

int relay_parse_duration(const char *text, uint64_t *ns)
{
	static const struct unit units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { NULL, 0 },
	};
	double v;

	/* Zero is zero in any unit. */
	if (text && !strcmp(text, "0")) {
		*ns = 0;
		return 0;
	}
	/* An hour bounds every wait the relay can be told to make. */
	if (parse_scaled(text, units, &v) || v > 3600e9)
		return -EINVAL;
	*ns = (uint64_t)llround(v);
	return 0;
}

int relay_parse_rate(const char *text, uint64_t *bytes_per_s)
{
	/* Decimal units, as network rates are quoted; the binary ones spelled out. */
	static const struct unit units[] = {
		{ "B/s", 1 }, { "KB/s", 1e3 }, { "MB/s", 1e6 }, { "GB/s", 1e9 },
		{ "KiB/s", 1024.0 }, { "MiB/s", 1048576.0 }, { "GiB/s", 1073741824.0 },
		{ "kbit/s", 1e3 / 8 }, { "Mbit/s", 1e6 / 8 }, { "Gbit/s", 1e9 / 8 },
		{ NULL, 0 },
	};
	double v;

	if (parse_scaled(text, units, &v) || v < 1 || v > 1e12)
		return -EINVAL;
	*bytes_per_s = (uint64_t)llround(v);
	return 0;
}

int relay_parse_probability(const char *text, double *p)
{
	static const struct unit units[] = { { "", 1 }, { "%", 0.01 }, { NULL, 0 } };
	double v;

	if (parse_scaled(text, units, &v) || v > 1)
		return -EINVAL;
	*p = v;
	return 0;
}
