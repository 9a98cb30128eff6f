#!/bin/bash
# One libFuzzer harness for a bounded time, from the seed corpus and the regression inputs.
# New inputs go to a scratch directory, never into the source tree. A crash leaves its input
# in the current directory (crash-*): copy it to tests/fuzz/regressions/HARNESS/ with a name
# that says what it found.
#   run.sh HARNESS-BINARY SECONDS SEEDS-DIR REGRESSIONS-DIR
set -euo pipefail
bin=$1 seconds=$2 seeds=$3 regressions=$4
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
dirs=("$scratch" "$seeds")
[ -d "$regressions" ] && dirs+=("$regressions")
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="${FUZZ_ARTIFACTS:-./}" "${dirs[@]}"
