#!/bin/bash
# Install what the test harness needs on the host (Debian bookworm, as root).
# Idempotent: returns at once when everything is installed.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

HOST_PKGS=(
	make gcc libc6-dev bc flex bison libelf-dev kmod # kbuild + static guest binaries
	sparse perl                                      # static checks
	qemu-system-x86                                  # the test VMs
	mmdebstrap debian-archive-keyring gpg mount      # bullseye/sid build chroots
	busybox-static cpio                              # guest initramfs
	xz-utils zstd git ca-certificates                # unpacking, source listing
)

[ "$(id -u)" = 0 ] || die "deps.sh must run as root (apt-get install)"
command -v apt-get >/dev/null || die "not a Debian system"

missing=$(pkgs_missing "${HOST_PKGS[@]}")
if [ -z "$missing" ]; then
	msg "deps: all host packages installed"
	exit 0
fi
msg "deps: installing: $(tr "\n" " " <<<"$missing")"
host_install "${HOST_PKGS[@]}"
