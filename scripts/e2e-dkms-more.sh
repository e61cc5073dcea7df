# shellcheck shell=bash
# Steps 7 and 8 of scripts/e2e-dkms.sh (sourced by it, after step 6): the same
# system with dracut as its initramfs generator, and the RPMs installed with
# rpm. Uses the caller's variables (ROOT, REPO, K1, K2, VERSION, V2, PKG, PKG2,
# KERNEL_DEBS, DRACUT_PKGS...) and functions (ok, notok, check, eq, upgrade_checks,
# purge_checks, the helpers of scripts/e2e-lib.sh).

# --- 7. dracut --------------------------------------------------------------------------
# What Fedora, RHEL and openSUSE use: dracut puts every module named in
# /usr/lib/modules-load.d into the initramfs, and DKMS does not remake it when
# it installs or removes a module. tracer-dkms names none and ships
# omit_drivers+=" tracer ": no tracer.ko in an initramfs, ever.
step "7: dracut as the initramfs generator: install, upgrade, reboot, purge"
# A generic initramfs (hostonly detection would look at the host from the
# chroot) with the drivers of the test VM's root disk only: quick to make.
mkdir -p "$ROOT/etc/dracut.conf.d"
printf '%s\n' 'hostonly="no"' 'drivers=" virtio_pci virtio_blk ext4 "' 'compress="zstd"' \
	>"$ROOT/etc/dracut.conf.d/90-tracer-e2e.conf"
# shellcheck disable=SC2086 # a list of package names
if in_root apt-get -q -o Dir::Cache::Archives="$KERNEL_DEBS" install -y --no-download $DRACUT_PKGS \
	>"$LOGS/dracut-install.log" 2>&1; then
	ok "apt-get install $DRACUT_PKGS (replaces initramfs-tools)"
else
	notok "apt-get install $DRACUT_PKGS" "$(logtail "$LOGS/dracut-install.log")"
fi
# remake_initrds WHEN: each kernel's initramfs, by dracut's kernel hook (what a
# kernel update runs)
remake_initrds() {
	local k rc
	for k in "$K1" "$K2"; do
		rc=0
		in_root /etc/kernel/postinst.d/dracut "$k" "/boot/vmlinuz-$k" >"$LOGS/dracut-$k.log" 2>&1 || rc=$?
		if [ $rc = 0 ] && grep -q 'dracut' <(initrd_list "/boot/initrd.img-$k" | head -n 30); then
			ok "$1: dracut's kernel hook made the initramfs of $k"
		else
			notok "$1: dracut's kernel hook made the initramfs of $k" "exit $rc: $(logtail "$LOGS/dracut-$k.log" 2)"
		fi
	done
}

if in_root_net apt-get -q install -y "tracer-dkms=$VERSION" ${UTILS_DEB:+"tracer-utils=$VERSION"} \
	>"$LOGS/dracut-tracer-install.log" 2>&1; then
	ok "dracut: apt install tracer-dkms=$VERSION (the repository has $VERSION and $V2)"
else
	notok "dracut: apt install tracer-dkms=$VERSION" "$(logtail "$LOGS/dracut-tracer-install.log")"
fi
check "dracut: dkms status: tracer/$VERSION installed for $K2" dkms_installed_for "$K2"
remake_initrds "dracut, $VERSION installed"
initrds_check "dracut, $VERSION installed"

# The control: a modules-load.d entry naming tracer (what tracer-dkms 0.1.0
# shipped, or an admin's own) puts tracer.ko into dracut's initramfs unless the
# omit file is there.
omit=$ROOT/usr/lib/dracut/dracut.conf.d/50-tracer-dkms.conf
mkdir -p "$ROOT/usr/lib/modules-load.d"
echo tracer >"$ROOT/usr/lib/modules-load.d/tracer-e2e.conf"
mv "$omit" "$RUN/omit.conf"
rc=0
in_root dracut -f /root/control.img "$K2" >"$LOGS/dracut-control.log" 2>&1 || rc=$?
mv "$RUN/omit.conf" "$omit"
if [ $rc = 0 ] && grep -qE '(^|/)tracer\.ko' <(initrd_list /root/control.img); then
	ok "control: without 50-tracer-dkms.conf, a modules-load.d entry puts tracer.ko into dracut's initramfs"
else
	notok "control: without 50-tracer-dkms.conf, a modules-load.d entry puts tracer.ko into dracut's initramfs" \
		"exit $rc: $(logtail "$LOGS/dracut-control.log" 2)"
fi
rc=0
in_root dracut -f /root/control.img "$K2" >"$LOGS/dracut-omit.log" 2>&1 || rc=$?
[ $rc = 0 ] || notok "dracut with 50-tracer-dkms.conf and a modules-load.d entry" "$(logtail "$LOGS/dracut-omit.log" 2)"
initrd_check "with 50-tracer-dkms.conf, the same modules-load.d entry: no tracer.ko" /root/control.img
rm -f "$ROOT/usr/lib/modules-load.d/tracer-e2e.conf" "$ROOT/root/control.img"

if as_running "$K2" in_root_net apt-get -q upgrade -y >"$LOGS/dracut-upgrade.log" 2>&1; then
	ok "dracut: apt upgrade (to $V2)"
else
	notok "dracut: apt upgrade" "$(logtail "$LOGS/dracut-upgrade.log")"
fi
upgrade_checks "dracut" "$LOGS/dracut-upgrade.log"
initrds_check "dracut, after the upgrade (initramfs not remade)"
remake_initrds "dracut, $V2 installed"
initrds_check "dracut, $V2 installed"
guest_setup "$K2" 600 root root "$V2"
boot_start "$K2" boot-dracut
if boot_wait boot-dracut; then
	report_guest boot-dracut "$K2 dracut initramfs, $V2"
else
	notok "[$K2 dracut] boot reached init" "3 tries; $(logtail "$LOGS/boot-dracut.console" 3)"
fi
if in_root apt-get -q purge -y tracer-dkms ${UTILS_DEB:+tracer-utils} >"$LOGS/dracut-purge.log" 2>&1; then
	ok "dracut: apt purge"
else
	notok "dracut: apt purge" "$(logtail "$LOGS/dracut-purge.log")"
fi
purge_checks "dracut, purged (initramfs not remade)"

# --- 8. the RPMs, installed with rpm -------------------------------------------------------
# No RPM distribution is reachable here: Debian's rpm installs them into this
# Debian system, which has a real dkms (--nodeps for the distribution's packages
# only, which rpm's empty database does not know). Their scriptlets must add,
# build, install, upgrade and remove as the .deb's do.
step "8: the RPMs installed with rpm (Debian's rpm, the system's dkms)"
RPM2=$(find "$PKG2/rpm/RPMS/noarch" -name "tracer-dkms-${V2}-*.noarch.rpm" 2>/dev/null | head -n1) || true
URPM2=$(find "$PKG2/rpm/RPMS" -name "tracer-utils-${V2}-*.rpm" 2>/dev/null | head -n1) || true
rm -rf "$ROOT/tmp/rpm"
mkdir -p "$ROOT/tmp/rpm/1" "$ROOT/tmp/rpm/2"
# shellcheck disable=SC2153 # RPM and URPM: step 1's
cp "$RPM" ${URPM:+"$URPM"} "$ROOT/tmp/rpm/1/" 2>/dev/null
cp "$RPM2" ${URPM2:+"$URPM2"} "$ROOT/tmp/rpm/2/" 2>/dev/null
# shellcheck disable=SC2016 # for the inner shell
rpm_in() { in_root sh -c 'rpm --force-debian "$@" /tmp/rpm/'"$1"'/*.rpm' sh "${@:2}"; }
# the same, as on the system running $K2 (as the apt upgrade of step 5)
rpm_in_running() {
	as_running "$K2" in_root sh -c 'rpm --force-debian "$@" /tmp/rpm/'"$1"'/*.rpm' sh "${@:2}"
}
missing=$(rpm_in 1 -i --test 2>&1 | sed -n 's/^[[:space:]]*\(.*\) is needed by .*/\1/p' | sort -u) || true
eq "rpm -i --test: only distribution packages missing ($(cut -d'(' -f1 <<<"$missing" | sort -u | tr '\n' ' '))" \
	"$(grep -vE '^(dkms|kmod|/bin/sh|libc\.so\.6(\(.*\))*|rtld\(GNU_HASH\))$' <<<"$missing")" ""
if rpm_in 1 -i --nodeps >"$LOGS/rpm-install.log" 2>&1; then
	ok "rpm -i --nodeps tracer-dkms tracer-utils $VERSION"
else
	notok "rpm -i --nodeps tracer-dkms tracer-utils $VERSION" "$(logtail "$LOGS/rpm-install.log")"
fi
# A first installation in a chroot builds for every kernel (dkms's common.postinst,
# as the .deb's did in step 2).
for k in "$K1" "$K2"; do
	check "rpm %post: dkms status: tracer/$VERSION installed for $k" dkms_installed_for "$k"
done
check "rpm %post: the preset enabled tracer-dkms.service" \
	test -L "$ROOT/etc/systemd/system/sysinit.target.wants/tracer-dkms.service"
check "rpm: udev rule, unit, dracut omission, DKMS source" test -f "$ROOT/usr/lib/udev/rules.d/60-tracer.rules" \
	-a -f "$ROOT/usr/lib/systemd/system/tracer-dkms.service" \
	-a -f "$ROOT/usr/lib/dracut/dracut.conf.d/50-tracer-dkms.conf" -a -f "$ROOT/usr/src/tracer-$VERSION/dkms.conf"
if rpm_in_running 2 -U --nodeps >"$LOGS/rpm-upgrade.log" 2>&1; then
	ok "rpm -U --nodeps to $V2"
else
	notok "rpm -U --nodeps to $V2" "$(logtail "$LOGS/rpm-upgrade.log")"
fi
# Then as after apt upgrade: V2 for the newest kernel, V1 gone everywhere.
eq "rpm -U: dkms status: only tracer/$V2, installed for $K2" \
	"$(in_root dkms status -m tracer 2>/dev/null | sed 's/,.*: /: /' | sort -u)" "tracer/$V2: installed"
eq "rpm -U: $VERSION gone from DKMS (/var/lib/dkms, /usr/src)" \
	"$(ls -d "$ROOT/var/lib/dkms/tracer/$VERSION" "$ROOT/usr/src/tracer-$VERSION" 2>/dev/null)" ""
eq "rpm -U: tracer.ko under /lib/modules: $V2 for $K2 only (as apt upgrade)" \
	"$(module_versions | tr '\n' ' ')" "$K2 $V2 "
eq "rpm -U: built once, for $K2" "$(builds_in "$LOGS/rpm-upgrade.log" | tr '\n' ' ')" "$K2 "
eq "rpm -q: $V2 installed" "$(in_root rpm -q --qf '%{NAME} %{VERSION}\n' tracer-dkms 2>&1)" "tracer-dkms $V2"
if in_root rpm --force-debian -e tracer-dkms ${URPM:+tracer-utils} >"$LOGS/rpm-erase.log" 2>&1; then
	ok "rpm -e tracer-dkms tracer-utils"
else
	notok "rpm -e tracer-dkms tracer-utils" "$(logtail "$LOGS/rpm-erase.log")"
fi
purge_checks "rpm -e"
eq "rpm -qa: no tracer package" "$(in_root rpm -qa 'tracer*' 2>&1)" ""
rm -rf "$ROOT/tmp/rpm"
