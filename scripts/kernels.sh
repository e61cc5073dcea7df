#!/bin/bash
# The kernel matrix: resolve, fetch and cache the test kernels and their build environments.
#
#   kernels.sh list                 the known kernel IDs
#   kernels.sh fetch [ID...]        resolve + fetch (default: $TRACER_KERNELS or all); prints
#                                   "ID: release R, builds on host|in the SUITE chroot DIR"
#   kernels.sh info ID              KEY=VALUE lines of a fetched kernel (for eval)
#
# Per ID: the newest release of the suite's headers metapackage, its vmlinuz (extracted from the
# image package, which is never installed on the host) and a build environment with that
# release's headers and the suite's own compiler: the host for bookworm, an mmdebstrap chroot
# for bullseye and sid. Cached under $TRACER_CACHE; a rerun uses the cached resolution and needs
# no network unless TRACER_REFRESH=1.
#
# Kernels of another architecture (IDs ending in -arm64) are cross-built in the same
# environments: dpkg there gains the architecture, the headers are the arm64 flavour's
# (linux-kbuild-* is Multi-Arch: foreign, so the environment's own kbuild tools serve them), the
# compiler is the suite's cross gcc of the version the headers name. Where the headers package is
# installable next to the native compiler (sid: it depends on gcc-N-for-host, the cross gcc) apt
# installs it; where not (bookworm: it depends on arm64's native gcc-N), apt installs its common
# part, kbuild and the cross gcc, and its arch part is unpacked into /usr/src as dpkg would
# (stamp .tracer-unpacked). The guests' busybox (of every architecture) is bookworm's
# busybox-static, unpacked into $TRACER_CACHE/guest/ARCH/.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

CHROOT_PKGS=make,gcc,libc6-dev,bc,libelf-dev,kmod,flex,bison,xz-utils,ca-certificates
CHROOT_VERSION=1 # bump to rebuild the chroots

# --- environments --------------------------------------------------------------

ensure_chroot() {
	local suite=$1 root stamp want tmp
	root=$(chroot_dir "$suite")
	stamp=$root/.tracer-chroot
	want="v$CHROOT_VERSION $CHROOT_PKGS"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		return 0
	fi
	msg "kernels: creating the $suite build chroot in $root (mmdebstrap)"
	tmp=$root.new
	rm -rf "$tmp" "$root"
	mkdir -p "${root%/*}"
	local -a sources
	mapfile -t sources < <(suite_sources "$suite")
	mmdebstrap --variant=apt --mode=root \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--aptopt='Acquire::Retries "3"' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--skip=cleanup/apt/lists \
		--include="$CHROOT_PKGS" \
		"$suite" "$tmp" "${sources[@]}" >&2
	mv "$tmp" "$root"
	mkdir -p "$root/build"
	printf '%s\n' "$want" >"$stamp"
	touch "$root/.tracer-apt-updated"
}

# env_apt_update SUITE: refresh the package lists of the suite's environment
env_apt_update() {
	if suite_is_host "$1"; then
		apt_update_once force
	else
		msg "kernels: apt-get update in the $1 chroot"
		in_env "$1" apt-get "${APT_OPTS[@]}" update >&2
		touch "$(chroot_dir "$1")/.tracer-apt-updated"
	fi
}

# env_add_arch SUITE ARCH: dpkg (and apt) of the suite's environment take ARCH packages too
env_add_arch() {
	in_env "$1" dpkg --print-foreign-architectures | grep -qx "$2" && return 0
	msg "kernels: adding the $2 architecture to dpkg ($1)"
	in_env "$1" dpkg --add-architecture "$2"
	env_apt_update "$1"
}

# env_admindir SUITE -> dpkg database of the environment
env_admindir() {
	if suite_is_host "$1"; then echo /var/lib/dpkg; else echo "$(chroot_dir "$1")/var/lib/dpkg"; fi
}

env_installed() { # SUITE PKG
	local st
	st=$(dpkg-query --admindir="$(env_admindir "$1")" -W -f='${db:Status-Status}' "$2" 2>/dev/null || true)
	[ "$st" = installed ]
}

# resolve ID -> release named by the candidate of the headers metapackage
resolve_release() {
	local id=$1 suite meta deps
	suite=$(kernel_suite "$id")
	meta=$(kernel_meta "$id"):$(kernel_arch "$id")
	deps=$(in_env "$suite" apt-cache show --no-all-versions "$meta" 2>/dev/null |
		sed -n 's/^Depends: //p' | head -n1)
	printf '%s\n' "$deps" | tr ',' '\n' | sed -n 's/^ *linux-headers-\([^ ]*\).*/\1/p' | head -n1
}

# env_root SUITE -> the environment's root directory as seen from the host ("" for the host)
env_root() { suite_is_host "$1" || chroot_dir "$1"; }

# headers_ready SUITE RELEASE: the headers of RELEASE are in the environment (installed or unpacked)
headers_ready() {
	env_installed "$1" "linux-headers-$2" ||
		[ -f "$(env_root "$1")/usr/src/linux-headers-$2/.tracer-unpacked" ]
}

install_headers() { # SUITE RELEASE ARCH
	local suite=$1 rel=$2 arch=$3 pkg=linux-headers-$2
	headers_ready "$suite" "$rel" && return 0
	msg "kernels: installing $pkg ($arch, $suite)"
	# INITRD=No: a headers package may pull its image (6.12 in bookworm does); skip its initramfs.
	if [ "$arch" = "$(host_arch)" ]; then
		in_env "$suite" env INITRD=No apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "$pkg" >&2
		return
	fi
	# Another architecture's: never at the price of a package of the environment (the native
	# compiler, which bookworm's arm64 headers would replace by arm64's).
	in_env "$suite" env INITRD=No apt-get "${APT_OPTS[@]}" install -y --no-install-recommends \
		--no-remove "$pkg:$arch" >&2 && return 0
	unpack_cross_headers "$suite" "$rel" "$arch"
}

# unpack_cross_headers SUITE RELEASE ARCH: what the headers package of an ARCH kernel would
# install, where apt cannot install it: its dependencies that the environment can have (the
# common headers and kbuild, both for the host's architecture, and the cross compiler of the gcc
# version it names) by apt, its own files unpacked.
unpack_cross_headers() {
	local suite=$1 rel=$2 arch=$3 pkg=linux-headers-$2 deps gcc native deb root
	deps=$(in_env "$suite" apt-cache show --no-all-versions "$pkg:$arch" | sed -n 's/^Depends: //p' |
		head -n1 | tr ',' '\n' | sed 's/^ *//; s/[ :].*//')
	gcc=$(printf '%s\n' "$deps" | sed -n 's/^gcc-\([0-9][0-9]*\)\(-for-host\)\{0,1\}$/\1/p' | head -n1)
	[ -n "$gcc" ] || { msg "kernels: $pkg:$arch names no gcc-N among: $(tr "\n" " " <<<"$deps")"; return 1; }
	native=$(printf '%s\n' "$deps" | grep -E '^linux-(headers-.*-common(-rt)?|kbuild-.*)$' | tr '\n' ' ')
	msg "kernels: $pkg:$arch depends on $arch's own gcc-$gcc: installing $native" \
		"gcc-$gcc-$(arch_gnu "$arch") and unpacking $pkg"
	# shellcheck disable=SC2086 # a list of package names
	in_env "$suite" apt-get "${APT_OPTS[@]}" install -y --no-install-recommends --no-remove \
		$native "gcc-$gcc-$(arch_gnu "$arch")" >&2 || return 1
	deb=$(env_download "$suite" "$pkg:$arch") || return 1
	root=$(env_root "$suite")
	rm -rf "$root/usr/src/$pkg"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$root/" "./usr/src/$pkg" || return 1
	dpkg-deb -f "$deb" Package Version >"$root/usr/src/$pkg/.tracer-unpacked"
	rm -rf "${deb%/*}"
}

# env_download SUITE PKG -> the host path of PKG's .deb, downloaded in the suite's environment
# into a directory of its own (remove it when done)
env_download() {
	local suite=$1 pkg=$2 dldir hostdir deb
	dldir=/var/tmp/tracer-debs.$$
	suite_is_host "$suite" && dldir=$TRACER_CACHE/debs.$$
	hostdir=$(env_root "$suite")$dldir
	rm -rf "$hostdir"
	mkdir -p "$hostdir"
	chmod 777 "$hostdir"
	# shellcheck disable=SC2016 # expanded by the inner shell
	in_env "$suite" /bin/sh -c 'cd "$1" && shift && apt-get "$@"' dl "$dldir" \
		"${APT_OPTS[@]}" download "$pkg" >&2 || { rm -rf "$hostdir"; return 1; }
	deb=$(find "$hostdir" -name "${pkg%%:*}_*.deb" | head -n1)
	[ -n "$deb" ] || { msg "kernels: no $pkg .deb downloaded"; rm -rf "$hostdir"; return 1; }
	echo "$deb"
}

# fetch_vmlinuz SUITE RELEASE ARCH DEST: download the image package, extract only its vmlinuz
fetch_vmlinuz() {
	local suite=$1 rel=$2 arch=$3 dest=$4 pkg='' p deb tmp f
	# sid (7.x) splits the image: vmlinuz is in linux-binary-<release>. The newest image of a
	# suite may exist only unsigned (before its signed twin is published).
	for p in "linux-binary-$rel" "linux-image-$rel" "linux-image-$rel-unsigned"; do
		if in_env "$suite" apt-cache show --no-all-versions "$p:$arch" >/dev/null 2>&1; then
			pkg=$p:$arch
			break
		fi
	done
	[ -n "$pkg" ] || { msg "kernels: no image package of $rel ($arch) in $suite"; return 1; }
	msg "kernels: downloading $pkg ($suite)"
	deb=$(env_download "$suite" "$pkg") || return 1
	tmp=$(mktemp -d "$TRACER_CACHE/tmp.XXXXXX")
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards --no-anchored 'vmlinuz*' || true
	rm -rf "${deb%/*}"
	f=$(find "$tmp" -type f -name 'vmlinuz*' | head -n1)
	[ -n "$f" ] || die "no vmlinuz in $pkg"
	mv "$f" "$dest"
	rm -rf "$tmp"
}

# fetch_busybox ARCH: the static busybox of the guests of ARCH, from the host's suite, in
# $TRACER_CACHE/guest/ARCH/busybox (whatever busybox package the host has installed)
fetch_busybox() {
	local arch=$1 dir=$TRACER_CACHE/guest/$1 deb
	[ -x "$dir/busybox" ] && return 0
	msg "kernels: fetching busybox-static:$arch"
	mkdir -p "$dir"
	deb=$(env_download "$(host_suite)" "busybox-static:$arch") || return 1
	dpkg-deb --fsys-tarfile "$deb" | tar -x -O ./bin/busybox >"$dir/busybox.part" || return 1
	rm -rf "${deb%/*}"
	chmod 755 "$dir/busybox.part"
	mv "$dir/busybox.part" "$dir/busybox"
}

# extract_vmlinux BZIMAGE OUT: the uncompressed ELF kernel inside a bzImage, kept only if it has
# the PVH entry note: QEMU boots that directly, skipping the slow decompression under TCG.
# Writes OUT.none when there is no such kernel (then vm.sh boots the bzImage).
extract_vmlinux() {
	local img=$1 out=$2 magic tool off
	[ -f "$out" ] || [ -f "$out.none" ] && return 0
	# Only x86 has PVH; QEMU loads an arm64 kernel as it is (and inflates it on the host).
	if ! od -An -tx1 -j 0x202 -N 4 "$img" | grep -q '48 64 72 53'; then # bzImage "HdrS"
		: >"$out.none"
		return 0
	fi
	for magic in 'xz:\xfd\x37\x7a\x58\x5a\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
		tool=${magic%%:*}
		for off in $(LC_ALL=C grep -obUaP "${magic#*:}" "$img" 2>/dev/null | cut -d: -f1 | head -n 4); do
			tail -c +$((off + 1)) "$img" | "$tool" -dc 2>/dev/null >"$out.part" || true
			if [ "$(head -c 4 "$out.part" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
				# XEN_ELFNOTE_PHYS32_ENTRY (0x12) in a Xen note: the PVH entry point
				if readelf -n "$out.part" 2>/dev/null | grep -A1 '^ *Xen ' | grep -q '0x00000012'; then
					mv "$out.part" "$out"
					return 0
				fi
				break 2
			fi
		done
	done
	rm -f "$out.part"
	: >"$out.none"
}

# headers_dir ROOT RELEASE -> the kbuild dir of RELEASE as seen inside ROOT
headers_dir() {
	local d
	for d in "/lib/modules/$2/build" "/usr/src/linux-headers-$2"; do
		if [ -f "$1$d/Makefile" ]; then
			echo "$d"
			return 0
		fi
	done
	return 1
}

# fetch ID: make sure the kernel and its build environment are in the cache
fetch() {
	local id=$1 suite arch dir info rel root kdir
	suite=$(kernel_suite "$id")
	arch=$(kernel_arch "$id")
	dir=$TRACER_CACHE/kernels/$id
	info=$dir/info
	mkdir -p "$dir"

	root=$(env_root "$suite")
	# The guest's busybox, and the host's (vm.sh lists the applets with it).
	[ "$arch" = "$(host_arch)" ] || env_add_arch "$(host_suite)" "$arch"
	fetch_busybox "$arch" || die "$id: no busybox-static for $arch"
	fetch_busybox "$(host_arch)" || die "no busybox-static for $(host_arch)"

	# Warm cache: everything there and no refresh asked for -> no apt at all.
	if [ "${TRACER_REFRESH:-0}" != 1 ] && [ -f "$info" ]; then
		rel=$(sed -n 's/^KREL=//p' "$info")
		if [ -f "$dir/vmlinuz-$rel" ] && headers_dir "$root" "$rel" >/dev/null &&
			{ suite_is_host "$suite" || [ -f "$root/.tracer-chroot" ]; } &&
			headers_ready "$suite" "$rel"; then
			extract_vmlinux "$dir/vmlinuz-$rel" "$dir/vmlinux-$rel"
			report "$id"
			return 0
		fi
	fi

	suite_is_host "$suite" || ensure_chroot "$suite"
	[ "$arch" = "$(host_arch)" ] || env_add_arch "$suite" "$arch"
	# Resolve, install the headers, fetch the image; if that fails with the package lists we
	# have (none yet, or too old: the release is gone from the mirror), update them and redo.
	local attempt
	for attempt in 1 2; do
		if [ "$attempt" = 2 ] || [ "${TRACER_REFRESH:-0}" = 1 ]; then
			env_apt_update "$suite"
		fi
		rel=$(resolve_release "$id" || true)
		if [ -z "$rel" ]; then
			msg "kernels: $id: cannot resolve the release of $(kernel_meta "$id") in $suite"
			continue
		fi
		[[ $rel =~ $(kernel_release_pattern "$id") ]] ||
			die "$id: $(kernel_meta "$id") in $suite names '$rel', not a $id kernel"
		install_headers "$suite" "$rel" "$arch" || continue
		if [ ! -f "$dir/vmlinuz-$rel" ]; then
			fetch_vmlinuz "$suite" "$rel" "$arch" "$dir/vmlinuz-$rel.part" || continue
			mv "$dir/vmlinuz-$rel.part" "$dir/vmlinuz-$rel"
		fi
		break
	done
	if [ -z "$rel" ] || [ ! -f "$dir/vmlinuz-$rel" ] || ! headers_ready "$suite" "$rel"; then
		die "$id: could not fetch the kernel and headers of $(kernel_meta "$id") from $suite"
	fi
	kdir=$(headers_dir "$root" "$rel") ||
		die "$id: linux-headers-$rel installed but no headers in $root/lib/modules/$rel/build or /usr/src"

	find "$dir" -maxdepth 1 -name 'vmlinu[xz]-*' ! -name "vmlinu[xz]-$rel*" -delete
	extract_vmlinux "$dir/vmlinuz-$rel" "$dir/vmlinux-$rel"

	{
		echo "KID=$id"
		echo "KSUITE=$suite"
		echo "KREL=$rel"
		echo "KARCH=$arch"
		echo "KVMLINUZ=$dir/vmlinuz-$rel"
		echo "KDIR=$kdir"
		if suite_is_host "$suite"; then
			echo "KENV=host"
			echo "KROOT=/"
		else
			echo "KENV=chroot"
			echo "KROOT=$root"
		fi
		echo "KRESOLVED=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	} >"$info.new"
	mv "$info.new" "$info"
	report "$id"
}

report() {
	local id=$1 KREL KENV KSUITE KROOT how
	eval "$(info "$id")"
	how=builds
	[ "$(kernel_arch "$id")" = "$(host_arch)" ] || how="cross-builds ($(arch_cross "$(kernel_arch "$id")"))"
	if [ "$KENV" = host ]; then
		printf '%s: release %s, %s on the host (%s)\n' "$id" "$KREL" "$how" "$KSUITE"
	else
		printf '%s: release %s, %s in the %s chroot %s\n' "$id" "$KREL" "$how" "$KSUITE" "$KROOT"
	fi
}

info() {
	local f=$TRACER_CACHE/kernels/$1/info
	kernel_suite "$1" >/dev/null
	[ -f "$f" ] || die "kernel $1 not fetched yet (run: scripts/kernels.sh fetch $1)"
	cat "$f"
}

action=${1:-fetch}
[ $# -eq 0 ] || shift
case $action in
list) tr ' ' '\n' <<<"$TRACER_ALL_KERNELS" ;;
info)
	[ $# -eq 1 ] || die "usage: kernels.sh info ID"
	info "$1"
	;;
fetch)
	[ "$(id -u)" = 0 ] || die "kernels.sh fetch must run as root"
	mkdir -p "$TRACER_CACHE"
	if [ $# -eq 0 ]; then mapfile -t ids < <(selected_kernels); else ids=("$@"); fi
	for id in "${ids[@]}"; do
		fetch "$id"
	done
	;;
*) die "usage: kernels.sh list | fetch [ID...] | info ID" ;;
esac
