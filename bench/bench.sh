#!/bin/bash
# bench/bench.sh - `make bench`: what tracer.ko costs, side by side with no tracer, bare probes
# and bpftrace, each kernel in ONE QEMU boot (one vCPU, -icount shift=0: guest time counts
# instructions, so runs repeat), every configuration interleaved over several rounds, medians.
#
#   bench/bench.sh              build, boot, measure, report
#   bench/bench.sh --report     only the report, from the consoles of the last run
#
# Prints the table and the goals (MET / NOT MET) on stdout, and the paths of
#   $BENCH_OUT/results.json  medians, overheads, ratios, goals, /proc/tracer, memory
#   $BENCH_OUT/results.csv   every run (kernel, round, configuration, workload, ns/op, events)
#   $BENCH_OUT/counters.csv  missed and nested probe hits (and guest seconds) per configuration run
#   $BENCH_OUT/bench.png     overhead per configuration per workload; /proc/tracer read time
#   $BENCH_OUT/<id>/console.log  the guest's serial console
#
# Environment (all optional):
#   BENCH_KERNELS    kernel IDs (scripts/kernels.sh), default "6.1 6.1-arm64" (also try "6.12")
#   BENCH_ROUNDS     rounds of every configuration, default 5
#   BENCH_BT_ROUNDS  rounds with the bpftrace configurations (each start of bpftrace costs
#                    seconds of guest time), default 3
#   BENCH_CONFIGS    default "1 2k 2rk 2t 0k 0t 3k 3t 4k 4t 5k 5t 6k 6t" (see bench/guest/run.sh)
#   BENCH_WORKLOADS  "name:n ..." (benchw workloads), default below
#   BENCH_SLEEPERS   monitored sleeping processes of configuration 5, default 10000
#   BENCH_BPFTRACE=0 leave bpftrace out (configurations 6* are then skipped)
#   BENCH_OUT        default bench/out
#   TRACER_CACHE     cache (default /var/cache/tracer-dkms); bpftrace's files go to
#                    $TRACER_CACHE/bench/
#   TRACER_VM_TIMEOUT hard limit of a boot (default 1500 s here)
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/lib.sh
. "$BENCH_DIR/../scripts/lib.sh"

kernels=${BENCH_KERNELS:-6.1 6.1-arm64}
rounds=${BENCH_ROUNDS:-5}
bt_rounds=${BENCH_BT_ROUNDS:-3}
configs=${BENCH_CONFIGS:-1 2k 2rk 2t 0k 0t 3k 3t 4k 4t 5k 5t 6k 6t}
workloads=${BENCH_WORKLOADS:-kmalloc:100000 mutex:100000 sema:100000 file:2000 pipe:4000 futex:8000}
sleepers=${BENCH_SLEEPERS:-10000}
out=${BENCH_OUT:-$BENCH_DIR/out}
bcache=$TRACER_CACHE/bench
report_only=0
[ "${1:-}" = --report ] && report_only=1

t_start=$(now)
step() { msg "bench: $* [$(fmt_secs $(($(now) - t_start)))]"; }

# --- bpftrace for the guest: Debian's package and its libraries, cached ------------------
# $bcache/bpftrace-<version>[-ARCH]/: bpftrace, lib/ (every library it loads, and ld-linux).
bpftrace_bundle() { # ARCH
	local arch=$1 q='' ver dir tmp pkgs deb ldso
	[ "$arch" = "$(host_arch)" ] || q=:$arch
	ver=$(apt-cache policy "bpftrace$q" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		apt_update_once force
		ver=$(apt-cache policy "bpftrace$q" | sed -n 's/^ *Candidate: //p')
	fi
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
		msg "bench: no bpftrace$q package"
		return 1
	fi
	dir=$bcache/bpftrace-$ver${q:+-$arch}
	if [ -x "$dir/bpftrace" ] && [ -f "$dir/.complete" ]; then
		echo "$dir"
		return 0
	fi
	msg "bench: fetching bpftrace$q $ver and its libraries into $dir"
	mkdir -p "$bcache"
	tmp=$(mktemp -d "$bcache/tmp.XXXXXX")
	chmod 777 "$tmp"
	pkgs=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "bpftrace$q" | grep -v '^[ <]' | sort -u)
	# shellcheck disable=SC2086 # a list of package names
	(cd "$tmp" && apt-get "${APT_OPTS[@]}" download $pkgs >&2)
	mkdir -p "$tmp/root"
	for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
	rm -rf "$dir.new"
	mkdir -p "$dir.new/lib"
	cp "$tmp/root/usr/bin/bpftrace" "$dir.new/bpftrace"
	ldso=$(find "$tmp/root" -name 'ld-linux*.so.*' | head -n1)
	[ -n "$ldso" ] || { msg "bench: no dynamic loader in the bpftrace packages"; rm -rf "$tmp"; return 1; }
	cp -L "$ldso" "$dir.new/lib/"
	bundle_libs "$tmp/root" "$dir.new/bpftrace" "$dir.new/lib" || { rm -rf "$tmp"; return 1; }
	# The bundle of the host's architecture must run here (another's runs in its guest).
	if [ -z "$q" ] && ! "$dir.new/lib/${ldso##*/}" --library-path "$dir.new/lib" "$dir.new/bpftrace" --version >&2; then
		msg "bench: the bpftrace bundle does not run"
		rm -rf "$tmp"
		return 1
	fi
	rm -rf "$tmp" "$dir"
	touch "$dir.new/.complete"
	mv "$dir.new" "$dir"
	echo "$dir"
}

# bundle_libs ROOT ELF LIBDIR: every library ELF needs (its NEEDED entries, and theirs), found
# by soname in the unpacked packages under ROOT, copied to LIBDIR; readelf, so that it works for
# another architecture's ELF as well
bundle_libs() {
	local root=$1 lib=$3 name path
	local -a todo=("$2")
	while [ "${#todo[@]}" -gt 0 ]; do
		for name in $(readelf -d "${todo[0]}" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
			[ -e "$lib/$name" ] && continue
			path=$(find "$root/lib" "$root/usr/lib" -name "$name" \( -type f -o -type l \) 2>/dev/null | head -n1)
			[ -n "$path" ] || { msg "bench: $name (needed by ${todo[0]##*/}) not in the bpftrace packages"; return 1; }
			cp -L "$path" "$lib/$name"
			todo+=("$lib/$name")
		done
		todo=("${todo[@]:1}")
	done
}

# --- modules: tracer.ko, the test helper and bench/bare, W=1, in the kernel's environment --
# Own tree copy (not build.sh's build/<id>/tree, which check.sh may be rebuilding meanwhile).
build_modules() { # ID OUTDIR
	local id=$1 outdir=$2 tree hosttree KREL='' KDIR='' KENV='' KROOT='' KSUITE='' ko arch
	eval "$("$TOP/scripts/kernels.sh" info "$id")"
	if [ "$KENV" = host ]; then
		tree=$TOP/build/bench/$id/tree
		hosttree=$tree
	else
		tree=/build/bench-$id
		hosttree=$KROOT$tree
	fi
	copy_tree "$hosttree"
	mkdir -p "$outdir"
	rm -f "$outdir"/*.ko
	local -a cross=()
	arch=$(kernel_arch "$id")
	[ "$arch" = "$(host_arch)" ] || cross=(ARCH="$(arch_kbuild "$arch")" CROSS_COMPILE="$(arch_cross "$arch")")
	{
		in_env "$KSUITE" make -C "$tree" -j"$TRACER_JOBS" KVER="$KREL" KDIR="$KDIR" W=1 "${cross[@]}" \
			module helper &&
			in_env "$KSUITE" make -C "$KDIR" M="$tree/bench/bare" W=1 "${cross[@]}" modules
	} >"$outdir/build.log" 2>&1 || { tail -n 30 "$outdir/build.log" >&2; die "module build for $id failed"; }
	for ko in src/tracer.ko tests/helper/tracer_test_helper.ko bench/bare/bare_probes.ko; do
		cp "$hosttree/$ko" "$outdir/"
	done
	echo "$KREL"
}

if [ "$report_only" = 0 ]; then
	[ "$(id -u)" = 0 ] || die "bench.sh must run as root (apt-get, kernels, QEMU)"
	step "host dependencies"
	TRACER_KERNELS=$kernels "$TOP/scripts/deps.sh" >&2
	host_install gnuplot-nox

	mkdir -p "$out"
	rm -rf "$out"/payload-*
	# One payload per architecture of the kernels: $out/payload-ARCH.
	make_payload() { # ARCH
		local arch=$1 payload=$out/payload-$1 btdir
		rm -rf "$payload"
		mkdir -p "$payload"
		step "guest programs ($arch)"
		"$(arch_cross "$arch")gcc" -O2 -Wall -Wextra -Werror -static -pthread -I"$TOP/src/uapi" \
			-I"$TOP/tests/helper" -o "$payload/benchw" "$BENCH_DIR/prog/benchw.c"
		install -m 755 "$BENCH_DIR/guest/run.sh" "$BENCH_DIR/guest/wl.sh" "$payload/"
		if [ "${BENCH_BPFTRACE:-1}" != 0 ]; then
			step "bpftrace bundle ($arch)"
			if btdir=$(bpftrace_bundle "$arch"); then
				cp -al "$btdir" "$payload/bt" 2>/dev/null || cp -a "$btdir" "$payload/bt"
			else
				msg "bench: no bpftrace for $arch: configurations 6k/6t are skipped"
			fi
		fi
		cat >"$payload/bench.conf" <<-EOF
			ROUNDS=$rounds
			CONFIGS="$configs"
			WORKLOADS="$workloads"
			SLEEPERS=$sleepers
			PROC_STEPS="$(for n in 10 100 1000 3000 10000; do [ "$n" -le "$sleepers" ] && printf '%s ' "$n"; done)"
			PROC_READS=5
			BT_MAP_KEYS=65536
			BT_ROUNDS=$bt_rounds
		EOF
	}

	# QEMU through a wrapper that adds -icount (scripts/vm.sh has no hook for QEMU options).
	export BENCH_QEMU_EXTRA="-icount shift=0"

	for id in $kernels; do
		arch=$(kernel_arch "$id")
		payload=$out/payload-$arch
		[ -f "$payload/bench.conf" ] || make_payload "$arch"
		step "kernel $id: fetch"
		"$TOP/scripts/kernels.sh" fetch "$id" >&2
		step "kernel $id: build modules"
		krel=$(build_modules "$id" "$out/$id/modules")
		for try in 1 2; do
			step "kernel $id ($krel): guest benchmark, boot $try (one vCPU, -icount shift=0)"
			vrc=0
			PATH=$BENCH_DIR/qemu:$PATH TRACER_VM_SMP=1 TRACER_VM_MEM=3072 \
				TRACER_VM_TIMEOUT=${TRACER_VM_TIMEOUT:-1500} TRACER_BOOT_TIMEOUT=${TRACER_BOOT_TIMEOUT:-300} \
				"$TOP/scripts/vm.sh" "$id" "$out/$id/modules" "$payload" "$out/$id/console.log" || vrc=$?
			grep -q '^BENCH-DONE' "$out/$id/console.log" && break
			msg "bench: $id: the guest did not finish (vm.sh exit $vrc); last lines:"
			tail -n 15 "$out/$id/console.log" >&2
		done
	done
	rm -rf "$out"/payload-*
fi

step "report"
consoles=()
for id in $kernels; do
	[ -f "$out/$id/console.log" ] && consoles+=("$out/$id/console.log")
done
[ "${#consoles[@]}" -gt 0 ] || die "no console log in $out"
# the last boot of each console, tagged with its kernel ID
for c in "${consoles[@]}"; do
	id=$(basename "$(dirname "$c")")
	awk -v id="$id" '/^=== vm.sh: .* boot [0-9]+\/[0-9]+:/ { n++ } { l[n] = l[n] id "\t" $0 "\n" }
		END { printf "%s", l[n] }' "$c" | tr -d '\r'
done | awk -F'\t' '$2 ~ /^BENCH/' >"$out/bench.lines"
awk -f "$BENCH_DIR/report.awk" -v out="$out" -v sleepers="$sleepers" "$out/bench.lines"
if command -v gnuplot >/dev/null; then
	gnuplot -e "out='$out'" "$BENCH_DIR/plot.gp" 2>"$out/gnuplot.log" ||
		{ msg "bench: gnuplot failed:"; cat "$out/gnuplot.log" >&2; }
fi
echo
echo "results: $out/results.json"
echo "runs:    $out/results.csv $out/counters.csv"
[ -f "$out/bench.png" ] && echo "plot:    $out/bench.png"
echo "time:    $(fmt_secs $(($(now) - t_start)))"
