#!/bin/bash
# End-to-end test of the tracer-dkms packages, as a user would meet them, in a
# real Debian 12 system booted under QEMU.
#
#   scripts/e2e-dkms.sh                  everything (about 20 min cold, a few warm)
#   scripts/e2e-dkms.sh --packages-only  steps 1 and 6 (build, lint, RPM checks; no VM)
#
#   1. build the .deb and .rpm packages from the checkout; lintian, rpmlint
#   2. a bookworm root file system (cached), "apt-get install ./tracer-dkms_*.deb"
#      in it: DKMS builds and installs the module for its 6.1 kernel
#   3. boot it (no manual modprobe): module loaded, /dev/tracer, /proc/tracer,
#      counts of a monitored process, unload and load again
#   4. install the 6.12 kernel: DKMS builds the module for it by itself (the
#      kernel's postinst hook); a kernel the module refuses does not break that
#      hook; boot 6.12 and check again (with the opt-in group udev rule)
#   5. "apt-get purge tracer-dkms": nothing left behind; "make dkms-install" and
#      "make dkms-remove" from the checkout
#   6. the RPM: same /usr/src payload as the .deb, DKMS scriptlets
#
# Prints TAP (scripts/tap.sh): "ok N - ..." / "not ok N - ... # why" per check,
# the guests' among them, the plan and "N passed, N failed" last; exits 1 if
# anything failed. Works on a copy of the checkout (its tracked
# and new files); packages, logs and the last root file system are left in
# $TRACER_CACHE/e2e/run/.
#
# Environment: TRACER_CACHE (default /var/cache/tracer-dkms): the root file
# system tarball is cached in $TRACER_CACHE/e2e/ keyed by its package list;
# TRACER_E2E_TIMEOUT (default 900): seconds one guest boot may take.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

PACKAGES_ONLY=0
case ${1:-} in
--packages-only) PACKAGES_ONLY=1 ;;
"") ;;
*) die "usage: $0 [--packages-only]" ;;
esac

E2E=$TRACER_CACHE/e2e
RUN=$E2E/run
LOGS=$RUN/logs
ROOT=$RUN/root
SRC=$RUN/src  # the checkout, copied once: every package is built from the same files
PKG=$RUN/pkg
BOOT_TIMEOUT=${TRACER_E2E_TIMEOUT:-900}

# The cached root file system: bump ROOTFS_REV to rebuild it.
ROOTFS_REV=2
ROOTFS_PKGS=systemd-sysv,udev,kmod,dkms,linux-image-amd64,linux-headers-amd64,initramfs-tools,zstd,e2fsprogs,procps
NEW_KERNEL_PKGS="linux-image-6.12-amd64 linux-headers-6.12-amd64"

HOST_PKGS=(mmdebstrap debian-archive-keyring dpkg-dev debhelper dh-dkms lintian rpm rpmlint
	qemu-system-x86 e2fsprogs zstd xz-utils binutils cpio make gcc libc6-dev git)

# --- reporting (scripts/tap.sh, through lib.sh) ------------------------------------

t_start=$(now)
ok() { tap_ok "$1"; }
notok() { tap_not_ok "$1" "$2"; }
note() { tap_diag "$*"; }
# check DESC CMD...: ok if CMD succeeds; else not ok with its output as the reason
check() { tap_check "$@"; }
# eq DESC GOT WANT
eq() { tap_eq "$@"; }
finish() {
	note "total $(fmt_secs $(($(now) - t_start)))"
	tap_done
	exit
}
# abort DESC WHY: a failure later steps depend on
abort() { notok "$1" "$2"; note "stopping: later steps need this"; finish; }
step() { note "step $1 ($(fmt_secs $(($(now) - t_start))) so far)"; }
# logtail FILE: the end of a log, for a failure's reason
logtail() { tail -n "${2:-5}" "$1" 2>/dev/null | tr -s ' \t' ' ' || true; }

# --- the root file system ---------------------------------------------------------

# in_root CMD...: run CMD in $ROOT with /proc, /sys and /dev/pts mounted (objtool
# and dkms need /proc), in a private mount namespace.
in_root() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m --propagation private -- /bin/bash -c '
		set -e
		root=$1; shift
		mount -t proc proc "$root/proc"
		mount -t sysfs sysfs "$root/sys"
		mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' in_root "$ROOT" "$@"
}

rootfs_key() {
	{
		echo "rev $ROOTFS_REV"
		echo "$ROOTFS_PKGS"
		echo "$NEW_KERNEL_PKGS"
		suite_sources bookworm
	} | sha256sum | cut -c1-16
}

# make_rootfs TARBALL: bookworm with systemd, udev, dkms, the 6.1 kernel and its
# headers; the 6.12 kernel's packages downloaded to $KERNEL_DEBS (installed in
# step 4 without network: apt's lists stay); then tar it. Its initramfs holds
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
		bookworm "$tmp" "${sources[@]}"
	ls "$tmp$KERNEL_DEBS"/linux-image-6.12*.deb >/dev/null
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

# guest_setup KVER MODE OWNER GROUP: what the next boot checks (tracer-e2e.service)
guest_setup() {
	install -m 0755 "$SRC/scripts/e2e-guest.sh" "$ROOT/usr/local/sbin/tracer-e2e-guest"
	install -D -m 0644 "$SRC/scripts/tap.sh" "$ROOT/usr/local/lib/tracer-e2e/tap.sh"
	[ ! -x "$RUN/tracer-e2e-ioctl" ] || install -m 0755 "$RUN/tracer-e2e-ioctl" "$ROOT/usr/local/sbin/"
	printf 'KVER=%s\nVERSION=%s\nDEV_MODE=%s\nDEV_OWNER=%s\nDEV_GROUP=%s\n' \
		"$1" "$VERSION" "$2" "$3" "$4" >"$ROOT/etc/tracer-e2e.conf"
	cat >"$ROOT/etc/systemd/system/tracer-e2e.service" <<-'EOF'
		[Unit]
		Description=tracer-dkms end-to-end checks (scripts/e2e-guest.sh)
		After=systemd-modules-load.service systemd-udev-trigger.service systemd-udevd.service
		After=kmod-static-nodes.service systemd-tmpfiles-setup-dev.service local-fs.target dkms.service

		[Service]
		Type=oneshot
		ExecStart=/usr/local/sbin/tracer-e2e-guest

		[Install]
		WantedBy=multi-user.target
	EOF
	ln -sf /etc/systemd/system/tracer-e2e.service \
		"$ROOT/etc/systemd/system/multi-user.target.wants/tracer-e2e.service"
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

# report_guest NAME LABEL: the guest's results (its "E2E: " lines) as checks of this run
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
dkms_installed_for() { # KVER
	local st
	st=$(in_root dkms status -m tracer -v "$VERSION" -k "$1" 2>&1)
	printf '%s\n' "$st" | grep -q ": installed" || { echo "dkms status: $st"; return 1; }
}

# ======================================================================================
[ "$(id -u)" = 0 ] || die "e2e-dkms.sh runs as root (apt-get, chroot, mke2fs -d)"
mkdir -p "$E2E"
# One run at a time: runs share $RUN and the cached tarball (and the 2 cores).
exec 9>"$E2E/lock"
if ! flock -n 9; then
	note "waiting for another e2e-dkms run to finish"
	flock -w 3600 9 || die "another e2e-dkms run held $E2E/lock for an hour"
fi
# The last run's files (a root file system: slow to delete) go in the background.
[ ! -d "$RUN" ] || mv "$RUN" "$RUN.old.$$"
if compgen -G "$E2E/run.old.*" >/dev/null; then nice -n 19 rm -rf "$E2E"/run.old.* 9>&- & fi
mkdir -p "$LOGS"
trap stop_guests EXIT
trap 'exit 143' TERM INT  # timeout(1) from check.sh: the EXIT trap still stops the guests
copy_tree "$SRC"
VERSION=$(cat "$SRC/VERSION")
note "tracer-dkms $VERSION end-to-end test; logs in $LOGS"
host_install "${HOST_PKGS[@]}" >"$LOGS/host-deps.log" 2>&1 ||
	abort "host packages installed" "$(logtail "$LOGS/host-deps.log")"

# --- 1. packages ---------------------------------------------------------------------
step "1: build the packages, lintian, rpmlint"

deb_upstream=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version | sed 's/-[^-]*$//')
eq "debian/changelog names VERSION ($VERSION)" "$deb_upstream" "$VERSION"
check "dkms.conf takes its version from the packaging (#MODULE_VERSION#)" \
	grep -qx 'PACKAGE_VERSION="#MODULE_VERSION#"' "$SRC/dkms.conf"
check "rpm specs take their version from VERSION (@VERSION@)" \
	grep -q '^Version: *@VERSION@$' "$SRC/rpm/tracer-dkms.spec" "$SRC/rpm/tracer-utils.spec"

DEB=$PKG/deb/tracer-dkms_${VERSION}_all.deb
UTILS_DEB=
if make -C "$SRC" deb PKG_OUT="$PKG" DEB_BUILD_FLAGS= >"$LOGS/deb.log" 2>&1; then
	ok "make deb: source package, tracer-dkms and tracer-utils (dpkg-buildpackage)"
	UTILS_DEB=$(find "$PKG/deb" -maxdepth 1 -name "tracer-utils_${VERSION}_*.deb" | head -n1)
else
	notok "make deb: source package, tracer-dkms and tracer-utils" "$(logtail "$LOGS/deb.log")"
	# Go on with tracer-dkms alone if the arch-independent part builds.
	make -C "$SRC" deb PKG_OUT="$PKG" DEB_BUILD_FLAGS=-A >"$LOGS/deb-indep.log" 2>&1 ||
		abort "make deb DEB_BUILD_FLAGS=-A (tracer-dkms alone)" "$(logtail "$LOGS/deb-indep.log")"
fi
[ -f "$DEB" ] || abort "tracer-dkms_${VERSION}_all.deb built" "not in $PKG/deb"

changes=$(find "$PKG/deb" -maxdepth 1 -name "tracer-dkms_${VERSION}_*.changes" | head -n1)
lintian --display-info --pedantic --show-overrides "$changes" >"$LOGS/lintian.log" 2>&1 || true
l_err=$(grep -c '^E: ' "$LOGS/lintian.log" || true)
l_warn=$(grep -c '^W: ' "$LOGS/lintian.log" || true)
l_other=$(grep -c '^[IPXO]: ' "$LOGS/lintian.log" || true)
if [ "$l_err" = 0 ]; then
	ok "lintian: 0 errors, $l_warn warnings, $l_other info/pedantic/overridden"
else
	notok "lintian: no errors" "$l_err errors, $l_warn warnings: $(grep '^E: ' "$LOGS/lintian.log" | head -n3)"
fi
grep '^W: ' "$LOGS/lintian.log" | sed 's/^/# lintian warning: /' || true

if make -C "$SRC" rpm PKG_OUT="$PKG" >"$LOGS/rpm.log" 2>&1; then
	ok "make rpm: tracer-dkms (noarch), tracer-utils and their SRPMs (rpmbuild)"
else
	notok "make rpm" "$(logtail "$LOGS/rpm.log")"
fi
RPM=$(find "$PKG/rpm/RPMS/noarch" -name "tracer-dkms-${VERSION}-*.noarch.rpm" 2>/dev/null | head -n1)
# rpmlint per spec (its RPM, SRPM and spec; filters in rpm/<spec>.rpmlintrc): rpmlint
# 2.4 reports two SRPMs checked in one run as multiple-specfiles.
r_err=0 r_warn=0 r_pkgs=0 r_bad=
for spec in tracer-dkms tracer-utils; do
	rpms=$(find "$PKG/rpm/RPMS" "$PKG/rpm/SRPMS" -name "$spec-$VERSION-*.rpm" 2>/dev/null | sort)
	if [ -z "$rpms" ]; then
		r_bad+="$spec: no RPM; "
		continue
	fi
	# shellcheck disable=SC2086 # a list of paths without blanks
	rpmlint -r "$SRC/rpm/$spec.rpmlintrc" $rpms "$PKG/rpm/SPECS/$spec.spec" >"$LOGS/rpmlint-$spec.log" 2>&1 || true
	summary=$(grep -E '[0-9]+ errors?, [0-9]+ warnings?' "$LOGS/rpmlint-$spec.log" | tail -n1)
	if [ -z "$summary" ]; then
		r_bad+="$spec: $(logtail "$LOGS/rpmlint-$spec.log" 2); "
		continue
	fi
	r_err=$((r_err + $(sed -E 's/.* ([0-9]+) errors?, .*/\1/' <<<"$summary")))
	r_warn=$((r_warn + $(sed -E 's/.* ([0-9]+) warnings?.*/\1/' <<<"$summary")))
	r_pkgs=$((r_pkgs + $(wc -w <<<"$rpms")))
	grep ': E: ' "$LOGS/rpmlint-$spec.log" | head -n3 | sed 's/^/# /' || true
	grep ': W: ' "$LOGS/rpmlint-$spec.log" | sort -u | sed 's/^/# rpmlint warning: /' || true
done
if [ -z "$r_bad" ] && [ "$r_err" = 0 ]; then
	ok "rpmlint: 0 errors, $r_warn warnings ($r_pkgs packages and 2 specs; filters: rpm/*.rpmlintrc)"
else
	notok "rpmlint: no errors" "$r_err errors, $r_warn warnings; $r_bad"
fi

# --- 6. the RPM (no VM needed; reported here so --packages-only covers it) -----------
rpm_checks() {
	step "6: the RPM against the .deb"
	if [ -z "$RPM" ]; then
		notok "RPM checks" "no tracer-dkms RPM was built"
		return
	fi
	rm -rf "$RUN/payload"
	deb_payload "$DEB" "$RUN/payload/deb"
	rpm_payload "$RPM" "$RUN/payload/rpm"
	local src=usr/src/tracer-$VERSION
	eq "RPM version is VERSION" "$(rpm -qp --qf '%{VERSION}' "$RPM")" "$VERSION"
	eq "RPM is noarch" "$(rpm -qp --qf '%{ARCH}' "$RPM")" noarch
	local dl rl
	dl=$(files_under "$RUN/payload/deb/$src")
	rl=$(files_under "$RUN/payload/rpm/$src")
	if [ -n "$dl" ] && [ "$dl" = "$rl" ]; then
		ok "/$src: same $(wc -l <<<"$dl") files in the RPM and the .deb"
	else
		notok "/$src: same files in the RPM and the .deb" \
			"$(diff <(echo "$dl") <(echo "$rl") | grep '^[<>]' | tr '\n' ' ')"
	fi
	check "/$src: same contents (dkms.conf with version $VERSION)" \
		diff -r "$RUN/payload/deb/$src" "$RUN/payload/rpm/$src"
	check "dkms.conf in the packages: PACKAGE_VERSION=\"$VERSION\"" \
		grep -qx "PACKAGE_VERSION=\"$VERSION\"" "$RUN/payload/rpm/$src/dkms.conf"
	check "same udev rule (deb /lib/udev/rules.d, rpm /usr/lib/udev/rules.d)" \
		cmp "$RUN/payload/deb/lib/udev/rules.d/60-tracer.rules" \
		"$RUN/payload/rpm/usr/lib/udev/rules.d/60-tracer.rules"
	check "same /usr/lib/modules-load.d/tracer.conf" \
		cmp "$RUN/payload/deb/usr/lib/modules-load.d/tracer.conf" \
		"$RUN/payload/rpm/usr/lib/modules-load.d/tracer.conf"
	local scripts post preun
	scripts=$(rpm -qp --scripts "$RPM")
	post=$(sed -n '/^postinstall scriptlet/,/^[a-z]* scriptlet/p' <<<"$scripts")
	preun=$(sed -n '/^preuninstall scriptlet/,/^[a-z]* scriptlet/p' <<<"$scripts")
	local verb
	for verb in add build install; do
		check "%post runs dkms $verb" grep -Eq "dkms $verb -m tracer -v $VERSION" <<<"$post"
	done
	check "%preun runs dkms remove --all" grep -Eq "dkms remove -m tracer -v $VERSION --all" <<<"$preun"
	check "RPM requires dkms" grep -qx dkms <(rpm -qpR "$RPM")
	local urpm
	urpm=$(find "$PKG/rpm/RPMS" -name "tracer-utils-${VERSION}-*.rpm" 2>/dev/null | head -n1)
	if [ -n "$urpm" ]; then
		check "tracer-utils RPM: tracerctl, man pages, completion, header" sh -c \
			"rpm -qlp '$urpm' | grep -c -E '^/usr/(bin/tracerctl|share/man/man8/tracerctl.8|share/man/man4/tracer.4|share/bash-completion/completions/tracerctl|include/tracer.h)' | grep -qx 5"
	else
		notok "tracer-utils RPM built" "see $LOGS/rpm.log"
	fi
	note "an RPM-based system is not available here: the RPM is checked, not installed"
}

if [ "$PACKAGES_ONLY" = 1 ]; then
	rpm_checks
	finish
fi

# --- 2. root file system, install the .deb -------------------------------------------
step "2: bookworm root file system, apt-get install ./tracer-dkms_${VERSION}_all.deb"
build_ioctl_client >"$LOGS/ioctl-client.log" 2>&1 ||
	notok "static ioctl client built" "$(logtail "$LOGS/ioctl-client.log")"

TARBALL=$E2E/rootfs-$(rootfs_key).tar.zst
if [ -f "$TARBALL" ]; then
	ok "root file system from the cache ($(basename "$TARBALL"))"
else
	t0=$(now)
	apt_update_once >/dev/null 2>&1 || true
	if make_rootfs "$TARBALL" >"$LOGS/mmdebstrap.log" 2>&1; then
		ok "root file system made with mmdebstrap in $(fmt_secs $(($(now) - t0))) ($ROOTFS_PKGS)"
		find "$E2E" -maxdepth 1 -name 'rootfs-*.tar.zst' ! -name "$(basename "$TARBALL")" -delete
	else
		abort "root file system made with mmdebstrap" "$(logtail "$LOGS/mmdebstrap.log")"
	fi
fi
rm -rf "$ROOT"
mkdir -p "$ROOT"
zstd -q -d -c "$TARBALL" | tar -C "$ROOT" --numeric-owner --xattrs -xf - ||
	abort "root file system unpacked" "tar failed"

K1=$(kernel_of '^6\.1\.[0-9]+-[0-9]+-amd64$')
[ -n "$K1" ] || abort "a 6.1 kernel in the root file system" "$(ls "$ROOT/lib/modules")"
note "kernel 1: $K1"

cp "$DEB" ${UTILS_DEB:+"$UTILS_DEB"} "$ROOT/tmp/"
debs=("/tmp/$(basename "$DEB")")
[ -z "$UTILS_DEB" ] || debs+=("/tmp/$(basename "$UTILS_DEB")")
if in_root apt-get -q install -y "${debs[@]}" \
	>"$LOGS/install.log" 2>&1; then
	ok "apt-get install ${debs[*]#/tmp/} (in the chroot)"
else
	abort "apt-get install ${debs[*]#/tmp/}" "$(logtail "$LOGS/install.log")"
fi
rm -f "$ROOT"/tmp/*.deb
eq "DKMS installed the module for $K1 (tracer.ko*)" "$(modules_of "$K1")" "/lib/modules/$K1/updates/dkms/tracer.ko"
check "dkms status: tracer/$VERSION installed for $K1" dkms_installed_for "$K1"
eq "module built for $K1 (vermagic)" \
	"$(in_root modinfo -F vermagic "/lib/modules/$K1/updates/dkms/tracer.ko" 2>&1 | cut -d' ' -f1)" "$K1"
check "installed: udev rule, modules-load.d file, DKMS source" test -f "$ROOT/lib/udev/rules.d/60-tracer.rules" \
	-a -f "$ROOT/usr/lib/modules-load.d/tracer.conf" -a -f "$ROOT/usr/src/tracer-$VERSION/dkms.conf"
check "module listed in modules.devname (static /dev/tracer at boot)" \
	grep -q '^tracer tracer c10:42$' "$ROOT/lib/modules/$K1/modules.devname"

# --- 3. boot it ----------------------------------------------------------------------------
step "3: boot $K1"
guest_setup "$K1" 600 root root
boot_start "$K1" boot-6.1
# Meanwhile (the guest boots from its own image): install the new kernel of step 4.
rc=0
# shellcheck disable=SC2086 # a list of package names
in_root apt-get -q -o Dir::Cache::Archives=$KERNEL_DEBS install -y --no-download $NEW_KERNEL_PKGS \
	>"$LOGS/kernel-6.12.log" 2>&1 || rc=$?
if boot_wait boot-6.1; then
	report_guest boot-6.1 "$K1"
else
	notok "[$K1] boot reached init" "3 tries; $(logtail "$LOGS/boot-6.1.console" 3)"
fi

# --- 4. a new kernel -----------------------------------------------------------------------
step "4: install $NEW_KERNEL_PKGS (done while $K1 booted)"
if [ $rc = 0 ]; then
	ok "apt-get install $NEW_KERNEL_PKGS (kernel postinst hooks succeeded)"
else
	notok "apt-get install $NEW_KERNEL_PKGS" "exit $rc: $(logtail "$LOGS/kernel-6.12.log")"
fi
K2=$(kernel_of '^6\.12\.')
note "kernel 2: ${K2:-none}"
check "the kernel's dkms hook built tracer for ${K2:-6.12}" \
	grep -q "autoinstall for kernel.*${K2:-6.12}" "$LOGS/kernel-6.12.log"
eq "DKMS installed the module for ${K2:-6.12} (tracer.ko*)" "$(modules_of "${K2:-none}")" \
	"/lib/modules/$K2/updates/dkms/tracer.ko"
check "dkms status: tracer/$VERSION installed for ${K2:-6.12}" dkms_installed_for "${K2:-none}"

# A kernel the module refuses (BUILD_EXCLUSIVE) must not fail the kernel's
# postinst hook. Simulated: a "kernel" whose headers are 6.1's without
# CONFIG_KPROBES, and one too old; the hook runs as a kernel package runs it.
fake_kernel() { # NAME [CONFIG_TO_DROP]: a kernel with $K1's .config (less one option)
	local d=$ROOT/lib/modules/$1
	mkdir -p "$d/build/include"
	grep -v "^${2:-none}=" "$ROOT/usr/src/linux-headers-$K1/.config" >"$d/build/.config"
}
fake_kernel 6.1.0-99-e2e-nokprobes CONFIG_KPROBES
fake_kernel 5.4.0-99-e2e-old
for fk in 6.1.0-99-e2e-nokprobes 5.4.0-99-e2e-old; do
	rc=0
	in_root /etc/kernel/postinst.d/dkms "$fk" "/boot/vmlinuz-$fk" >"$LOGS/hook-$fk.log" 2>&1 || rc=$?
	if [ $rc = 0 ] && grep -q "tracer: not building for kernel $fk" "$LOGS/hook-$fk.log"; then
		ok "kernel $fk refused: the kernel's dkms hook says why and exits 0"
	else
		notok "kernel $fk refused: the kernel's dkms hook says why and exits 0" \
			"exit $rc: $(logtail "$LOGS/hook-$fk.log" 3)"
	fi
	eq "nothing built for $fk" "$(modules_of "$fk")$(in_root dkms status 2>&1 | grep -F "$fk")" ""
	rc=0
	in_root dkms build -m tracer -v "$VERSION" -k "$fk" >"$LOGS/build-$fk.log" 2>&1 || rc=$?
	if [ $rc = 77 ] && grep -q BUILD_EXCLUSIVE "$LOGS/build-$fk.log"; then
		ok "dkms build for $fk: refused by BUILD_EXCLUSIVE (exit 77)"
	else
		notok "dkms build for $fk: refused by BUILD_EXCLUSIVE (exit 77)" "exit $rc: $(logtail "$LOGS/build-$fk.log" 2)"
	fi
done
# The control: BUILD_EXCLUSIVE alone (dkms.conf without the AUTOINSTALL part) is
# what makes dkms 3.0.10's hook fail (exit 11). Evidence for the choice.
conf=$ROOT/usr/src/tracer-$VERSION/dkms.conf
cp -p "$conf" "$RUN/dkms.conf.orig"
sed -i '/^_tracer_args=/,$d' "$conf"
rc=0
in_root /etc/kernel/postinst.d/dkms 6.1.0-99-e2e-nokprobes >"$LOGS/hook-control.log" 2>&1 || rc=$?
cp -p "$RUN/dkms.conf.orig" "$conf"
# shellcheck disable=SC2016 # dpkg-query's format
note "control: with BUILD_EXCLUSIVE alone, the kernel hook of dkms" \
	"$(in_root dpkg-query -W -f='${Version}' dkms) exits $rc:" \
	"$(grep -E -m2 'BUILD_EXCLUSIVE directive|failed' "$LOGS/hook-control.log" | tr '\n' ' ')"
rm -rf "$ROOT/lib/modules/6.1.0-99-e2e-nokprobes" "$ROOT/lib/modules/5.4.0-99-e2e-old"
rm -rf "$ROOT"/var/lib/dkms/tracer/*/6.1.0-99-e2e-nokprobes "$ROOT"/var/lib/dkms/tracer/*/5.4.0-99-e2e-old

if [ -n "$K2" ]; then
	step "4: boot $K2"
	# The opt-in group rule of the documentation, this time.
	in_root groupadd --system tracer
	cp "$ROOT/usr/share/doc/tracer-dkms/examples/61-tracer-group.rules" "$ROOT/etc/udev/rules.d/"
	guest_setup "$K2" 660 root tracer
	boot_start "$K2" boot-6.12
	if boot_wait boot-6.12; then
		report_guest boot-6.12 "$K2 +group rule"
	else
		notok "[$K2] boot reached init" "3 tries; $(logtail "$LOGS/boot-6.12.console" 3)"
	fi
	rm -f "$ROOT/etc/udev/rules.d/61-tracer-group.rules"
	in_root groupdel tracer
fi

# --- 5. purge ----------------------------------------------------------------------------
step "5: apt-get purge tracer-dkms"
purge=(tracer-dkms)
[ -z "$UTILS_DEB" ] || purge+=(tracer-utils)
if in_root apt-get -q purge -y "${purge[@]}" >"$LOGS/purge.log" 2>&1; then
	ok "apt-get purge ${purge[*]}"
else
	notok "apt-get purge ${purge[*]}" "$(logtail "$LOGS/purge.log")"
fi
eq "no tracer.ko under /lib/modules" "$(find "$ROOT/lib/modules" -name 'tracer.ko*')" ""
eq "no /usr/src/tracer-*" "$(find "$ROOT/usr/src" -maxdepth 1 -name 'tracer-*')" ""
eq "no udev rule" "$(find "$ROOT/lib/udev/rules.d" "$ROOT/etc/udev/rules.d" -name '*tracer*')" ""
eq "no modules-load.d file" "$(find "$ROOT/usr/lib/modules-load.d" "$ROOT/etc/modules-load.d" -name '*tracer*')" ""
eq "dkms status: nothing" "$(in_root dkms status 2>&1)" ""
eq "no /var/lib/dkms/tracer" "$(ls -d "$ROOT/var/lib/dkms/tracer" 2>/dev/null)" ""
eq "tracer gone from modules.dep and modules.devname" "$(grep -lE '(^|/)tracer\.ko' \
	"$ROOT"/lib/modules/*/modules.dep; grep -l '^tracer ' "$ROOT"/lib/modules/*/modules.devname)" ""
# shellcheck disable=SC2016 # dpkg-query's format
eq "dpkg knows no tracer package" \
	"$(in_root dpkg-query -W -f='${Package} ${db:Status-Status}\n' 'tracer-*' 2>/dev/null | grep -v not-installed)" ""
[ -z "$UTILS_DEB" ] || eq "no tracerctl" "$(ls "$ROOT/usr/bin/tracerctl" 2>/dev/null)" ""

# "make dkms-install" / "make dkms-remove" from a checkout, on that system.
step "5: make dkms-install, make dkms-remove from the checkout"
rm -rf "$ROOT/root/tracer"
cp -a "$SRC" "$ROOT/root/tracer"
if in_root make -C /root/tracer dkms-install KVER="$K1" >"$LOGS/dkms-install.log" 2>&1; then
	ok "make dkms-install KVER=$K1"
else
	notok "make dkms-install KVER=$K1" "$(logtail "$LOGS/dkms-install.log")"
fi
eq "make dkms-install: module for $K1 (tracer.ko*)" "$(modules_of "$K1")" "/lib/modules/$K1/updates/dkms/tracer.ko"
check "make dkms-install: dkms status installed for $K1" dkms_installed_for "$K1"
if in_root make -C /root/tracer dkms-remove >"$LOGS/dkms-remove.log" 2>&1; then
	ok "make dkms-remove"
else
	notok "make dkms-remove" "$(logtail "$LOGS/dkms-remove.log")"
fi
eq "make dkms-remove: nothing left (modules, /usr/src, dkms status, /var/lib/dkms/tracer)" \
	"$(find "$ROOT/lib/modules" -name 'tracer.ko*'; find "$ROOT/usr/src" -maxdepth 1 -name 'tracer-*'
		in_root dkms status 2>&1; ls -d "$ROOT/var/lib/dkms/tracer" 2>/dev/null)" ""
rm -rf "$ROOT/root/tracer"

rpm_checks
finish
