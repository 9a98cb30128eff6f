"""scripts/bench: the benchmark of the pager against this machine's physical limits."""
