#!/bin/bash
# Builds the nested suite's initramfs: busybox, the KVM modules of the installed Debian kernel
# (loaded with kvm_amd nested=1 npt=1), the project's statically linked programs, and an init
# that runs one scenario script and powers off. Everything comes from Debian packages
# (linux-image-amd64, busybox-static, cpio) and the static build (-Dstatic_programs=enabled).
#
# usage: mkinitramfs.sh KERNEL_VERSION STATIC_BUILD_DIR SCENARIO_SCRIPT OUTPUT [MODULES_DIR
#        [SELFTESTS_DIR]]
# MODULES_DIR: kvm.ko and kvm-amd.ko built for KERNEL_VERSION (a patched KVM) to load instead
# of the installed ones ("-": the installed). SELFTESTS_DIR: static programs copied to
# /selftests (the KVM selftests kvm-patch/build.sh builds).
set -euo pipefail
kver=$1 build=$2 scenario=$3 out=$4 override=${5:-} selftests=${6:-}
[ "$override" != - ] || override=
modules=(irqbypass ccp kvm kvm-amd)
programs=(tools/vmm-source tools/vmm-dest tools/vmm-caps tools/pager-relay)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}

cp /bin/busybox "$root/bin/busybox"
for p in "${programs[@]}"; do
	file "$build/$p" | grep -q 'statically linked' ||
		{ echo "mkinitramfs: $build/$p is not statically linked" >&2; exit 1; }
	cp "$build/$p" "$root/bin/"
done
for m in "${modules[@]}"; do
	if [ -n "$override" ] && [ -f "$override/$m.ko" ]; then
		vermagic=$(modinfo -F vermagic "$override/$m.ko")
		[ "${vermagic%% *}" = "$kver" ] ||
			{ echo "mkinitramfs: $override/$m.ko is for '${vermagic%% *}', not $kver" >&2; exit 1; }
		cp "$override/$m.ko" "$root/lib/modules/$m.ko"
		continue
	fi
	ko=$(modinfo -k "$kver" -n "$m") ||
		{ echo "mkinitramfs: module $m of $kver not found (linux-image-$kver)" >&2; exit 1; }
	case $ko in
	*.xz) xz -dc "$ko" >"$root/lib/modules/$m.ko" ;;
	*.zst) zstd -qdc "$ko" >"$root/lib/modules/$m.ko" ;;
	*) cp "$ko" "$root/lib/modules/$m.ko" ;;
	esac
done
cp "$scenario" "$root/scenario.sh"
if [ -n "$selftests" ]; then
	mkdir -p "$root/selftests"
	cp "$selftests"/* "$root/selftests/"
fi

cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
ip link set lo up
for m in irqbypass ccp kvm; do insmod /lib/modules/$m.ko || echo "NESTED: insmod $m failed"; done
insmod /lib/modules/kvm-amd.ko nested=1 npt=1 || echo "NESTED: insmod kvm-amd failed"
echo "NESTED: kernel $(uname -r), kvm_amd nested=$(cat /sys/module/kvm_amd/parameters/nested 2>/dev/null)"
sh /scenario.sh
echo "NESTED: scenario exit $?"
poweroff -f
INIT
chmod +x "$root/init" "$root/scenario.sh"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
