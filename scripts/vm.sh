#!/bin/bash
# vm.sh ID MODDIR PAYLOADDIR LOG: boot kernel ID in QEMU (TCG) with a busybox initramfs that
# holds MODDIR/*.ko at /modules/ and PAYLOADDIR at /tests/, run /tests/run.sh, power off.
# amd64 kernels boot in qemu-system-x86_64 (serial ttyS0), arm64 ones in qemu-system-aarch64
# -M virt (serial ttyAMA0), with the busybox of their architecture.
# The whole serial console goes to LOG (every boot attempt, each after a "=== vm.sh" line).
#
# Guest: /init mounts proc, sysfs, devtmpfs, devpts, debugfs, tmpfs /tmp; prints
# "TRACER-GUEST: init"; runs /tests/run.sh (env TRACER_KERNEL_ID, TRACER_KERNEL_RELEASE;
# /etc/kernel-id); prints "TRACER-GUEST: done rc=N"; poweroff -f.
#
# Environment:
#   TRACER_VM_TIMEOUT   hard limit of one boot, seconds (default 1200)
#   TRACER_BOOT_TIMEOUT a boot that has not printed the init marker by then is retried (default 240)
#   TRACER_VM_TRIES     boots tried when the init marker never comes (default 3)
#   TRACER_VM_SMP, TRACER_VM_MEM  vCPUs (2) and MiB (1536)
#   TRACER_VM_CPU       QEMU -cpu model (default max; arm64: max,pauth-impdef=on, the pointer
#                       authentication that TCG computes fast)
#   TRACER_VM_APPEND    extra kernel command line
#   TRACER_VM_KERNEL    boot this kernel image instead of the cached one of ID
#   TRACER_VM_PVH=0     boot the bzImage, not the extracted uncompressed (PVH) vmlinux
#   TRACER_VM_SHELL=1   interactive: serial on this terminal, a shell instead of run.sh
#   TRACER_TESTS, TRACER_STRESS_SECS, TRACER_TRACERCTL, TRACER_RELOAD_*  passed to the guest's
#                       run.sh (a part of the suite: TRACER_TESTS="name ...")
#
# Exit status: 0 the guest ran run.sh and it returned 0; 1 run.sh failed or the guest died after
# init; 2 no boot reached init; 124 the hard timeout hit.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -eq 4 ] || die "usage: vm.sh ID MODDIR PAYLOADDIR LOG"
id=$1 moddir=$2 payload=$3 log=$4
vm_timeout=${TRACER_VM_TIMEOUT:-1200}
boot_timeout=${TRACER_BOOT_TIMEOUT:-240}
tries=${TRACER_VM_TRIES:-3}
KREL='' KVMLINUZ=''
eval "$("$TOP/scripts/kernels.sh" info "$id")"
# The uncompressed PVH kernel that kernels.sh extracted boots faster (no decompression in TCG).
if [ -z "${TRACER_VM_KERNEL:-}" ] && [ "${TRACER_VM_PVH:-1}" = 1 ] &&
	[ -f "$TRACER_CACHE/kernels/$id/vmlinux-$KREL" ]; then
	TRACER_VM_KERNEL=$TRACER_CACHE/kernels/$id/vmlinux-$KREL
fi
KVMLINUZ=${TRACER_VM_KERNEL:-$KVMLINUZ}
[ -f "$KVMLINUZ" ] || die "no kernel image $KVMLINUZ (run scripts/kernels.sh fetch $id)"
[ -d "$moddir" ] || die "no module dir $moddir"
[ -d "$payload" ] || die "no payload dir $payload"
arch=$(kernel_arch "$id")
# busybox-static of the guest's architecture, as kernels.sh fetched it; for the host's, the
# installed one will do if it is static. The one of the host's architecture lists the applets
# (bookworm's busybox-static, the same version for every architecture).
static_busybox() { # ARCH
	local bb=$TRACER_CACHE/guest/$1/busybox
	if [ ! -x "$bb" ] && [ "$1" = "$(host_arch)" ]; then
		bb=$(command -v busybox) || die "busybox-static is not installed (scripts/deps.sh)"
	fi
	[ -x "$bb" ] || die "no $1 busybox in $bb (run scripts/kernels.sh fetch $id)"
	! readelf -l "$bb" 2>/dev/null | grep -q 'program interpreter' ||
		die "$bb is not static (did the busybox package replace busybox-static?)"
	echo "$bb"
}
busybox=$(static_busybox "$arch")
hostbb=$(static_busybox "$(host_arch)")
qemu=$(command -v "$(arch_qemu "$arch")") ||
	die "$(arch_qemu "$arch") is not installed (TRACER_KERNELS=$id scripts/deps.sh)"

work=$(mktemp -d /tmp/tracer-vm.XXXXXX)
qpid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	if [ -n "$qpid" ]; then kill "$qpid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- initramfs ------------------------------------------------------------------
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,modules,tests,var/log}
cp "$busybox" "$root/bin/busybox"
"$hostbb" --list-full | while read -r applet; do
	[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3
printf '%s\n' "$id" >"$root/etc/kernel-id"
# The guest suite's selection and lengths, as given to check.sh (tests/run.sh).
for v in TRACER_TESTS TRACER_STRESS_SECS TRACER_TRACERCTL TRACER_RELOAD_CYCLES TRACER_RELOAD_SECS; do
	[ -z "${!v:-}" ] || printf 'export %s=%q\n' "$v" "${!v}"
done >"$root/etc/tracer-env"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
find "$moddir" -maxdepth 1 -name '*.ko' -exec cp {} "$root/modules/" \;
cp -a "$payload/." "$root/tests/"

if [ "${TRACER_VM_SHELL:-0}" = 1 ]; then
	run_cmd='setsid cttyhack sh -l'
else
	run_cmd='cd /tests && sh ./run.sh'
fi
cat >"$root/init" <<EOF
#!/bin/sh
export PATH=/tests:/sbin:/usr/sbin:/bin:/usr/bin HOME=/root
export TRACER_KERNEL_ID='$id' TRACER_KERNEL_RELEASE='$KREL'
. /etc/tracer-env
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /dev/shm
exec </dev/console >/dev/console 2>&1
hostname tracer-guest
echo "TRACER-GUEST: init"
echo "TRACER-GUEST: kernel \$(uname -r) id \$(cat /etc/kernel-id) cpus \$(grep -c ^processor /proc/cpuinfo)"
( $run_cmd )
rc=\$?
echo "TRACER-GUEST: done rc=\$rc"
sleep 1
poweroff -f
EOF
chmod 755 "$root/init"
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) >"$work/initramfs.cpio"

# --- boot -----------------------------------------------------------------------
case $arch in
arm64)
	console=ttyAMA0
	machine=(-M virt -cpu "${TRACER_VM_CPU:-max,pauth-impdef=on}")
	;;
*)
	console=ttyS0
	machine=(-cpu "${TRACER_VM_CPU:-max}")
	;;
esac
append="console=$console panic=-1 oops=panic loglevel=5 nokaslr mitigations=off"
append+=" random.trust_cpu=on ${TRACER_VM_APPEND:-}"
qemu_args=(-accel tcg "${machine[@]}" -smp "${TRACER_VM_SMP:-2}" -m "${TRACER_VM_MEM:-1536}"
	-nodefaults -no-user-config -display none -no-reboot
	-kernel "$KVMLINUZ" -initrd "$work/initramfs.cpio" -append "$append")

if [ "${TRACER_VM_SHELL:-0}" = 1 ]; then
	"$qemu" "${qemu_args[@]}" -serial mon:stdio
	exit
fi

mkdir -p "$(dirname "$log")"
: >"$log"
attempt=0
result=2
while [ "$attempt" -lt "$tries" ]; do
	attempt=$((attempt + 1))
	con=$work/console.$attempt
	: >"$con"
	echo "=== vm.sh: $id ($KREL) boot $attempt/$tries: $qemu ${qemu_args[*]}" >>"$log"
	start=$(now)
	"$qemu" "${qemu_args[@]}" -serial "file:$con" </dev/null >"$work/qemu.out" 2>&1 &
	qpid=$!
	seen=0 reason=exit boot_s=-1
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 1
		el=$(($(now) - start))
		if [ "$seen" = 0 ] && grep -q 'TRACER-GUEST: init' "$con"; then
			seen=1 boot_s=$el
		fi
		if [ "$seen" = 0 ] && [ "$el" -ge "$boot_timeout" ]; then
			reason="no init marker after ${boot_timeout}s"
			kill "$qpid" 2>/dev/null || true
			break
		fi
		if [ "$el" -ge "$vm_timeout" ]; then
			reason="hard timeout ${vm_timeout}s"
			kill "$qpid" 2>/dev/null || true
			break
		fi
	done
	qrc=0
	wait "$qpid" || qrc=$?
	qpid=
	total=$(($(now) - start))
	[ "$seen" = 1 ] || ! grep -q 'TRACER-GUEST: init' "$con" || { seen=1 boot_s=$total; }
	tr -d '\r' <"$con" >>"$log"
	if [ -s "$work/qemu.out" ]; then
		sed 's/^/qemu: /' "$work/qemu.out" >>"$log"
	fi
	echo "=== vm.sh: boot $attempt ended after ${total}s ($reason, qemu exit $qrc)" >>"$log"
	if [ "$seen" = 1 ]; then
		done_rc=$(tr -d '\r' <"$con" | sed -n 's/^TRACER-GUEST: done rc=\([0-9]*\)$/\1/p' | tail -n1)
		if [ "$reason" != exit ]; then
			result=124
		elif [ "$done_rc" = 0 ]; then
			result=0
		else
			result=1
		fi
		msg "vm: $id: init after ${boot_s}s, VM ended after ${total}s (boot $attempt; $reason; run.sh rc=${done_rc:-none})"
		break
	fi
	msg "vm: $id: boot $attempt/$tries never reached init ($reason, after ${total}s)"
done
exit "$result"
