# shellcheck shell=bash
# 2 MiB hugetlb pages for a test or a benchmark: huge_pages_need N makes sure N are free,
# growing the pool by the shortfall (root); huge_pages_give_back returns what it added.
# The C tests do the same with test_require_huge_pages() (tests/lib/check.c).
huge_dir=/sys/kernel/mm/hugepages/hugepages-2048kB
huge_pages_added=0

huge_pages_need() { # count; 77 without 2 MiB hugetlb pages, 1 if the pool cannot grow
	[ -d "$huge_dir" ] || { echo "SKIP: this kernel has no 2 MiB hugetlb pages"; exit 77; }
	local free total short
	free=$(cat "$huge_dir/free_hugepages")
	short=$(($1 - free))
	[ "$short" -gt 0 ] || return 0
	total=$(cat "$huge_dir/nr_hugepages")
	echo $((total + short)) >"$huge_dir/nr_hugepages" 2>/dev/null &&
		huge_pages_added=$((huge_pages_added + short))
	free=$(cat "$huge_dir/free_hugepages")
	[ "$free" -ge "$1" ] || {
		echo "FAIL: $free free 2 MiB hugetlb pages, $1 needed (as root this grows $huge_dir/nr_hugepages)"
		exit 1
	}
}

huge_pages_give_back() {
	[ "$huge_pages_added" -gt 0 ] || return 0
	local total
	total=$(cat "$huge_dir/nr_hugepages")
	[ "$total" -ge "$huge_pages_added" ] && echo $((total - huge_pages_added)) >"$huge_dir/nr_hugepages"
	huge_pages_added=0
}
