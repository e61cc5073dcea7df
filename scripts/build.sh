#!/bin/bash
# build.sh ID OUTDIR: build tracer.ko, its debug build tracer-debug.ko (src/debug.c) and the test
# helper module (when tests/helper has sources) for kernel ID with W=1 (cross-built for a kernel
# of another architecture: ARCH=, CROSS_COMPILE=), in that kernel's build environment (host or
# suite chroot), from a fresh
# copy of the checkout (in $TRACER_CACHE/build/<checkout>/ID on the host, /build/<checkout>/ID in
# a chroot), and copy the .ko files to OUTDIR.
#
# The build log goes to $BUILD_LOG (default OUTDIR/build.log). TRACER_SPARSE=1 adds C=2 (sparse).
# Exit status: 0 built and no warning from our sources; 1 build failed; 3 built, but with
# warnings from our sources (listed on stderr).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: build.sh ID OUTDIR"
id=$1
outdir=$(mkdir -p "$2" && cd "$2" && pwd)
log=${BUILD_LOG:-$outdir/build.log}
KREL='' KDIR='' KENV='' KROOT='' KSUITE=''
eval "$("$TOP/scripts/kernels.sh" info "$id")"

# Build trees live in the cache (per checkout, per kernel), out of reach of `make clean`; two
# runs in one checkout with their own TRACER_OUT have their own trees.
key=$(printf '%s' "$TOP${TRACER_OUT:+:$TRACER_OUT}" | md5sum | cut -c1-10)
if [ "$KENV" = host ]; then
	tree=$TRACER_CACHE/build/$key/$id # as seen by make
	hosttree=$tree                    # as seen from here
else
	tree=/build/$key/$id
	hosttree=$KROOT$tree
fi
# Forget the trees of checkouts not built for a week.
find "${hosttree%/*/*}" -mindepth 1 -maxdepth 1 -type d -mtime +7 -exec rm -rf {} + 2>/dev/null || true
copy_tree "$hosttree"
touch "${hosttree%/*}"

targets=(module)
if compgen -G "$hosttree/tests/helper/*.c" >/dev/null &&
	{ [ -f "$hosttree/tests/helper/Kbuild" ] || [ -f "$hosttree/tests/helper/Makefile" ]; }; then
	targets+=(helper)
fi

rm -f "$outdir"/*.ko
mkdir -p "$(dirname "$log")"
# A kernel of another architecture: a cross build, in the kbuild convention (what DKMS and
# distribution build systems pass).
cross=()
arch=$(kernel_arch "$id")
[ "$arch" = "$(host_arch)" ] || cross=(ARCH="$(arch_kbuild "$arch")" CROSS_COMPILE="$(arch_cross "$arch")")
cmd=(make -C "$tree" -j"$TRACER_JOBS" KVER="$KREL" KDIR="$KDIR" W=1 "${cross[@]}" "${targets[@]}")
if [ "${TRACER_SPARSE:-0}" = 1 ]; then
	cmd+=(C=2) # sparse on every source file
fi
msg "build: $id ($KREL, $KENV): ${cmd[*]}"
# make_logged CMD...: run a make in the kernel's environment, its output appended to the log
make_logged() {
	local rc=0
	{
		echo "# $id $KREL $KENV${KROOT:+ $KROOT}: $*"
		in_env "$KSUITE" "$@" 2>&1 || rc=$?
	} >>"$log" 2>&1
	if [ "$rc" -ne 0 ]; then
		msg "build: $id FAILED (make exit $rc); last lines of $log:"
		tail -n 40 "$log" >&2
		exit 1
	fi
}

: >"$log"
make_logged "${cmd[@]}"
kos=("$hosttree"/src/tracer.ko)
if [ "${targets[*]}" != module ]; then
	kos+=("$hosttree"/tests/helper/*.ko)
fi
for ko in "${kos[@]}"; do
	[ -f "$ko" ] || { msg "build: $id: $ko missing after a successful make"; exit 1; }
	cp "$ko" "$outdir/"
done
# The debug build (fault injection, selftests at load) for the test suite, in the same tree
# (kbuild rebuilds what its flags changed): tracer-debug.ko, still module "tracer".
dcmd=(make -C "$tree" -j"$TRACER_JOBS" KVER="$KREL" KDIR="$KDIR" W=1 "${cross[@]}" debug)
[ "${TRACER_SPARSE:-0}" != 1 ] || dcmd+=(C=2)
make_logged "${dcmd[@]}"
cp "$hosttree/src/tracer.ko" "$outdir/tracer-debug.ko"

# Warnings (compiler, objtool, modpost) from our sources. Diagnostics located in the kernel's
# own headers (W=1 on old headers) are not ours; they stay in the log.
ours=$(grep -E '(warning|error):|^WARNING:' "$log" | awk -v tree="$tree/" '
	/^WARNING: modpost/ { print; next }
	{
		file = $0; sub(/:.*/, "", file)
		if (file ~ /^\//) { if (index(file, tree) == 1) print; next }
		if (file ~ /^(\.\/)?(include|arch|scripts|tools)\//) next
		if (file ~ /^(warning|error)$/) next
		print
	}' || true)
if [ -n "$ours" ]; then
	msg "build: $id: warnings from our sources (W=1):"
	printf '%s\n' "$ours" >&2
	exit 3
fi
msg "build: $id ok: $(cd "$outdir" && echo *.ko)"
