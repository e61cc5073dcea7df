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
	meta=$(kernel_meta "$id")
	deps=$(in_env "$suite" apt-cache show --no-all-versions "$meta" 2>/dev/null |
		sed -n 's/^Depends: //p' | head -n1)
	printf '%s\n' "$deps" | tr ',' '\n' | sed -n 's/^ *linux-headers-\([^ ]*\).*/\1/p' | head -n1
}

install_headers() { # SUITE RELEASE
	local suite=$1 rel=$2 pkg=linux-headers-$2
	env_installed "$suite" "$pkg" && return 0
	msg "kernels: installing $pkg ($suite)"
	# INITRD=No: a headers package may pull its image (6.12 in bookworm does); skip its initramfs.
	in_env "$suite" env INITRD=No apt-get "${APT_OPTS[@]}" install -y --no-install-recommends "$pkg" >&2
}

# fetch_vmlinuz SUITE RELEASE DEST: download the image package, extract only its vmlinuz
fetch_vmlinuz() {
	local suite=$1 rel=$2 dest=$3 pkg dldir hostdir deb tmp f
	# sid (7.x) splits the image: vmlinuz is in linux-binary-<release>.
	if in_env "$suite" apt-cache show --no-all-versions "linux-binary-$rel" >/dev/null 2>&1; then
		pkg=linux-binary-$rel
	else
		pkg=linux-image-$rel
	fi
	msg "kernels: downloading $pkg ($suite)"
	if suite_is_host "$suite"; then
		dldir=$TRACER_CACHE/debs
		hostdir=$dldir
	else
		dldir=/var/tmp/tracer-debs
		hostdir=$(chroot_dir "$suite")$dldir
	fi
	rm -rf "$hostdir"
	mkdir -p "$hostdir"
	chmod 777 "$hostdir"
	# shellcheck disable=SC2016 # expanded by the inner shell
	in_env "$suite" /bin/sh -c 'cd "$1" && shift && apt-get "$@"' dl "$dldir" \
		"${APT_OPTS[@]}" download "$pkg" >&2 || return 1
	deb=$(find "$hostdir" -name "${pkg}_*.deb" | head -n1)
	[ -n "$deb" ] || { msg "kernels: no $pkg .deb downloaded"; return 1; }
	tmp=$(mktemp -d "$TRACER_CACHE/tmp.XXXXXX")
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards --no-anchored 'vmlinuz*' || true
	f=$(find "$tmp" -type f -name 'vmlinuz*' | head -n1)
	[ -n "$f" ] || die "no vmlinuz in $deb"
	mv "$f" "$dest"
	rm -rf "$tmp" "$hostdir"
}

# extract_vmlinux BZIMAGE OUT: the uncompressed ELF kernel inside a bzImage, kept only if it has
# the PVH entry note: QEMU boots that directly, skipping the slow decompression under TCG.
# Writes OUT.none when there is no such kernel (then vm.sh boots the bzImage).
extract_vmlinux() {
	local img=$1 out=$2 magic tool off
	[ -f "$out" ] || [ -f "$out.none" ] && return 0
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
	local id=$1 suite dir info rel root kdir
	suite=$(kernel_suite "$id")
	dir=$TRACER_CACHE/kernels/$id
	info=$dir/info
	mkdir -p "$dir"

	if suite_is_host "$suite"; then root=; else root=$(chroot_dir "$suite"); fi

	# Warm cache: everything there and no refresh asked for -> no apt at all.
	if [ "${TRACER_REFRESH:-0}" != 1 ] && [ -f "$info" ]; then
		rel=$(sed -n 's/^KREL=//p' "$info")
		if [ -f "$dir/vmlinuz-$rel" ] && headers_dir "$root" "$rel" >/dev/null &&
			{ suite_is_host "$suite" || [ -f "$root/.tracer-chroot" ]; } &&
			env_installed "$suite" "linux-headers-$rel"; then
			extract_vmlinux "$dir/vmlinuz-$rel" "$dir/vmlinux-$rel"
			report "$id"
			return 0
		fi
	fi

	suite_is_host "$suite" || ensure_chroot "$suite"
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
		install_headers "$suite" "$rel" || continue
		if [ ! -f "$dir/vmlinuz-$rel" ]; then
			fetch_vmlinuz "$suite" "$rel" "$dir/vmlinuz-$rel.part" || continue
			mv "$dir/vmlinuz-$rel.part" "$dir/vmlinuz-$rel"
		fi
		break
	done
	if [ -z "$rel" ] || [ ! -f "$dir/vmlinuz-$rel" ] || ! env_installed "$suite" "linux-headers-$rel"; then
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
	local id=$1 KREL KENV KSUITE KROOT
	eval "$(info "$id")"
	if [ "$KENV" = host ]; then
		printf '%s: release %s, builds on the host (%s)\n' "$id" "$KREL" "$KSUITE"
	else
		printf '%s: release %s, builds in the %s chroot %s\n' "$id" "$KREL" "$KSUITE" "$KROOT"
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
