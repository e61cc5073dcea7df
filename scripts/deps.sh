#!/bin/bash
# Install what the test harness needs on the host (Debian bookworm, as root).
# Idempotent: returns at once when everything is installed.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

HOST_PKGS=(
	make gcc libc6-dev bc flex bison libelf-dev kmod # kbuild + static guest binaries
	sparse perl                                      # static checks
	mmdebstrap debian-archive-keyring gpg mount      # bullseye/sid build chroots
	busybox-static cpio                              # guest initramfs
	xz-utils zstd git ca-certificates                # unpacking, source listing
)

[ "$(id -u)" = 0 ] || die "deps.sh must run as root (apt-get install)"
command -v apt-get >/dev/null || die "not a Debian system"

# Per architecture of the selected kernels (TRACER_KERNELS, TRACER_ARCH): its QEMU and, for
# another architecture than the host's, the cross compiler and C library of the static guest
# programs, and dpkg's knowledge of that architecture (the kernels' headers and the guests'
# busybox are its packages: scripts/kernels.sh).
mapfile -t arches < <(selected_arches)
for arch in "${arches[@]}"; do
	read -ra pkgs <<<"$(arch_host_pkgs "$arch")"
	HOST_PKGS+=("${pkgs[@]}")
	if [ "$arch" != "$(host_arch)" ] && ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
		msg "deps: adding the $arch architecture to dpkg"
		dpkg --add-architecture "$arch"
		apt_update_once force
	fi
done

missing=$(pkgs_missing "${HOST_PKGS[@]}")
if [ -z "$missing" ]; then
	msg "deps: all host packages installed"
	exit 0
fi
msg "deps: installing: $(tr "\n" " " <<<"$missing")"
host_install "${HOST_PKGS[@]}"
