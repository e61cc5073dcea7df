# shellcheck shell=bash
# Helpers of scripts/e2e-dkms.sh (sourced after scripts/lib.sh): the root file
# system, the HTTP-served repository, booting, and reading the guest's results.
# Uses $ROOT, $RUN, $LOGS, $E2E, $SRC, $VERSION, $REPO, $REPO_PORT, $BOOT_TIMEOUT
# and the reporting functions (ok, notok, note) of the caller.

# --- the root file system ---------------------------------------------------------

# in_root CMD...: run CMD in $ROOT with /proc, /sys and /dev/pts mounted (objtool
# and dkms need /proc), in a private mount namespace.
in_root() { chroot_run "" "$@"; }

# in_root_net CMD...: the same in a network namespace of its own, whose loopback
# serves $REPO over HTTP (busybox httpd on 127.0.0.1:$REPO_PORT) while CMD runs:
# the apt repository as the test system sees it, and no other network.
in_root_net() { chroot_run "$REPO" "$@"; }

chroot_run() {
	local serve=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m ${serve:+-n} --propagation private -- /bin/bash -c '
		set -e
		root=$1 serve=$2 port=$3
		shift 3
		if [ -n "${E2E_UNAME_R:-}" ]; then
			# "uname -r" says E2E_UNAME_R, for every caller (the bind mount
			# is private to this namespace)
			mkdir -p "$root/root/e2e-running"
			[ -e "$root/root/e2e-running/uname.real" ] ||
				cp "$root/usr/bin/uname" "$root/root/e2e-running/uname.real"
			printf "#!/bin/sh\n[ \"\$*\" = -r ] && exec echo %s\nexec /root/e2e-running/uname.real \"\$@\"\n" \
				"$E2E_UNAME_R" >"$root/root/e2e-running/uname"
			chmod 0755 "$root/root/e2e-running/uname"
			mount --bind "$root/root/e2e-running/uname" "$root/usr/bin/uname"
		fi
		if [ -n "$serve" ]; then
			busybox ip link set lo up
			busybox httpd -f -p "127.0.0.1:$port" -h "$serve" &
			trap "kill $! 2>/dev/null" EXIT
		fi
		mount -t proc proc "$root/proc"
		mount -t sysfs sysfs "$root/sys"
		mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
		chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' chroot_run "$ROOT" "$serve" "${REPO_PORT:-8080}" "$@"
}

rootfs_key() {
	{
		echo "rev $ROOTFS_REV"
		echo "$ROOTFS_PKGS"
		echo "$NEW_KERNEL_PKGS"
		echo "$DRACUT_PKGS"
		suite_sources bookworm
	} | sha256sum | cut -c1-16
}

# make_rootfs TARBALL: bookworm with systemd, udev, dkms, rpm, the 6.1 kernel and
# its headers; the 6.12 kernel's and dracut's packages downloaded to $KERNEL_DEBS
# (installed later without network: apt's lists stay); then tar it. Its initramfs holds
# only what mounts the virtio root (MODULES=list): "most" takes minutes to make.
KERNEL_DEBS=/var/cache/tracer-e2e/debs
make_rootfs() {
	local tarball=$1 tmp=$E2E/rootfs.new
	local -a sources
	mapfile -t sources < <(suite_sources bookworm)
	rm -rf "$tmp"
	# shellcheck disable=SC2016 # $1 is mmdebstrap's, for its hooks
	mmdebstrap --variant=minbase --mode=root \
		--aptopt='Acquire::Retries "3"' \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--aptopt='APT::Install-Recommends "false"' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--dpkgopt='path-include=/usr/share/doc/tracer-*' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--skip=cleanup/apt/lists \
		--include="$ROOTFS_PKGS" \
		--setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/usr/share/initramfs-tools/modules.d"' \
		--setup-hook='echo MODULES=list >"$1/etc/initramfs-tools/conf.d/tracer-e2e.conf"' \
		--setup-hook='printf "virtio_pci\nvirtio_blk\next4\n" >"$1/usr/share/initramfs-tools/modules.d/tracer-e2e.conf"' \
		--customize-hook='printf "APT::Install-Recommends \"false\";\nAcquire::Check-Valid-Until \"false\";\n" >"$1/etc/apt/apt.conf.d/90tracer-e2e"' \
		--customize-hook="mkdir -p \"\$1$KERNEL_DEBS/partial\"" \
		--customize-hook="chroot \"\$1\" apt-get -q -o Dir::Cache::Archives=$KERNEL_DEBS install -y --download-only $NEW_KERNEL_PKGS" \
		--customize-hook="chroot \"\$1\" apt-get -q -o Dir::Cache::Archives=$KERNEL_DEBS install -y --download-only $DRACUT_PKGS" \
		bookworm "$tmp" "${sources[@]}"
	ls "$tmp$KERNEL_DEBS"/linux-image-6.12*.deb "$tmp$KERNEL_DEBS"/dracut-core_*.deb >/dev/null
	# A root file system for a virtio disk; no login: the test unit powers off.
	printf '/dev/vda / ext4 rw,errors=remount-ro 0 1\n' >"$tmp/etc/fstab"
	echo tracer-e2e >"$tmp/etc/hostname"
	# Not a first boot (no presets, no firstboot questions).
	printf '%s\n' "$(head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$tmp/etc/machine-id"
	# No service starts in the chroot; nothing slow, periodic or on the console in the guest.
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/sbin/policy-rc.d"
	chroot "$tmp" systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
		e2scrub_reap.service fstrim.timer systemd-timesyncd.service serial-getty@.service \
		getty@.service systemd-firstboot.service >/dev/null 2>&1 || true
	tar -C "$tmp" --numeric-owner --xattrs -cf - . | zstd -q -T2 -3 -o "$tarball.tmp"
	mv "$tarball.tmp" "$tarball"
	rm -rf "$tmp"
}

# --- booting it --------------------------------------------------------------------

# guest_setup KVER MODE OWNER GROUP [VERSION]: what the next boot checks
# (tracer-e2e.service): the module of VERSION (default $VERSION) for KVER, the
# node's mode, owner and group; and that DKMS did not build it again at boot
# (its make.log keeps its time).
guest_setup() {
	local ver=${5:-$VERSION} log
	log=$(build_log_of "$ver" "$1")
	install -m 0755 "$SRC/scripts/e2e-guest.sh" "$ROOT/usr/local/sbin/tracer-e2e-guest"
	install -D -m 0644 "$SRC/scripts/tap.sh" "$ROOT/usr/local/lib/tracer-e2e/tap.sh"
	[ ! -x "$RUN/tracer-e2e-ioctl" ] || install -m 0755 "$RUN/tracer-e2e-ioctl" "$ROOT/usr/local/sbin/"
	printf 'KVER=%s\nVERSION=%s\nDEV_MODE=%s\nDEV_OWNER=%s\nDEV_GROUP=%s\nBUILD_LOG=%s\nBUILD_MTIME=%s\n' \
		"$1" "$ver" "$2" "$3" "$4" "${log#"$ROOT"}" "$(stat -c %Y "$log" 2>/dev/null)" >"$ROOT/etc/tracer-e2e.conf"
	cat >"$ROOT/etc/systemd/system/tracer-e2e.service" <<-'EOF'
		[Unit]
		Description=tracer-dkms end-to-end checks (scripts/e2e-guest.sh)
		After=systemd-modules-load.service systemd-udev-trigger.service systemd-udevd.service
		After=kmod-static-nodes.service systemd-tmpfiles-setup-dev.service local-fs.target dkms.service
		After=tracer-dkms.service

		[Service]
		Type=oneshot
		ExecStart=/usr/local/sbin/tracer-e2e-guest

		[Install]
		WantedBy=multi-user.target
	EOF
	ln -sf /etc/systemd/system/tracer-e2e.service \
		"$ROOT/etc/systemd/system/multi-user.target.wants/tracer-e2e.service"
}

# fleet_setup: what README's "Fleets" section has a user do, in $ROOT: a
# service that allocates (a shell starting a short-lived cat every half
# second), named in /etc/tracer/monitor.d, and tracer-export.timer enabled;
# the guest checks (FLEET=1) read its metrics from node_exporter.
fleet_setup() {
	cat >"$ROOT/etc/systemd/system/alloc-demo.service" <<-'EOF'
		[Unit]
		Description=A service that allocates (tracer-dkms end-to-end test)

		[Service]
		ExecStart=/bin/sh -c 'while :; do cat /proc/self/status >/dev/null; sleep 0.5; done'

		[Install]
		WantedBy=multi-user.target
	EOF
	ln -sf /etc/systemd/system/alloc-demo.service \
		"$ROOT/etc/systemd/system/multi-user.target.wants/alloc-demo.service"
	mkdir -p "$ROOT/etc/tracer/monitor.d" "$ROOT/etc/systemd/system/timers.target.wants"
	echo 'unit alloc-demo.service' >"$ROOT/etc/tracer/monitor.d/e2e.conf"
	ln -sf /lib/systemd/system/tracer-export.timer \
		"$ROOT/etc/systemd/system/timers.target.wants/tracer-export.timer"
	echo FLEET=1 >>"$ROOT/etc/tracer-e2e.conf"
}

# fleet_unset: the next boots without the fleet checks.
fleet_unset() {
	rm -f "$ROOT/etc/systemd/system/multi-user.target.wants/alloc-demo.service" \
		"$ROOT/etc/systemd/system/timers.target.wants/tracer-export.timer" \
		"$ROOT/etc/tracer/monitor.d/e2e.conf"
}

# vmlinux_of KVER: the uncompressed kernel inside $ROOT's vmlinuz-KVER if it has a
# PVH entry point (QEMU boots it directly: no decompression under TCG), else the
# vmlinuz itself.
vmlinux_of() {
	local img=$ROOT/boot/vmlinuz-$1 out=$RUN/vmlinux-$1 magic tool off
	if [ ! -f "$out" ]; then
		for magic in 'xz:\xfd\x37\x7a\x58\x5a\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
			tool=${magic%%:*}
			for off in $(LC_ALL=C grep -obUaP "${magic#*:}" "$img" | cut -d: -f1 | head -n4); do
				tail -c +$((off + 1)) "$img" | "$tool" -dc 2>/dev/null >"$out.part" || true
				[ "$(head -c4 "$out.part" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || continue
				# XEN_ELFNOTE_PHYS32_ENTRY (0x12): the PVH entry point
				readelf -n "$out.part" 2>/dev/null | grep -A1 '^ *Xen ' | grep -q 0x00000012 &&
					mv "$out.part" "$out"
				break 2
			done
		done
		rm -f "$out.part"
	fi
	if [ -f "$out" ]; then echo "$out"; else echo "$img"; fi
}

# boot_start KVER NAME: make an ext4 image of $ROOT now, then boot $ROOT's kernel
# KVER from it in the background ($ROOT may change meanwhile); the serial console
# goes to $LOGS/NAME.console. Retries a boot that never reached init (about one
# boot in twenty dies while the kernel patches its own code). boot_wait NAME
# waits for it and fails if no boot reached init.
boot_start() {
	local kver=$1 name=$2 img=$RUN/$2.img mb kernel initrd t0 t1
	t0=$(now)
	mb=$(($(du -sm --apparent-size "$ROOT" | cut -f1) + 1536))
	rm -f "$img"
	if ! mke2fs -q -F -t ext4 -L root -d "$ROOT" "$img" "${mb}M" >"$LOGS/$name.mke2fs" 2>&1; then
		echo 1 >"$RUN/$name.rc"
		return
	fi
	t1=$(now)
	kernel=$(vmlinux_of "$kver")
	initrd=$RUN/initrd.img-$kver
	cp "$ROOT/boot/initrd.img-$kver" "$initrd"
	note "$name: ext4 image of ${mb} MB made in $(fmt_secs $((t1 - t0))); kernel $kernel"
	(
		local con=$LOGS/$name.console try
		for try in 1 2 3; do
			rm -f "$con"
			# Single-threaded TCG: kprobes are registered at boot while two vCPUs run.
			timeout "$BOOT_TIMEOUT" qemu-system-x86_64 -accel tcg,thread=single -cpu max -smp 2 -m 2048 \
				-kernel "$kernel" -initrd "$initrd" \
				-append "root=/dev/vda rw console=ttyS0 panic=-1 loglevel=4 systemd.show_status=1 systemd.firstboot=off" \
				-drive "file=$img,format=raw,if=virtio,cache=unsafe" -nic none \
				-display none -monitor none -serial "file:$con" -no-reboot \
				</dev/null >"$LOGS/$name.qemu" 2>&1 &
			echo $! >"$RUN/$name.qemu-pid"
			wait $! || true
			rm -f "$RUN/$name.qemu-pid"
			if grep -q 'Welcome to' "$con" 2>/dev/null; then
				note "$name: guest ran $(fmt_secs $(($(now) - t1)))"
				rm -f "$img"
				echo 0 >"$RUN/$name.rc"
				exit 0
			fi
			note "$name: boot $try of $kver never reached init; retrying"
		done
		rm -f "$img"
		echo 1 >"$RUN/$name.rc"
	) >"$RUN/$name.notes" 2>&1 &
	echo $! >"$RUN/$name.pid"
}

# stop_guests: end the guests still running (when this script stops early)
# shellcheck disable=SC2317 # called by the EXIT trap
stop_guests() {
	local f
	for f in "$RUN"/*.qemu-pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	return 0
}

boot_wait() {
	local name=$1
	[ ! -f "$RUN/$name.pid" ] || wait "$(cat "$RUN/$name.pid")" || true
	cat "$RUN/$name.notes" 2>/dev/null || true
	[ "$(cat "$RUN/$name.rc" 2>/dev/null)" = 0 ]
}

# report_guest NAME LABEL: the guest's results as checks of this run
report_guest() {
	local con=$LOGS/$1.console
	tr -d '\000' <"$con" >"$con.txt"
	if tap_import -m "E2E: " -p "[$2] " -w "$(grep -a -E 'Kernel panic|BUG:|Oops' "$con.txt" | tail -n 3)" \
		"[$2] guest checks" "$con.txt"; then
		ok "[$2] guest checks ran to the end ($((TAP_SUB_PASS + TAP_SUB_FAIL)) checks)"
	fi
}

# --- helpers for the checks ---------------------------------------------------------

build_ioctl_client() {
	cat >"$RUN/tracer-e2e-ioctl.c" <<-'EOF'
		/* tracer-e2e-ioctl add|remove PID: the two ioctl requests, nothing else. */
		#include <fcntl.h>
		#include <stdio.h>
		#include <stdlib.h>
		#include <string.h>
		#include <sys/ioctl.h>
		#include <unistd.h>
		#include "tracer.h"

		int main(int argc, char **argv)
		{
			unsigned long req;
			int fd;

			if (argc != 3)
				return 2;
			req = strcmp(argv[1], "add") ? TRACER_REMOVE_PROCESS : TRACER_ADD_PROCESS;
			fd = open("/dev/tracer", O_RDONLY);
			if (fd < 0 || ioctl(fd, req, (pid_t)atoi(argv[2])) < 0) {
				perror(argv[1]);
				return 1;
			}
			return close(fd) ? 1 : 0;
		}
	EOF
	gcc -static -O2 -Wall -Werror -I"$SRC/src/uapi" -o "$RUN/tracer-e2e-ioctl" "$RUN/tracer-e2e-ioctl.c"
}

# deb_payload DEB DIR / rpm_payload RPM DIR: unpack a package's files
deb_payload() { mkdir -p "$2" && dpkg-deb -x "$1" "$2"; }
rpm_payload() { mkdir -p "$2" && (cd "$2" && rpm2cpio "$1" | cpio -idm --quiet); }

# files_under DIR: the regular files under DIR, relative, sorted
files_under() { (cd "$1" && find . -type f | sed 's|^\./||' | LC_ALL=C sort); }

# modules_of KVER: tracer.ko files DKMS installed for KVER (compressed: as .ko)
modules_of() {
	find "$ROOT/lib/modules/$1" -name 'tracer.ko*' 2>/dev/null | sed -E "s|^$ROOT||; s/\.ko\.(xz|zst|gz)$/.ko/"
}

kernel_of() { # PATTERN: the release of $ROOT's kernel matching PATTERN
	find "$ROOT/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | grep -E "$1" | sort -V | tail -n1
}

# shellcheck disable=SC2317 # called through check
dkms_installed_for() { # KVER [VERSION]
	local st
	st=$(in_root dkms status -m tracer -v "${2:-$VERSION}" -k "$1" 2>&1)
	printf '%s\n' "$st" | grep -q ": installed" || { echo "dkms status: $st"; return 1; }
}

# build_log_of VERSION KVER: DKMS's make.log of that build (a path under $ROOT)
build_log_of() {
	find "$ROOT/var/lib/dkms/tracer/$1/$2" -path '*/log/make.log' 2>/dev/null | head -n1
}

# module_versions: "KVER VERSION" for every tracer.ko* under $ROOT/lib/modules
module_versions() {
	local f k
	find "$ROOT/lib/modules" -name 'tracer.ko*' 2>/dev/null | sort | while read -r f; do
		k=${f#"$ROOT/lib/modules/"}
		printf '%s %s\n' "${k%%/*}" "$(modinfo -F version "$f" 2>&1)"
	done
}

# initrd_list FILE: the files in an initramfs of $ROOT (its own lsinitrd with
# dracut, lsinitramfs with initramfs-tools), FILE a path in $ROOT
initrd_list() {
	# shellcheck disable=SC2016 # for the inner shell
	in_root sh -c 'if command -v lsinitrd >/dev/null; then lsinitrd "$1"; else lsinitramfs "$1"; fi' \
		sh "$1" 2>&1
}

# initrd_check DESC FILE: ok if FILE's listing works (it lists virtio_blk.ko) and
# has no tracer.ko
initrd_check() {
	local list bad
	list=$(initrd_list "$2") || true
	bad=$(grep -E '(^|/)tracer\.ko' <<<"$list" | sed 's/.* //' | tr '\n' ' ') || true
	if ! grep -q 'virtio_blk\.ko' <<<"$list"; then
		notok "$1" "cannot list $2: $(tail -n2 <<<"$list" | tr '\n' ' ')"
	elif [ -n "$bad" ]; then
		notok "$1" "$2 holds $bad"
	else
		ok "$1"
	fi
}

# initrds_check WHEN: initrd_check for every initramfs in $ROOT/boot
initrds_check() {
	local f
	for f in "$ROOT"/boot/initrd.img-*; do
		[ -f "$f" ] || continue
		initrd_check "$1: no tracer.ko in ${f#"$ROOT"}" "${f#"$ROOT"}"
	done
}

# apt_repo_update: apt-get update of the tracer-dkms source alone (the Debian
# sources are not reachable from the test's network namespace; their lists stay)
apt_repo_update() {
	in_root_net apt-get -q update -o Dir::Etc::SourceList=/etc/apt/sources.list.d/tracer-dkms.sources \
		-o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0
}

# as_running KVER IN_ROOT CMD...: IN_ROOT (in_root, in_root_net) CMD on the system
# as if it ran KVER ("uname -r" says so), not as a chroot of a host whose kernel
# is another one: dkms's common.postinst then builds for the running and the
# newest kernel, as on a real system
as_running() {
	local k=$1 how=$2
	shift 2
	E2E_UNAME_R=$k "$how" "$@"
}

# builds_in LOG: the kernels DKMS built for in an apt log, one a line, in order
builds_in() { tr -d '\r' <"$1" | sed -n 's/^Building initial module for //p'; }
