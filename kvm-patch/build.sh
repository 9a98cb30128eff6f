#!/bin/bash
# Builds kvm.ko, kvm-amd.ko and kvm-intel.ko with the series in series/ applied, out of
# Debian's linux-source-6.1, for the installed kernel KVER: its .config and Module.symvers come
# from linux-headers-KVER and the release is forced to KVER, so the modules' vermagic and symbol
# versions match and they load in that kernel (unsigned: the kernel is tainted). checkpatch
# must pass on every patch. The result is cached, keyed by the kernel, the source package's
# version, the series and this script, so a second run takes no time.
#
# It also builds, from the same tree and linked statically, the KVM selftests that exercise
# nested SVM and nested state (SELFTESTS below), for the nested suite to run on both KVMs.
#
# usage: kvm-patch/build.sh KVER     prints the directory holding the three modules (and
#                                    selftests/)
# env:   KVM_PATCH_CACHE             the cache (default ${XDG_CACHE_HOME:-~/.cache}/kvm-postcopy-pager)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kver=${1:?usage: build.sh KERNEL_VERSION}
cache=${KVM_PATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kvm-postcopy-pager}
say() { echo "kvm-patch: $*" >&2; }
die() { say "$*"; exit 1; }

# state_test saves and restores nested state in guest mode; smm_test enters SMM from L2 (the
# RSM path, which keeps the request); the rest run nested SVM guests.
SELFTESTS=(state_test smm_test svm_vmcall_test svm_int_ctl_test svm_nested_shutdown_test
	svm_nested_soft_inject_test nested_exceptions_test hyperv_svm_test)
tarball=/usr/src/linux-source-6.1.tar.xz
headers=/usr/src/linux-headers-$kver
[ -f "$tarball" ] || die "$tarball missing: install linux-source-6.1 (scripts/deps does)"
[ -f "$headers/Module.symvers" ] || die "$headers missing: install linux-headers-$kver"
# The source must be the very version the kernel was built from: same code, same symbol CRCs.
image_version=$(dpkg-query -W -f='${Version}' "linux-image-$kver" 2>/dev/null) ||
	die "linux-image-$kver is not installed"
source_version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
[ "$image_version" = "$source_version" ] ||
	die "linux-source-6.1 is $source_version but linux-image-$kver is $image_version: install the same version of both"

key=$( (echo "$kver $source_version"; cat "$here"/series/*.patch "$0") | sha256sum | cut -c1-16)
out=$cache/modules/$kver-$key
if [ -f "$out/kvm-amd.ko" ] && [ -x "$out/selftests/state_test" ]; then
	say "cached: $out"
	echo "$out"
	exit 0
fi

mkdir -p "$cache/work"
work=$(mktemp -d "$cache/work/build-XXXXXX")
trap 'rm -rf "$work"' EXIT
start=$SECONDS
say "extracting $tarball"
tar -xJf "$tarball" -C "$work"
src=$work/linux-source-6.1
cd "$src"
for p in "$here"/series/0*.patch; do
	case $p in */0000-cover-letter.patch) continue ;; esac
	say "applying $(basename "$p")"
	patch -p1 --quiet --forward <"$p" || die "$(basename "$p") does not apply to $source_version"
	perl scripts/checkpatch.pl --no-tree --quiet "$p" >"$work/checkpatch.log" 2>&1 ||
		{ cat "$work/checkpatch.log" >&2; die "checkpatch: $(basename "$p") is not clean"; }
done

# Debian's kernel release is VERSION.PATCHLEVEL.0-ABI-FLAVOUR, not the upstream SUBLEVEL.
abi=${kver#6.1.0}
release=(SUBLEVEL=0 "EXTRAVERSION=$abi")
cp "$headers/.config" .config
cp "$headers/Module.symvers" .
# Debian's certificates are not in the source package; the modules stay unsigned.
scripts/config --set-str SYSTEM_TRUSTED_KEYS "" --set-str SYSTEM_REVOCATION_KEYS ""
jobs=$(nproc)
say "modules_prepare for $kver"
make -s "${release[@]}" olddefconfig >"$work/make.log" 2>&1 ||
	{ tail -30 "$work/make.log" >&2; die "make olddefconfig failed"; }
[ "$(make -s "${release[@]}" kernelrelease)" = "$kver" ] || die "the release is not $kver"
make -s -j"$jobs" "${release[@]}" modules_prepare >>"$work/make.log" 2>&1 ||
	{ tail -30 "$work/make.log" >&2; die "make modules_prepare failed"; }
say "building arch/x86/kvm"
make -s -j"$jobs" "${release[@]}" M=arch/x86/kvm modules >>"$work/make.log" 2>&1 ||
	{ grep -E "error|Error" "$work/make.log" | head -30 >&2; die "building the KVM modules failed"; }

say "building the KVM selftests"
make -s "${release[@]}" headers_install INSTALL_HDR_PATH=usr >>"$work/make.log" 2>&1 ||
	{ tail -30 "$work/make.log" >&2; die "make headers_install failed"; }
# Only ours, by their full paths (Debian's tree has a selftest that does not build).
st=$src/tools/testing/selftests/kvm
make -s -j"$jobs" -C "$st" EXTRA_CFLAGS=-static "${SELFTESTS[@]/#/$st/x86_64/}" \
	>>"$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; die "building the selftests failed"; }
mkdir -p "$out.tmp/selftests"
for t in "${SELFTESTS[@]}"; do
	strip -o "$out.tmp/selftests/$t" "$st/x86_64/$t"
done

for m in kvm kvm-amd kvm-intel; do
	vermagic=$(modinfo -F vermagic "arch/x86/kvm/$m.ko")
	[ "${vermagic%% *}" = "$kver" ] || die "$m.ko has vermagic '$vermagic'"
	strip --strip-debug -o "$out.tmp/$m.ko" "arch/x86/kvm/$m.ko"
done
(cd "$here/series" && ls 0*.patch) >"$out.tmp/series"
rm -rf "$out"
mv "$out.tmp" "$out"
say "built in $((SECONDS - start)) s: $out"
echo "$out"
