# shellcheck shell=bash
# Common helpers of the tracer-dkms test harness (sourced, not run).
#
# Environment (all optional):
#   TRACER_CACHE     cache of chroots, kernel images, checkpatch (default /var/cache/tracer-dkms)
#   TRACER_KERNELS   kernel IDs to test, space separated (default: all of TRACER_ALL_KERNELS,
#                    or those of the architectures in TRACER_ARCH)
#   TRACER_ARCH      amd64, arm64 or "amd64 arm64" (= all, the default): the architectures whose
#                    kernels the default selection takes
#   TRACER_REFRESH=1 re-resolve the newest kernel of every suite (apt-get update) instead of
#                    using the cached resolution
#   TRACER_JOBS      make -j for module builds (default 2)

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TRACER_CACHE=${TRACER_CACHE:-/var/cache/tracer-dkms}
TRACER_JOBS=${TRACER_JOBS:-2}
TRACER_ALL_KERNELS="5.10 6.1 6.1-rt 6.12 6.12-rt 7.x 6.1-arm64 6.12-arm64 7.x-arm64"
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY=${DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
export DEBIAN_FRONTEND=noninteractive
# Our scripts choose their own make flags (not those of the make that ran us), and the
# architecture of every build (kbuild reads ARCH and CROSS_COMPILE from the environment).
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES ARCH CROSS_COMPILE
export LC_ALL=C.UTF-8

# shellcheck source=scripts/tap.sh
. "$TOP/scripts/tap.sh"

msg() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Wait for the dpkg lock (others may run apt at the same time); old lists are fine.
APT_OPTS=(-q -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3
	  -o Acquire::Check-Valid-Until=false)

# --- kernel matrix ---------------------------------------------------------

# kernel_suite ID -> Debian suite the kernel (and its compiler) come from
kernel_suite() {
	case $1 in
	5.10) echo bullseye ;;
	6.1 | 6.1-rt | 6.12 | 6.12-rt | 6.1-arm64 | 6.12-arm64) echo bookworm ;;
	7.x | 7.x-arm64) echo sid ;;
	*) die "unknown kernel ID '$1' (known: $TRACER_ALL_KERNELS)" ;;
	esac
}

# kernel_arch ID -> Debian architecture of the kernel (IDs of other architectures end in -ARCH)
kernel_arch() {
	case $1 in
	*-arm64) echo arm64 ;;
	*) echo amd64 ;;
	esac
}

# kernel_meta ID -> headers metapackage whose dependency names the newest release
kernel_meta() {
	case $1 in
	5.10 | 6.1 | 7.x) echo linux-headers-amd64 ;;
	6.1-rt) echo linux-headers-rt-amd64 ;;
	6.12) echo linux-headers-6.12-amd64 ;;
	6.12-rt) echo linux-headers-6.12-rt-amd64 ;;
	6.1-arm64 | 7.x-arm64) echo linux-headers-arm64 ;;
	6.12-arm64) echo linux-headers-6.12-arm64 ;;
	*) die "unknown kernel ID '$1'" ;;
	esac
}

# kernel_release_pattern ID -> extended regexp the resolved release must match
kernel_release_pattern() {
	case $1 in
	5.10) echo '^5\.10\..*-amd64$' ;;
	6.1) echo '^6\.1\.[0-9]+-[0-9]+-amd64$' ;;
	6.1-rt) echo '^6\.1\.[0-9]+-[0-9]+-rt-amd64$' ;;
	6.12) echo '^6\.12\.[^-]*-amd64$' ;;
	6.12-rt) echo '^6\.12\.[^-]*-rt-amd64$' ;;
	7.x) echo '^7\.[^-]*-amd64$' ;;
	6.1-arm64) echo '^6\.1\.[0-9]+-[0-9]+-arm64$' ;;
	6.12-arm64) echo '^6\.12\.[^-]*-arm64$' ;;
	7.x-arm64) echo '^7\.[^-]*-arm64$' ;;
	esac
}

# --- architectures -------------------------------------------------------------
# Debian names (amd64, arm64) are the harness's; these map them to the others.

host_arch() { dpkg --print-architecture; }

# arch_row ARCH -> "kbuild-ARCH GNU-triplet QEMU" of a supported architecture
arch_row() {
	case $1 in
	amd64) echo "x86 x86_64-linux-gnu qemu-system-x86_64" ;;
	arm64) echo "arm64 aarch64-linux-gnu qemu-system-aarch64" ;;
	*) die "unsupported architecture '$1' (amd64, arm64)" ;;
	esac
}
arch_field() { # ARCH N
	local r
	local -a row
	r=$(arch_row "$1") || exit 1
	read -ra row <<<"$r"
	echo "${row[$2]}"
}
arch_kbuild() { arch_field "$1" 0; } # kbuild's ARCH
arch_gnu() { arch_field "$1" 1; }    # GNU triplet, the prefix of its cross tools
arch_qemu() { arch_field "$1" 2; }   # the QEMU system emulator

# arch_cross ARCH -> CROSS_COMPILE for ARCH on this host ("" for the host's own)
arch_cross() {
	if [ "$1" = "$(host_arch)" ]; then echo; else echo "$(arch_gnu "$1")-"; fi
}

# arch_host_pkgs ARCH -> host packages that build and boot ARCH's guests (besides the common ones)
# and, for another architecture than the host's, cross-build its tracer-utils .deb
arch_host_pkgs() {
	case $1 in
	amd64) echo qemu-system-x86 ;;
	arm64) echo qemu-system-arm gcc-aarch64-linux-gnu libc6-dev:arm64 dpkg-dev debhelper dh-dkms ;;
	esac
}

# selected_arches -> the architectures of the selected kernels, host's first
selected_arches() {
	selected_kernels | while read -r k; do kernel_arch "$k"; done |
		awk -v h="$(host_arch)" '!seen[$0]++ { if ($0 == h) print; else o = o $0 "\n" }
			END { printf "%s", o }'
}

# The host builds the bookworm kernels (its own suite); the others build in a chroot.
host_suite() { echo bookworm; }
suite_is_host() { [ "$1" = "$(host_suite)" ]; }

chroot_dir() { echo "$TRACER_CACHE/chroot/$1"; }

suite_sources() {
	case $1 in
	bullseye | bookworm)
		printf '%s\n' "deb $DEBIAN_MIRROR $1 main" \
			"deb $DEBIAN_MIRROR $1-updates main" \
			"deb $DEBIAN_SECURITY $1-security main" ;;
	*) printf '%s\n' "deb $DEBIAN_MIRROR $1 main" ;;
	esac
}

selected_kernels() {
	local k a arches=${TRACER_ARCH:-all}
	[ "$arches" = all ] && arches="amd64 arm64"
	for a in $arches; do arch_gnu "$a" >/dev/null; done
	if [ -n "${TRACER_KERNELS:-}" ]; then
		for k in $TRACER_KERNELS; do
			kernel_suite "$k" >/dev/null
			printf '%s\n' "$k"
		done
		return
	fi
	for k in $TRACER_ALL_KERNELS; do
		case " $arches " in *" $(kernel_arch "$k") "*) printf '%s\n' "$k" ;; esac
	done
}

# --- running things in a suite's environment --------------------------------

# in_env SUITE CMD... : run CMD on the host (bookworm) or inside the suite's chroot,
# with /proc (objtool needs it), /dev/pts and /sys mounted in a private mount namespace.
in_env() {
	local suite=$1
	shift
	if suite_is_host "$suite"; then
		"$@"
	else
		local root
		root=$(chroot_dir "$suite")
		[ -x "$root/usr/bin/apt-get" ] || die "no chroot for $suite in $root"
		cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
		# shellcheck disable=SC2016 # expanded by the inner shell
		unshare -m --propagation unchanged -- /bin/bash -c '
			root=$1; shift
			# Private mounts; if / is no mount point (we run in a chroot) that fails: then the
			# mounts below may be seen outside, and are undone at the end.
			mount --make-rprivate / 2>/dev/null || true
			mount -t proc proc "$root/proc" || exit 1
			mount -t sysfs sysfs "$root/sys" 2>/dev/null
			mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts" 2>/dev/null
			chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
				HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
			rc=$?
			for m in dev/pts sys proc; do
				mountpoint -q "$root/$m" && umount -l "$root/$m"
			done
			exit $rc
		' in_env "$root" "$@"
	fi
}

# --- host packages -----------------------------------------------------------

# pkgs_missing PKG... -> the ones not installed on the host
pkgs_missing() {
	local p st
	for p in "$@"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
		[ "$st" = installed ] || printf '%s\n' "$p"
	done
}

# apt_update_once: apt-get update on the host at most once per hour (stamp in the cache).
apt_update_once() {
	local stamp=$TRACER_CACHE/state/apt-update.stamp
	if [ "${1:-}" != force ] && [ -n "$(find "$stamp" -mmin -60 2>/dev/null)" ]; then
		return 0
	fi
	msg "apt-get update (host)"
	mkdir -p "${stamp%/*}"
	# A failing third-party source must not stop us: Debian's lists are what we need.
	apt-get "${APT_OPTS[@]}" update >&2 || msg "warning: apt-get update reported errors"
	touch "$stamp"
}

# host_install PKG... : install on the host what is missing (apt-get update first if needed)
host_install() {
	local missing
	missing=$(pkgs_missing "$@")
	[ -n "$missing" ] || return 0
	apt_update_once
	# shellcheck disable=SC2086
	if ! apt-get "${APT_OPTS[@]}" install -y --no-install-recommends $missing >&2; then
		apt_update_once force
		# shellcheck disable=SC2086
		apt-get "${APT_OPTS[@]}" install -y --no-install-recommends $missing >&2
	fi
}

# promtool: prints the path of Prometheus' promtool, taken out of Debian's
# prometheus package (downloaded once into the cache; the server is never
# installed or started).
promtool() {
	local dir=$TRACER_CACHE/promtool deb
	if [ ! -x "$dir/usr/bin/promtool" ]; then
		mkdir -p "$dir"
		apt_update_once
		(cd "$dir" && rm -f prometheus_*.deb &&
			{ apt-get "${APT_OPTS[@]}" download prometheus >&2 ||
				{ apt_update_once force && apt-get "${APT_OPTS[@]}" download prometheus >&2; }; }) ||
			return 1
		deb=$(ls "$dir"/prometheus_*.deb) && dpkg-deb -x "$deb" "$dir/x" &&
			mkdir -p "$dir/usr/bin" && mv "$dir/x/usr/bin/promtool" "$dir/usr/bin/" &&
			rm -rf "$dir/x" "$deb" || return 1
	fi
	echo "$dir/usr/bin/promtool"
}

# --- misc --------------------------------------------------------------------

now() { date +%s; }

# fmt_secs N -> "1m23s"
fmt_secs() {
	local s=$1
	if [ "$s" -ge 60 ]; then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

# copy_tree DEST: copy the checkout's sources (tracked + untracked-not-ignored files) to DEST
copy_tree() {
	local dest=$1
	rm -rf "$dest"
	mkdir -p "$dest"
	if git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$TOP" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do
				[ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
			done | tar --null -T - -cf -) | tar -xf - -C "$dest"
	else
		(cd "$TOP" && tar --exclude=./build --exclude=./out --exclude='*.o' --exclude='*.ko' \
			--exclude='.*.cmd' --exclude='*.mod' --exclude='*.mod.c' -cf - .) |
			tar -xf - -C "$dest"
	fi
}

# --- steps of a test run (check.sh, check-debug.sh) ---------------------------

T_ALL=$(now)
TIMINGS=()
# timed NAME START: how long step NAME took, for finish_run
timed() { TIMINGS+=("$(printf '%-28s %s' "$1" "$(fmt_secs $(($(now) - $2)))")"); }

# finish_run [DIR]: the time of every step, where the logs are, the plan and totals; exit 0 only
# if nothing failed
finish_run() {
	echo
	if [ "${#TIMINGS[@]}" -gt 0 ]; then
		echo "# time per step:"
		printf '#   %s\n' "${TIMINGS[@]}"
		printf '#   %-28s %s\n' total "$(fmt_secs $(($(now) - T_ALL)))"
	fi
	[ -z "${1:-}" ] || echo "# logs, consoles and modules: $1"
	tap_done
	exit
}

# deps_step DIR: the host's dependencies (scripts/deps.sh, log in DIR/deps.log) as a test
deps_step() {
	local t
	t=$(now)
	tap_logged "host dependencies installed" "$1/deps.log" "$TOP/scripts/deps.sh" || return 1
	timed deps "$t"
}

# last_boot CONSOLE: the console of the last boot vm.sh made (what follows its last "=== vm.sh:
# ... boot N/M:" line), carriage returns removed
last_boot() {
	tr -d '\r' <"$1" | awk '/^=== vm.sh: .* boot [0-9]+\/[0-9]+:/ { n = 0; delete l; next }
		{ l[n++] = $0 } END { for (i = 0; i < n; i++) print l[i] }'
}

# boot_count CONSOLE: how many boots vm.sh made in CONSOLE
boot_count() {
	grep -c '^=== vm.sh: .* boot [0-9]*/[0-9]*:' "$1" || true
}

# console_splats CONSOLE VMRC: the kernel's WARNING/BUG/Oops/... lines (numbered) of the boots to
# judge: the last one, which ran the suite (vm.sh retried the earlier ones, which never reached
# init: the kernel died patching its own code under TCG, before any module was loaded); every
# boot when none reached init (VMRC, vm.sh's exit status, 2)
console_splats() {
	if [ "$2" = 2 ]; then
		tr -d '\r' <"$1"
	else
		last_boot "$1"
	fi | grep -nE '^\[ *[0-9]+\.[0-9]+\] .*(WARNING: CPU:|BUG:|Oops|general protection fault|Kernel panic|Call Trace:|UBSAN:|KASAN:)' ||
		true
}
