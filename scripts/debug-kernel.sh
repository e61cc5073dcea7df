#!/bin/bash
# debug-kernel.sh: build and cache the debug kernel of `make check-debug` (KASAN, lockdep,
# kmemleak, KFENCE, ...) from Debian's linux-source package, configured as
# `make tinyconfig` + scripts/debug-kernel.config.
#
#   debug-kernel.sh [build]   build it unless cached; then print its KEY=VALUE info (for eval)
#   debug-kernel.sh info      print the info of the cached build (exit 1 when not built yet)
#   debug-kernel.sh config    only show the resulting .config's debug options (builds nothing)
#
# Cache: $TRACER_CACHE/debug-kernel/<source-version>-<config-hash>/ (TRACER_CACHE defaults to
# /var/cache/tracer-dkms), holding
#   bzImage     the kernel image
#   release     its release string (uname -r)
#   config      the full .config
#   linux/      the whole build tree: KDIR for `make -C linux M=...` (Module.symvers, scripts,
#               include/generated)
#   build.log   the build's output; build-seconds: how long the build took (DK_BUILD_KIND in
#               info: cold, or incremental from an earlier tree)
#   info        KEY=VALUE lines: DK_SOURCE DK_VERSION DK_RELEASE DK_IMAGE DK_KDIR DK_CONFIG ...
# The config hash covers the fragment, the source package name and this script's recipe
# version. A rerun with the cache present builds nothing. An interrupted build resumes (make is
# incremental) on the next run. A new config of a source version built before starts from a
# copy of that build tree (only what the changed options touch is rebuilt; TRACER_DEBUG_COLD=1:
# from scratch). The resolved source version is remembered in
# $TRACER_CACHE/debug-kernel/<package>.version: TRACER_REFRESH=1 resolves the newest again.
#
# A new build removes the older complete ones (TRACER_DEBUG_KEEP=1 keeps them).
#
# Environment: TRACER_DEBUG_SOURCE (default linux-source-6.1), TRACER_DEBUG_JOBS (make -j,
# default 2), TRACER_CACHE, TRACER_REFRESH, TRACER_DEBUG_COLD, TRACER_DEBUG_KEEP.
# Build output goes to build.log; progress to stderr.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

RECIPE=1 # bump when the way of building changes (forces a rebuild)
SRC_PKG=${TRACER_DEBUG_SOURCE:-linux-source-6.1}
JOBS=${TRACER_DEBUG_JOBS:-2}
FRAGMENT=$TOP/scripts/debug-kernel.config
BASE=$TRACER_CACHE/debug-kernel
BUILD_PKGS=(make gcc libc6-dev bc bison flex libelf-dev libssl-dev cpio xz-utils kmod)

[[ $SRC_PKG =~ ^linux-source-[0-9]+\.[0-9]+$ ]] || die "TRACER_DEBUG_SOURCE: '$SRC_PKG' is not linux-source-X.Y"

config_hash() {
	{
		echo "recipe $RECIPE $SRC_PKG"
		cat "$FRAGMENT"
	} | sha256sum | cut -c1-12
}

# source_version -> the version of $SRC_PKG to build (remembered; re-resolved with TRACER_REFRESH=1)
source_version() {
	local state=$BASE/$SRC_PKG.version v
	if [ "${TRACER_REFRESH:-0}" != 1 ] && [ -s "$state" ]; then
		cat "$state"
		return 0
	fi
	[ "${TRACER_REFRESH:-0}" != 1 ] || apt_update_once force
	v=$(apt-cache show --no-all-versions "$SRC_PKG" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	if [ -z "$v" ]; then
		apt_update_once force
		v=$(apt-cache show --no-all-versions "$SRC_PKG" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	fi
	[ -n "$v" ] || die "no $SRC_PKG in the package lists (bookworm)"
	mkdir -p "$BASE"
	printf '%s\n' "$v" >"$state"
	echo "$v"
}

build_dir() { echo "$BASE/$(source_version)-$(config_hash)"; }

show_info() {
	local dir=$1
	[ -f "$dir/.complete" ] && [ -f "$dir/info" ] || return 1
	cat "$dir/info"
}

# seed DIR VERSION: start DIR/linux as a copy of the newest complete build tree of VERSION with
# another config, if there is one; prints the hash of the tree copied
seed() {
	local dir=$1 ver=$2 from
	[ "${TRACER_DEBUG_COLD:-0}" != 1 ] || return 0
	from=$(find "$BASE" -mindepth 2 -maxdepth 2 -name .complete -path "$BASE/$ver-*" \
		-printf '%T@ %h\n' 2>/dev/null | sort -rn | head -n1 | cut -d' ' -f2-)
	if [ -z "$from" ] || [ "$from" = "$dir" ] || [ ! -f "$from/linux/Makefile" ]; then return 0; fi
	msg "debug-kernel: starting from a copy of $from/linux (incremental build)"
	rm -rf "$dir/linux" "$dir/linux.tmp"
	cp -a "$from/linux" "$dir/linux.tmp"
	rm -f "$dir/linux.tmp/.config.tracer-ok"
	mv "$dir/linux.tmp" "$dir/linux"
	touch "$dir/.unpacked"
	echo "${from##*-}"
}

# fetch_source DIR VERSION: DIR/linux = the unpacked kernel source of $SRC_PKG VERSION
fetch_source() {
	local dir=$1 ver=$2 dl deb
	[ -f "$dir/.unpacked" ] && [ -f "$dir/linux/Makefile" ] && return 0
	rm -rf "$dir/linux" "$dir/dl"
	dl=$dir/dl
	mkdir -p "$dl"
	chmod 777 "$dl" # apt's _apt user downloads into it
	msg "debug-kernel: downloading $SRC_PKG=$ver"
	if ! (cd "$dl" && apt-get "${APT_OPTS[@]}" download "$SRC_PKG=$ver" >&2); then
		apt_update_once force
		(cd "$dl" && apt-get "${APT_OPTS[@]}" download "$SRC_PKG=$ver" >&2)
	fi
	deb=$(find "$dl" -name "${SRC_PKG}_*.deb" | head -n1)
	[ -n "$deb" ] || die "no $SRC_PKG .deb downloaded"
	msg "debug-kernel: unpacking $(basename "$deb")"
	mkdir -p "$dl/x"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$SRC_PKG.tar.xz" | nice -n 19 tar -xJ -C "$dl/x"
	[ -f "$dl/x/$SRC_PKG/Makefile" ] || die "$deb: no $SRC_PKG/Makefile in /usr/src/$SRC_PKG.tar.xz"
	mv "$dl/x/$SRC_PKG" "$dir/linux"
	rm -rf "$dl"
	touch "$dir/.unpacked"
}

# configure KSRC: tinyconfig + fragment + olddefconfig; fail if an option of the fragment did
# not end up as asked (a typo, or a dependency the fragment misses)
configure() {
	local k=$1 line key val bad=0
	[ -f "$k/.config" ] && [ -f "$k/.config.tracer-ok" ] && return 0
	msg "debug-kernel: configuring (tinyconfig + $(basename "$FRAGMENT"))"
	{
		make -C "$k" -s ARCH=x86_64 tinyconfig &&
			(cd "$k" && ARCH=x86_64 ./scripts/kconfig/merge_config.sh -m .config "$FRAGMENT") &&
			make -C "$k" -s ARCH=x86_64 olddefconfig
	} >"$k/.config.log" 2>&1 || { cat "$k/.config.log" >&2; die "configuration failed"; }
	while IFS= read -r line; do
		line=${line%%#*}
		line=${line%"${line##*[![:space:]]}"}
		[ -n "$line" ] || continue
		key=${line%%=*} val=${line#*=}
		if [ "$val" = n ]; then
			if grep -q "^$key=" "$k/.config"; then
				msg "debug-kernel: $key: asked n, got $(grep "^$key=" "$k/.config")"
				bad=1
			fi
		elif ! grep -qxF "$line" "$k/.config"; then
			msg "debug-kernel: $key: asked $val, got: $(grep -E "^$key=|^# $key is not set" "$k/.config" || echo 'not present')"
			bad=1
		fi
	done <"$FRAGMENT"
	[ "$bad" = 0 ] || die "the .config differs from $FRAGMENT (see above)"
	touch "$k/.config.tracer-ok"
}

# prune DIR: remove the other builds (other configs or source versions; about 2 GB each: all can
# be built again) unless TRACER_DEBUG_KEEP=1
prune() {
	local keep=$1 d
	[ "${TRACER_DEBUG_KEEP:-0}" != 1 ] || return 0
	for d in "$BASE"/*-*/; do
		d=${d%/}
		if [ "$d" = "$keep" ] || [ ! -f "$d/.complete" ]; then continue; fi
		msg "debug-kernel: removing the older build $d (TRACER_DEBUG_KEEP=1 keeps them)"
		rm -rf "$d"
	done
}

build() {
	local ver hash dir k start secs rel kind=cold seeded=''
	[ "$(id -u)" = 0 ] || die "debug-kernel.sh build must run as root (apt-get)"
	host_install "${BUILD_PKGS[@]}"
	ver=$(source_version)
	hash=$(config_hash)
	dir=$BASE/$ver-$hash
	if show_info "$dir" >/dev/null; then
		msg "debug-kernel: cached: $dir"
		show_info "$dir"
		return 0
	fi
	mkdir -p "$dir"
	# One build at a time per cache directory.
	exec 9>"$dir/.lock"
	flock 9
	if show_info "$dir" >/dev/null; then
		show_info "$dir"
		return 0
	fi
	start=$(now)
	if [ ! -f "$dir/.unpacked" ]; then
		seeded=$(seed "$dir" "$ver")
	elif [ -f "$dir/.seeded" ]; then
		seeded=$(cat "$dir/.seeded")
	fi
	if [ -n "$seeded" ]; then
		kind="incremental from $seeded"
		printf '%s\n' "$seeded" >"$dir/.seeded"
	fi
	fetch_source "$dir" "$ver"
	k=$dir/linux
	configure "$k"
	msg "debug-kernel: building $SRC_PKG $ver ($hash) in $k: nice -n 19 make -j$JOBS (log: $dir/build.log)"
	if ! nice -n 19 make -C "$k" ARCH=x86_64 -j"$JOBS" all >>"$dir/build.log" 2>&1; then
		tail -n 40 "$dir/build.log" >&2
		die "kernel build failed (see $dir/build.log)"
	fi
	rel=$(make -C "$k" -s ARCH=x86_64 kernelrelease)
	[ -f "$k/Module.symvers" ] || die "no Module.symvers after the build"
	cp "$k/arch/x86/boot/bzImage" "$dir/bzImage"
	cp "$k/.config" "$dir/config"
	printf '%s\n' "$rel" >"$dir/release"
	secs=$(($(now) - start))
	# an interrupted build resumed: the first attempt's time is unknown, keep the first record
	[ -f "$dir/build-seconds" ] || printf '%s\n' "$secs" >"$dir/build-seconds"
	{
		echo "DK_SOURCE=$SRC_PKG"
		echo "DK_VERSION=$ver"
		echo "DK_HASH=$hash"
		echo "DK_RELEASE=$rel"
		echo "DK_IMAGE=$dir/bzImage"
		echo "DK_KDIR=$k"
		echo "DK_CONFIG=$dir/config"
		echo "DK_DIR=$dir"
		echo "DK_BUILD_SECONDS=$(cat "$dir/build-seconds")"
		echo "DK_BUILD_KIND='$kind'"
	} >"$dir/info"
	touch "$dir/.complete"
	prune "$dir"
	msg "debug-kernel: built $rel in $(fmt_secs "$secs") ($kind)"
	cat "$dir/info"
}

# The debug options of the fragment, as the .config of the cached build (or a scratch
# configuration) has them.
show_config() {
	local dir
	dir=$(build_dir)
	if [ -f "$dir/config" ]; then
		grep -E '^CONFIG_(KASAN|KFENCE|DEBUG_|PROVE_|LOCKDEP|SLUB_DEBUG|UBSAN|PREEMPT|KPROBE|FTRACE|DYNAMIC_FTRACE|KALLSYMS)' \
			"$dir/config"
	else
		die "not built yet: $dir"
	fi
}

case ${1:-build} in
build) build ;;
info) show_info "$(build_dir)" || { msg "debug kernel not built yet ($(build_dir))"; exit 1; } ;;
config) show_config ;;
*) die "usage: debug-kernel.sh [build|info|config]" ;;
esac
