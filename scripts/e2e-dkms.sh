#!/bin/bash
# End-to-end test of the tracer-dkms packages, as a user would meet them, in a
# real Debian 12 system booted under QEMU.
#
#   scripts/e2e-dkms.sh                  everything (see doc/packaging.md for its time)
#   scripts/e2e-dkms.sh --packages-only  steps 1 and 9 (build, lint, repository, RPM
#                                        checks; no VM)
#
#   1. build the .deb and .rpm packages from the checkout; lintian, rpmlint; "make
#      repo": a signed apt repository of the .debs
#   2. a bookworm root file system (cached); the repository's keyring and apt
#      source in it, "apt install tracer-dkms" from the repository served over HTTP
#      on its own loopback (a network namespace): DKMS builds the module for 6.1
#   3. boot it (no manual modprobe): module loaded, /dev/tracer, /proc/tracer,
#      counts of a monitored process, unload and load again
#   4. install the 6.12 kernel: DKMS builds the module for it by itself (the
#      kernel's postinst hook); a kernel the module refuses does not break that
#      hook; boot 6.12 and check again (with the opt-in group udev rule)
#   5. the next version (VERSION's last number + 1) into the repository, "apt
#      upgrade": the old version gone from DKMS, /lib/modules and the initramfs,
#      nothing built twice; reboot: the new module loaded, not rebuilt
#   6. "apt purge": nothing left behind, initramfs included; "make dkms-install"
#      and "make dkms-remove" from the checkout
#   7. dracut instead of initramfs-tools: install, upgrade, reboot, purge again;
#      no tracer.ko in any initramfs (lsinitrd), and the control without the
#      package's dracut omission
#   8. the RPMs installed with rpm on the same system: their scriptlets add,
#      build, install, upgrade and remove as the .deb's do
#   9. the RPM against the .deb: same /usr/src payload, files, scriptlets
#
# Prints TAP (scripts/tap.sh): "ok N - ..." / "not ok N - ... # why" per check,
# the guests' among them, the plan and "N passed, N failed" last; exits 1 if
# anything failed. Works on a copy of the checkout (its tracked and new files);
# packages, logs and the last root file system are left in $TRACER_CACHE/e2e/run/.
#
# Environment: TRACER_CACHE (default /var/cache/tracer-dkms): the root file
# system tarball is cached in $TRACER_CACHE/e2e/ keyed by its package list;
# TRACER_E2E_TIMEOUT (default 900): seconds one guest boot may take.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/e2e-lib.sh
. "$(dirname "$0")/e2e-lib.sh"

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
ROOTFS_REV=3
ROOTFS_PKGS=systemd-sysv,udev,kmod,dkms,linux-image-amd64,linux-headers-amd64,initramfs-tools,zstd,e2fsprogs,procps,rpm,prometheus-node-exporter,curl
NEW_KERNEL_PKGS="linux-image-6.12-amd64 linux-headers-6.12-amd64"
DRACUT_PKGS=dracut

HOST_PKGS=(mmdebstrap debian-archive-keyring dpkg-dev debhelper dh-dkms lintian rpm rpmlint
	qemu-system-x86 e2fsprogs zstd xz-utils binutils cpio make gcc libc6-dev git
	apt-utils gpg gpg-agent gpgv busybox kmod)

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
step "1: build the packages, lintian, rpmlint, the apt repository"

deb_upstream=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version | sed 's/-[^-]*$//')
eq "debian/changelog names VERSION ($VERSION)" "$deb_upstream" "$VERSION"
check "dkms.conf takes its version from the packaging (#MODULE_VERSION#)" \
	grep -qx 'PACKAGE_VERSION="#MODULE_VERSION#"' "$SRC/dkms.conf"
check "rpm spec takes its version from VERSION (@VERSION@)" \
	grep -q '^Version: *@VERSION@$' "$SRC/rpm/tracer.spec"

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
if [ "$l_err" = 0 ] && [ "$l_warn" = 0 ]; then
	ok "lintian --pedantic: 0 errors, 0 warnings, $l_other info/pedantic/overridden"
else
	notok "lintian --pedantic: 0 errors, 0 warnings" \
		"$l_err errors, $l_warn warnings: $(grep -E '^[EW]: ' "$LOGS/lintian.log" | head -n3)"
fi
grep -E '^[IPXO]: ' "$LOGS/lintian.log" | sed 's/^/# lintian: /' || true

if make -C "$SRC" rpm PKG_OUT="$PKG" >"$LOGS/rpm.log" 2>&1; then
	ok "make rpm: one spec, one SRPM: tracer-dkms (noarch) and tracer-utils (rpmbuild)"
else
	notok "make rpm" "$(logtail "$LOGS/rpm.log")"
fi
RPM=$(find "$PKG/rpm/RPMS/noarch" -name "tracer-dkms-${VERSION}-*.noarch.rpm" 2>/dev/null | head -n1) || true
URPM=$(find "$PKG/rpm/RPMS" -name "tracer-utils-${VERSION}-*.rpm" 2>/dev/null | head -n1) || true
rpms=$(find "$PKG/rpm/RPMS" "$PKG/rpm/SRPMS" -name "*.rpm" 2>/dev/null | sort) || true
# shellcheck disable=SC2086 # a list of paths without blanks
rpmlint -r "$SRC/rpm/tracer.rpmlintrc" $rpms "$PKG/rpm/SPECS/tracer.spec" >"$LOGS/rpmlint.log" 2>&1 || true
summary=$(grep -E '[0-9]+ errors?, [0-9]+ warnings?' "$LOGS/rpmlint.log" | tail -n1)
r_err=$(sed -nE 's/.* ([0-9]+) errors?, .*/\1/p' <<<"$summary")
r_warn=$(sed -nE 's/.* ([0-9]+) warnings?.*/\1/p' <<<"$summary")
if [ -n "$RPM" ] && [ "$r_err" = 0 ]; then
	ok "rpmlint: 0 errors, $r_warn warnings ($(wc -w <<<"$rpms") packages and the spec; filters: rpm/tracer.rpmlintrc)"
else
	notok "rpmlint: no errors" "${summary:-$(logtail "$LOGS/rpmlint.log" 2)}"
fi
grep -E ': [EW]: ' "$LOGS/rpmlint.log" | sort -u | head -n5 | sed 's/^/# rpmlint: /' || true

# The apt repository of the packages ("make repo", a throwaway key), served later
# at REPO_URL on the test system's loopback.
REPO=$RUN/repo
REPO_PORT=8080
REPO_URL=http://127.0.0.1:$REPO_PORT
make_repo() { # SRC-DIR PKG-DIR DEB...: add DEBs to $REPO and sign it
	local src=$1 pkg=$2
	shift 2
	make -C "$src" repo PKG_OUT="$pkg" REPO_OUT="$REPO" REPO_GNUPGHOME="$RUN/repo-key" \
		REPO_URL="$REPO_URL" REPO_DEBS="$*"
}
if make_repo "$SRC" "$PKG" "$DEB" ${UTILS_DEB:+"$UTILS_DEB"} >"$LOGS/repo.log" 2>&1; then
	ok "make repo: signed apt repository (pool layout, apt-ftparchive, throwaway key)"
else
	notok "make repo" "$(logtail "$LOGS/repo.log")"
fi
check "the repository's InRelease verifies with its shipped keyring (gpgv)" \
	gpgv --keyring "$REPO/tracer-dkms-archive-keyring.gpg" "$REPO/dists/stable/InRelease"
check "the repository's Release.gpg verifies too" gpgv --keyring "$REPO/tracer-dkms-archive-keyring.gpg" \
	"$REPO/dists/stable/Release.gpg" "$REPO/dists/stable/Release"
eq "Packages lists tracer-dkms and tracer-utils $VERSION" \
	"$(awk '/^Package:/ { p = $2 } /^Version:/ { print p, $2 }' "$REPO/dists/stable/main/binary-amd64/Packages" 2>&1 | sort | tr '\n' ' ')" \
	"tracer-dkms $VERSION ${UTILS_DEB:+tracer-utils $VERSION }"
check "the apt source names the keyring (signed-by)" \
	grep -qx 'Signed-By: /usr/share/keyrings/tracer-dkms-archive-keyring.gpg' "$REPO/tracer-dkms.sources"

# --- 9. the RPM (no VM needed; reported here so --packages-only covers it) -----------
rpm_checks() {
	step "9: the RPM against the .deb"
	if [ -z "$RPM" ]; then
		notok "RPM checks" "no tracer-dkms RPM was built"
		return
	fi
	rm -rf "$RUN/payload"
	deb_payload "$DEB" "$RUN/payload/deb"
	rpm_payload "$RPM" "$RUN/payload/rpm"
	local src=usr/src/tracer-$VERSION d=$RUN/payload/deb r=$RUN/payload/rpm
	eq "RPM version is VERSION" "$(rpm -qp --qf '%{VERSION}' "$RPM")" "$VERSION"
	eq "RPM is noarch" "$(rpm -qp --qf '%{ARCH}' "$RPM")" noarch
	eq "one SRPM for both packages" "$(rpm -qp --qf '%{SOURCERPM}\n' "$RPM" ${URPM:+"$URPM"} | sort -u)" \
		"tracer-$VERSION-1.src.rpm"
	check "RPM URL and Source0 are URLs" sh -c "rpm -qp --qf '%{URL}' '$RPM' | grep -q '^https://' &&
		grep -Eq '^Source0: *%\{url\}/.*/tracer-dkms-%\{version\}\.tar\.gz$' '$PKG/rpm/SPECS/tracer.spec'"
	eq "RPM license file: COPYING" "$(rpm -qp --licensefiles "$RPM" | sed 's|.*/||')" COPYING
	local dl rl
	dl=$(files_under "$d/$src")
	rl=$(files_under "$r/$src")
	if [ -n "$dl" ] && [ "$dl" = "$rl" ]; then
		ok "/$src: same $(wc -l <<<"$dl") files in the RPM and the .deb"
	else
		notok "/$src: same files in the RPM and the .deb" \
			"$(diff <(echo "$dl") <(echo "$rl") | grep '^[<>]' | tr '\n' ' ')"
	fi
	check "/$src: same contents (dkms.conf with version $VERSION)" diff -r "$d/$src" "$r/$src"
	check "dkms.conf in the packages: PACKAGE_VERSION=\"$VERSION\"" \
		grep -qx "PACKAGE_VERSION=\"$VERSION\"" "$r/$src/dkms.conf"
	check "dkms.conf: no CLEAN (deprecated in dkms 3.1.8), NO_WEAK_MODULES=\"yes\"" sh -c \
		"! grep -q '^CLEAN' '$r/$src/dkms.conf' && grep -qx 'NO_WEAK_MODULES=\"yes\"' '$r/$src/dkms.conf'"
	check "same udev rule (deb /lib/udev/rules.d, rpm /usr/lib/udev/rules.d)" \
		cmp "$d/lib/udev/rules.d/60-tracer.rules" "$r/usr/lib/udev/rules.d/60-tracer.rules"
	check "same unit tracer-dkms.service (deb /lib/systemd/system, rpm /usr/lib/systemd/system)" \
		cmp "$d/lib/systemd/system/tracer-dkms.service" "$r/usr/lib/systemd/system/tracer-dkms.service"
	check "RPM preset enables tracer-dkms.service" \
		grep -qx 'enable tracer-dkms.service' "$r/usr/lib/systemd/system-preset/50-tracer-dkms.preset"
	check "same dracut omission /usr/lib/dracut/dracut.conf.d/50-tracer-dkms.conf" \
		cmp "$d/usr/lib/dracut/dracut.conf.d/50-tracer-dkms.conf" "$r/usr/lib/dracut/dracut.conf.d/50-tracer-dkms.conf"
	eq "no modules-load.d file in either package" \
		"$(find "$d" "$r" -path '*modules-load.d*' -printf '%P\n')" ""
	eq "the opt-in group rule at the same path in both" \
		"$(cd "$d" && find . -name 61-tracer-group.rules)" "$(cd "$r" && find . -name 61-tracer-group.rules)"
	local post preun deb_post
	post=$(rpm -qp --scripts "$RPM" | sed -n '/^postinstall scriptlet/,/^[a-z]* scriptlet/p')
	preun=$(rpm -qp --scripts "$RPM" | sed -n '/^preuninstall scriptlet/,/^[a-z]* scriptlet/p')
	deb_post=$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./postinst)
	# shellcheck disable=SC2317 # called through check
	both_common() { grep -q "/usr/lib/dkms/common.postinst tracer $VERSION" <<<"$post" &&
		grep -q '/usr/lib/dkms/common.postinst' <<<"$deb_post"; }
	check "%post and the .deb's postinst both run dkms's common.postinst tracer $VERSION" both_common
	check "%preun runs dkms remove --all" grep -Eq "dkms remove -m tracer -v $VERSION --all" <<<"$preun"
	check "RPM requires dkms" grep -qx dkms <(rpm -qpR "$RPM")
	check "RPM recommends kernel-devel-matched (Fedora) and kernel-default-devel (openSUSE)" sh -c \
		"rpm -qp --recommends '$RPM' | grep -q 'kernel-devel-matched' && rpm -qp --recommends '$RPM' | grep -q 'kernel-default-devel'"
	check ".deb recommends no kernel headers (dkms recommends the distribution's)" sh -c \
		"! dpkg-deb -f '$DEB' Recommends | grep -q headers"
	local uapi
	uapi=$(make -s --no-print-directory -C "$SRC/tools" print-uapi-header)
	if [ -n "$URPM" ]; then
		check "tracer-utils RPM: tracerctl, man pages, completion, header /usr/include/$uapi" sh -c \
			"rpm -qlp '$URPM' | grep -c -E '^/usr/(bin/tracerctl|share/man/man8/tracerctl.8|share/man/man4/tracer.4|share/bash-completion/completions/tracerctl|include/$uapi)' | grep -qx 5"
	else
		notok "tracer-utils RPM built" "see $LOGS/rpm.log"
	fi
	[ -z "$UTILS_DEB" ] || check "tracer-utils .deb: header /usr/include/$uapi" \
		sh -c "dpkg-deb -c '$UTILS_DEB' | grep -q ' ./usr/include/$uapi\$'"
}

if [ "$PACKAGES_ONLY" = 1 ]; then
	rpm_checks
	finish
fi

# --- 2. root file system, install from the repository ---------------------------------
step "2: bookworm root file system, apt install tracer-dkms from the repository"
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

# The README's steps: the keyring and the apt source from the repository, apt
# update, apt install (the repository served on the system's own loopback).
install -D -m 0644 "$REPO/tracer-dkms-archive-keyring.gpg" "$ROOT/usr/share/keyrings/tracer-dkms-archive-keyring.gpg"
install -D -m 0644 "$REPO/tracer-dkms.sources" "$ROOT/etc/apt/sources.list.d/tracer-dkms.sources"
if apt_repo_update >"$LOGS/apt-update.log" 2>&1 && ! grep -qE '^(W|E):' "$LOGS/apt-update.log"; then
	ok "apt update: the signed repository at $REPO_URL (signed-by its keyring)"
else
	abort "apt update of the repository at $REPO_URL" "$(grep -E '^(W|E):' "$LOGS/apt-update.log" | head -n2)"
fi
pkgs=(tracer-dkms)
[ -z "$UTILS_DEB" ] || pkgs+=(tracer-utils)
if in_root_net apt-get -q install -y "${pkgs[@]}" >"$LOGS/install.log" 2>&1; then
	ok "apt install ${pkgs[*]} (from the repository, no ./)"
else
	abort "apt install ${pkgs[*]}" "$(logtail "$LOGS/install.log")"
fi
check "tracer-dkms $VERSION came from $REPO_URL" \
	grep -q "$REPO_URL stable/main" <(in_root apt-cache policy tracer-dkms 2>&1)
eq "DKMS installed the module for $K1 (tracer.ko*)" "$(modules_of "$K1")" "/lib/modules/$K1/updates/dkms/tracer.ko"
check "dkms status: tracer/$VERSION installed for $K1" dkms_installed_for "$K1"
eq "module built for $K1 (vermagic)" \
	"$(in_root modinfo -F vermagic "/lib/modules/$K1/updates/dkms/tracer.ko" 2>&1 | cut -d' ' -f1)" "$K1"
check "installed: udev rule, unit, dracut omission, DKMS source" test -f "$ROOT/lib/udev/rules.d/60-tracer.rules" \
	-a -f "$ROOT/lib/systemd/system/tracer-dkms.service" \
	-a -f "$ROOT/usr/lib/dracut/dracut.conf.d/50-tracer-dkms.conf" -a -f "$ROOT/usr/src/tracer-$VERSION/dkms.conf"
check "tracer-dkms.service enabled (sysinit.target.wants)" \
	test -L "$ROOT/etc/systemd/system/sysinit.target.wants/tracer-dkms.service"
check "module listed in modules.devname (static /dev/tracer at boot)" \
	grep -q '^tracer tracer c10:42$' "$ROOT/lib/modules/$K1/modules.devname"
initrds_check "initramfs-tools, $VERSION installed"

# --- 3. boot it ----------------------------------------------------------------------------
step "3: boot $K1"
guest_setup "$K1" 600 root root
[ -z "$UTILS_DEB" ] || fleet_setup
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
fleet_unset

# --- 4. a new kernel -----------------------------------------------------------------------
step "4: install $NEW_KERNEL_PKGS (done while $K1 booted)"
if [ $rc = 0 ]; then
	ok "apt-get install $NEW_KERNEL_PKGS (kernel postinst hooks succeeded)"
else
	notok "apt-get install $NEW_KERNEL_PKGS" "exit $rc: $(logtail "$LOGS/kernel-6.12.log")"
fi
K2=$(kernel_of '^6\.12\.')
note "kernel 2: ${K2:-none}"
[ -n "$K2" ] || abort "a 6.12 kernel installed" "$(ls "$ROOT/lib/modules")"
check "the kernel's dkms hook built tracer for $K2" grep -q "autoinstall for kernel.*$K2" "$LOGS/kernel-6.12.log"
eq "DKMS installed the module for $K2 (tracer.ko*)" "$(modules_of "$K2")" "/lib/modules/$K2/updates/dkms/tracer.ko"
check "dkms status: tracer/$VERSION installed for $K2" dkms_installed_for "$K2"

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
# The guard reads the configuration where --kernelsourcedir says, as dkms does:
# the same kernel name, its "source" elsewhere without CONFIG_KPROBES.
mkdir -p "$ROOT/root/ksrc-nokprobes/include"
cp "$ROOT/lib/modules/6.1.0-99-e2e-nokprobes/build/.config" "$ROOT/root/ksrc-nokprobes/.config"
rm -rf "$ROOT/lib/modules/6.1.0-99-e2e-nokprobes/build"
ln -s "/usr/src/linux-headers-$K1" "$ROOT/lib/modules/6.1.0-99-e2e-nokprobes/build"
rc=0
in_root dkms autoinstall -k 6.1.0-99-e2e-nokprobes --kernelsourcedir /root/ksrc-nokprobes \
	>"$LOGS/hook-ksrc.log" 2>&1 || rc=$?
if [ $rc = 0 ] && grep -q "not building for kernel 6.1.0-99-e2e-nokprobes (no CONFIG_KPROBES)" "$LOGS/hook-ksrc.log"; then
	ok "dkms autoinstall --kernelsourcedir: the guard reads that tree's .config"
else
	notok "dkms autoinstall --kernelsourcedir: the guard reads that tree's .config" \
		"exit $rc: $(logtail "$LOGS/hook-ksrc.log" 3)"
fi
rm -rf "$ROOT/root/ksrc-nokprobes"
# Another architecture (BUILD_EXCLUSIVE_ARCH: x86_64 and aarch64 only): the hook run
# as i686 (setarch: uname -m says i686) and a build for armv7l.
fk=6.1.0-99-e2e-i686
fake_kernel "$fk"
rc=0
in_root setarch i686 /etc/kernel/postinst.d/dkms "$fk" "/boot/vmlinuz-$fk" >"$LOGS/hook-$fk.log" 2>&1 || rc=$?
if [ $rc = 0 ] && grep -q "tracer: not building for kernel $fk (architecture i686)" "$LOGS/hook-$fk.log"; then
	ok "i686 refused: the kernel's dkms hook says why and exits 0"
else
	notok "i686 refused: the kernel's dkms hook says why and exits 0" "exit $rc: $(logtail "$LOGS/hook-$fk.log" 3)"
fi
rc=0
in_root dkms build -m tracer -v "$VERSION" -k "$fk" -a armv7l >"$LOGS/build-$fk.log" 2>&1 || rc=$?
if [ $rc = 77 ] && grep -q BUILD_EXCLUSIVE "$LOGS/build-$fk.log"; then
	ok "dkms build -a armv7l: refused by BUILD_EXCLUSIVE_ARCH (exit 77)"
else
	notok "dkms build -a armv7l: refused by BUILD_EXCLUSIVE_ARCH (exit 77)" "exit $rc: $(logtail "$LOGS/build-$fk.log" 2)"
fi
eq "nothing built for $fk" "$(modules_of "$fk")$(in_root dkms status 2>&1 | grep -F "$fk")" ""
rm -rf "${ROOT:?}/lib/modules/$fk" "$ROOT"/var/lib/dkms/tracer/*/"$fk"
# The control: BUILD_EXCLUSIVE alone (dkms.conf without the AUTOINSTALL part) is
# what makes dkms 3.0.10's hook fail (exit 11). Evidence for the choice.
conf=$ROOT/usr/src/tracer-$VERSION/dkms.conf
cp -p "$conf" "$RUN/dkms.conf.orig"
sed -i '/^_tracer_args=/,$d' "$conf"
rm -rf "$ROOT/lib/modules/6.1.0-99-e2e-nokprobes"
fake_kernel 6.1.0-99-e2e-nokprobes CONFIG_KPROBES
rc=0
in_root /etc/kernel/postinst.d/dkms 6.1.0-99-e2e-nokprobes >"$LOGS/hook-control.log" 2>&1 || rc=$?
cp -p "$RUN/dkms.conf.orig" "$conf"
# shellcheck disable=SC2016 # dpkg-query's format
note "control: with BUILD_EXCLUSIVE alone, the kernel hook of dkms" \
	"$(in_root dpkg-query -W -f='${Version}' dkms) exits $rc:" \
	"$(grep -E -m2 'BUILD_EXCLUSIVE directive|failed' "$LOGS/hook-control.log" | tr '\n' ' ')"
rm -rf "$ROOT/lib/modules/6.1.0-99-e2e-nokprobes" "$ROOT/lib/modules/5.4.0-99-e2e-old"
rm -rf "$ROOT"/var/lib/dkms/tracer/*/6.1.0-99-e2e-nokprobes "$ROOT"/var/lib/dkms/tracer/*/5.4.0-99-e2e-old
initrds_check "initramfs-tools, new kernel"

step "4: boot $K2"
# The opt-in group rule of the documentation, this time.
in_root groupadd --system tracer
cp "$ROOT/usr/share/doc/tracer-dkms/examples/61-tracer-group.rules" "$ROOT/etc/udev/rules.d/"
guest_setup "$K2" 660 root tracer
boot_start "$K2" boot-6.12
# Meanwhile: the next version, V2, from a copy of the source with VERSION and
# debian/changelog moved on (a visible change: the module's version).
V2=$(awk -F. -v OFS=. '{ $NF = $NF + 1; print }' <<<"$VERSION")
SRC2=$RUN/src-$V2
PKG2=$RUN/pkg-$V2
build_v2() {
	rm -rf "$SRC2" && cp -a "$SRC" "$SRC2" && echo "$V2" >"$SRC2/VERSION" &&
		{ printf 'tracer-dkms (%s) unstable; urgency=medium\n\n  * Test release of scripts/e2e-dkms.sh: upgrade from %s.\n\n -- %s  %s\n\n' \
			"$V2" "$VERSION" "tracer-dkms developers <dev@tracer-dkms.invalid>" "$(date -R)"
		  cat "$SRC/debian/changelog"; } >"$SRC2/debian/changelog" &&
		make -C "$SRC2" deb PKG_OUT="$PKG2" && make -C "$SRC2" rpm PKG_OUT="$PKG2"
}
if build_v2 >"$LOGS/build-$V2.log" 2>&1; then
	ok "version $V2 built (.deb and .rpm) from a copy with VERSION $V2"
else
	notok "version $V2 built" "$(logtail "$LOGS/build-$V2.log")"
fi
DEB2=$PKG2/deb/tracer-dkms_${V2}_all.deb
UTILS_DEB2=$(find "$PKG2/deb" -maxdepth 1 -name "tracer-utils_${V2}_*.deb" 2>/dev/null | head -n1) || true
if boot_wait boot-6.12; then
	report_guest boot-6.12 "$K2 +group rule"
else
	notok "[$K2] boot reached init" "3 tries; $(logtail "$LOGS/boot-6.12.console" 3)"
fi
rm -f "$ROOT/etc/udev/rules.d/61-tracer-group.rules"
in_root groupdel tracer

# --- 5. upgrade ----------------------------------------------------------------------------
# The repository gets V2 (V1 stays in its pool); apt upgrade; reboot into it.
# upgrade_checks WHEN LOG: after "apt upgrade" (LOG) to V2: V2 alone in DKMS and
# under /lib/modules, each kernel built once; the initramfs without tracer.ko.
upgrade_checks() {
	local when=$1 log=$2 k
	check "$when: apt upgrade $VERSION -> $V2" grep -q "Unpacking tracer-dkms ($V2) over ($VERSION)" "$log"
	eq "$when: dkms status: only tracer/$V2, installed for $K2" \
		"$(in_root dkms status -m tracer 2>/dev/null | sed 's/,.*: /: /' | sort -u)" "tracer/$V2: installed"
	eq "$when: $VERSION gone from DKMS (/var/lib/dkms, /usr/src)" \
		"$(ls -d "$ROOT/var/lib/dkms/tracer/$VERSION" "$ROOT/usr/src/tracer-$VERSION" 2>/dev/null)" ""
	eq "$when: every tracer.ko under /lib/modules is $V2" \
		"$(module_versions | awk '{ print $2 }' | sort -u)" "$V2"
	eq "$when: built once, for $K2 only (the running kernel, also the newest)" \
		"$(builds_in "$log" | tr '\n' ' ')" "$K2 "
	eq "$when: no DKMS autoinstall during the upgrade (nothing built twice)" \
		"$(grep -c -i 'autoinstall' "$log")" 0
	for k in "$K1" "$K2"; do
		eq "$when: DKMS state of $k" "$(modules_of "$k")" \
			"$([ "$k" = "$K2" ] && echo "/lib/modules/$k/updates/dkms/tracer.ko")"
	done
}
step "5: apt upgrade to $V2, reboot"
# The upgrade runs as on the system running $K2, the kernel booted last
# (as_running): DKMS builds for the running and the newest kernel, here both $K2.
if make_repo "$SRC2" "$PKG2" "$DEB2" ${UTILS_DEB2:+"$UTILS_DEB2"} >"$LOGS/repo-$V2.log" 2>&1; then
	ok "make repo: $V2 added to the repository"
else
	notok "make repo: $V2 added" "$(logtail "$LOGS/repo-$V2.log")"
fi
if apt_repo_update >"$LOGS/apt-update-$V2.log" 2>&1 &&
	as_running "$K2" in_root_net apt-get -q upgrade -y >"$LOGS/upgrade.log" 2>&1; then
	ok "apt update && apt upgrade (to $V2)"
else
	notok "apt update && apt upgrade" "$(logtail "$LOGS/upgrade.log")"
fi
upgrade_checks "initramfs-tools" "$LOGS/upgrade.log"
initrds_check "initramfs-tools, after the upgrade"
guest_setup "$K2" 600 root root "$V2"
boot_start "$K2" boot-upgrade
# Meanwhile: kernels that are neither running nor the newest keep no module after
# an upgrade (dh_dkms's postinst, and the RPM's): "dkms autoinstall -k" builds it.
rc=0
in_root dkms autoinstall -k "$K1" >"$LOGS/autoinstall-$K1.log" 2>&1 || rc=$?
eq "dkms autoinstall -k $K1 (exit $rc): $V2 for $K1" \
	"$(module_versions | grep "^$K1 ")" "$K1 $V2"
if boot_wait boot-upgrade; then
	report_guest boot-upgrade "$K2 upgraded to $V2"
else
	notok "[$K2 upgraded] boot reached init" "3 tries; $(logtail "$LOGS/boot-upgrade.console" 3)"
fi

# --- 6. purge ----------------------------------------------------------------------------
# purge_checks WHEN: nothing of tracer-dkms left on the system
purge_checks() {
	local when=$1
	eq "$when: no tracer.ko under /lib/modules" "$(find "$ROOT/lib/modules" -name 'tracer.ko*')" ""
	eq "$when: no /usr/src/tracer-*" "$(find "$ROOT/usr/src" -maxdepth 1 -name 'tracer-*')" ""
	eq "$when: no udev rule" "$(find "$ROOT/lib/udev/rules.d" "$ROOT/etc/udev/rules.d" -name '*tracer*')" ""
	eq "$when: no unit, no enablement, no dracut file" "$(find "$ROOT/lib/systemd" "$ROOT/etc/systemd" \
		"$ROOT/usr/lib/dracut" "$ROOT/usr/lib/modules-load.d" "$ROOT/etc/modules-load.d" \
		-name '*tracer*' ! -name 'tracer-e2e*')" ""
	eq "$when: dkms status: nothing" "$(in_root dkms status 2>&1)" ""
	eq "$when: no /var/lib/dkms/tracer" "$(ls -d "$ROOT/var/lib/dkms/tracer" 2>/dev/null)" ""
	eq "$when: tracer gone from modules.dep and modules.devname" "$(grep -lE '(^|/)tracer\.ko' \
		"$ROOT"/lib/modules/*/modules.dep; grep -l '^tracer ' "$ROOT"/lib/modules/*/modules.devname)" ""
	eq "$when: no tracerctl, no header" "$(ls "$ROOT/usr/bin/tracerctl" "$ROOT/usr/include/tracer" 2>/dev/null)" ""
	initrds_check "$when"
}
step "6: apt purge"
purge=(tracer-dkms)
[ -z "$UTILS_DEB" ] || purge+=(tracer-utils)
if in_root apt-get -q purge -y "${purge[@]}" >"$LOGS/purge.log" 2>&1; then
	ok "apt-get purge ${purge[*]}"
else
	notok "apt-get purge ${purge[*]}" "$(logtail "$LOGS/purge.log")"
fi
purge_checks "initramfs-tools, purged"
# shellcheck disable=SC2016 # dpkg-query's format
eq "dpkg knows no tracer package" \
	"$(in_root dpkg-query -W -f='${Package} ${db:Status-Status}\n' 'tracer-*' 2>/dev/null | grep -v not-installed)" ""

# "make dkms-install" / "make dkms-remove" from a checkout, on that system.
step "6: make dkms-install, make dkms-remove from the checkout"
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

# shellcheck source=scripts/e2e-dkms-more.sh
. "$SRC/scripts/e2e-dkms-more.sh"

rpm_checks
finish
