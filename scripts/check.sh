#!/bin/bash
# check.sh: build and test tracer.ko on every kernel of the matrix (QEMU), plus static checks.
#
#   scripts/check.sh            everything (what `make check` runs)
#   scripts/check.sh --static   builds (W=1) on every kernel, sparse, checkpatch; no VM
#   scripts/check.sh --no-static  skip sparse and checkpatch
#   scripts/check.sh --shell ID     build for kernel ID and give a shell in its VM
#
# Environment: TRACER_KERNELS="6.1 7.x" selects kernels (default all: 5.10 6.1 6.1-rt 6.12
# 6.12-rt 7.x 6.1-arm64 6.12-arm64 7.x-arm64), TRACER_ARCH=amd64|arm64 those of one
# architecture; TRACER_CACHE (default /var/cache/tracer-dkms); TRACER_REFRESH=1 re-resolves the
# newest kernels; TRACER_OUT (default build/check) holds logs, modules and consoles;
# TRACER_SPARSE_KERNEL (default 6.1); TRACER_VERBOSE=1 prints every guest console line;
# TRACER_BUDGET (default 4800 s: CI stops at 5400 s) caps the whole run: each boot, and the
# packaging sub-suite, gets at most what is left of it; the TRACER_VM_* variables of scripts/vm.sh.
#
# Prints TAP (scripts/tap.sh): "ok N - ..." / "not ok N - ... # why" per item, with those of the
# guests and of the sub-suites numbered on as ours (named "ID: ...", "tracerctl-host: ...",
# "e2e-dkms: ..."), a summary line per kernel, the time of every step, the plan "1..N", and
# last, alone, "N passed, N failed". Exit status 0 only if nothing failed.
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

usage="usage: check.sh [--static|--no-static] | --shell ID"
do_vm=1 do_static=1 shell=
while [ $# -gt 0 ]; do
	case $1 in
	--static) do_vm=0 ;;
	--no-static) do_static=0 ;;
	--shell)
		[ $# -ge 2 ] || die "$usage"
		shell=$2
		shift
		;;
	*) die "$usage" ;;
	esac
	shift
done

if [ -n "$shell" ]; then
	# Interactive: a shell in the test VM of kernel $shell, modules at /modules, tests at /tests.
	kernel_suite "$shell" >/dev/null
	sout=$TOP/build/shell/$shell
	mkdir -p "$sout/payload"
	TRACER_KERNELS=$shell "$TOP/scripts/deps.sh"
	"$TOP/scripts/kernels.sh" fetch "$shell"
	"$TOP/scripts/build.sh" "$shell" "$sout/modules" || [ $? = 3 ]
	make -C "$TOP/tests" guest OUT="$sout/payload" CC="$(arch_cross "$(kernel_arch "$shell")")gcc" ||
		msg "(no guest payload)"
	msg "vm: shell on $shell; quit with Ctrl-A X"
	TRACER_VM_SHELL=1 exec "$TOP/scripts/vm.sh" "$shell" "$sout/modules" "$sout/payload" /dev/null
fi

out=${TRACER_OUT:-$TOP/build/check}
rm -rf "$out"
mkdir -p "$out"
budget=${TRACER_BUDGET:-4800}

tap_header
deps_step "$out" || finish_run "$out"

selected_kernels >/dev/null || exit 2
mapfile -t kernels < <(selected_kernels)
[ "${#kernels[@]}" -gt 0 ] || die "no kernel selected"

# --- guest payload ------------------------------------------------------------------
# One per architecture of the selected kernels: $out/payload (the host's), $out/payload-ARCH
# (static programs cross-built).
mapfile -t arches < <(selected_arches)
payload_dir() { # ARCH
	if [ "$1" = "$(host_arch)" ]; then echo "$out/payload"; else echo "$out/payload-$1"; fi
}
if [ "$do_vm" = 1 ]; then
	for arch in "${arches[@]}"; do
		t=$(now)
		payload=$(payload_dir "$arch")
		cc=() what="make -C tests guest" plog=$out/payload.log
		if [ "$arch" != "$(host_arch)" ]; then
			cc=(CC="$(arch_cross "$arch")gcc")
			what+=" ${cc[*]}" plog=$out/payload-$arch.log
		fi
		tap_logged "guest test payload built${cc[*]:+ for $arch} ($what)" "$plog" \
			make -C "$TOP/tests" guest OUT="$payload" "${cc[@]}"
		timed "payload${cc[*]:+ $arch}" "$t"
	done
fi

# --- per kernel ------------------------------------------------------------------------
kernel_summaries=()
for id in "${kernels[@]}"; do
	kout=$out/$id
	mkdir -p "$kout"
	kp0=$TAP_PASS kf0=$TAP_FAIL
	karch=$(kernel_arch "$id")
	echo "# --- kernel $id ($karch)"
	# fetch
	t=$(now)
	if ! "$TOP/scripts/kernels.sh" fetch "$id" >"$kout/fetch.out" 2>"$kout/fetch.log"; then
		tail -n 30 "$kout/fetch.log" | tap_indent
		tap_not_ok "$id: fetch kernel and build environment" "see $kout/fetch.log"
		timed "$id fetch" "$t"
		kernel_summaries+=("kernel $id ($karch): $((TAP_PASS - kp0)) passed, $((TAP_FAIL - kf0)) failed (no kernel)")
		continue
	fi
	timed "$id fetch" "$t"
	tap_indent <"$kout/fetch.out"
	krel=$(sed -n 's/^KREL=//p' "$TRACER_CACHE/kernels/$id/info")

	# build (W=1)
	t=$(now)
	brc=0
	BUILD_LOG=$kout/build.log "$TOP/scripts/build.sh" "$id" "$kout/modules" 2>"$kout/build.err" || brc=$?
	timed "$id build" "$t"
	case $brc in
	0) tap_ok "$id: build W=1 clean ($krel)" ;;
	3)
		tap_indent <"$kout/build.err"
		tap_not_ok "$id: build W=1 clean ($krel)" "warnings from our sources"
		;;
	*)
		tap_indent <"$kout/build.err"
		tap_not_ok "$id: build ($krel)" "see $kout/build.log"
		kernel_summaries+=("kernel $id ($karch, $krel): $((TAP_PASS - kp0)) passed, $((TAP_FAIL - kf0)) failed (build failed)")
		continue
		;;
	esac

	if [ "$do_vm" = 1 ]; then
		t=$(now)
		vrc=0
		# Stay within the total budget: a hung guest must not eat the other kernels' time.
		left=$((budget - (t - T_ALL) - 90))
		vmt=${TRACER_VM_TIMEOUT:-1200}
		[ "$left" -ge "$vmt" ] || vmt=$left
		if [ "$vmt" -lt 60 ]; then
			echo "# $id: no time left in TRACER_BUDGET=${budget}s for a boot"
			: >"$kout/console.log"
			: >"$kout/vm.err"
			vrc=124
		else
			TRACER_VM_TIMEOUT=$vmt "$TOP/scripts/vm.sh" "$id" "$kout/modules" "$(payload_dir "$karch")" \
				"$kout/console.log" 2>"$kout/vm.err" || vrc=$?
		fi
		timed "$id boot+tests" "$t"
		tap_indent <"$kout/vm.err"
		# The guest suite (tests/run.sh) of the last boot: its results are ours, named "$id: ...".
		last_boot "$kout/console.log" | sed -n '/^TRACER-GUEST: init/,/^TRACER-GUEST: done/p' \
			>"$kout/guest.tap"
		grc=$(sed -n 's/^TRACER-GUEST: done rc=\([0-9]*\)$/\1/p' "$kout/guest.tap")
		[ "${TRACER_VERBOSE:-0}" != 1 ] || sed "s/^/[$id] /" "$kout/guest.tap" | tap_indent
		why=
		[ "$vrc" = 2 ] && why="no boot reached init"
		[ "$vrc" = 124 ] && why="timeout"
		if tap_import -q -p "$id: " -r "$grc" -w "$why" "$id: guest tests" "$kout/guest.tap"; then
			tap_diag "$id: guest tests: $TAP_SUB_PASS passed, $TAP_SUB_FAIL failed (run.sh exit $grc)"
		else
			tap_diag "$id: last 40 console lines ($kout/console.log):"
			tail -n 40 "$kout/console.log" | sed "s/^/[$id] /" | tap_indent
		fi
		# Kernel splats: an oops ends the VM (oops=panic); warnings and BUGs do not.  A boot
		# that died before init was retried: noted here, not judged (console_splats).
		nboots=$(boot_count "$kout/console.log")
		[ "$vrc" = 2 ] || [ "${nboots:-0}" -le 1 ] ||
			tap_diag "$id: $((nboots - 1)) earlier boot(s) never reached init and were retried"
		splats=$(console_splats "$kout/console.log" "$vrc")
		[ -z "$splats" ] || printf '%s\n' "$splats" | head -n 10 | sed "s/^/[$id] /" | tap_indent
		tap_result "$id: no kernel warning, BUG or oops in the console" \
			"${splats:+$(printf '%s\n' "$splats" | wc -l) lines, the first ones above}"
	fi
	kernel_summaries+=("kernel $id ($karch, $krel): $((TAP_PASS - kp0)) passed, $((TAP_FAIL - kf0)) failed")
done

# --- static checks -----------------------------------------------------------------------
if [ "$do_static" = 1 ]; then
	echo "# --- static checks"
	sk=${TRACER_SPARSE_KERNEL:-6.1}
	t=$(now)
	src=0
	if "$TOP/scripts/kernels.sh" fetch "$sk" >/dev/null 2>"$out/sparse-fetch.log"; then
		BUILD_LOG=$out/sparse.log TRACER_SPARSE=1 "$TOP/scripts/build.sh" "$sk" "$out/sparse" \
			2>"$out/sparse.err" || src=$?
	else
		src=1
		cat "$out/sparse-fetch.log" >"$out/sparse.err"
	fi
	if [ "$src" = 0 ]; then
		tap_ok "sparse (C=2) clean on $sk"
	else
		tail -n 40 "$out/sparse.err" | tap_indent
		tap_not_ok "sparse (C=2) clean on $sk" "see $out/sparse.log"
	fi
	timed sparse "$t"

	t=$(now)
	tap_logged "checkpatch --strict clean" "$out/checkpatch.log" "$TOP/scripts/checkpatch.sh"
	timed checkpatch "$t"
fi

# --- tracer-utils of the other architectures -------------------------------------------------
# make deb cross-builds it (tracer-dkms is arch: all); the harness packages only, it installs
# nothing: e2e-dkms installs the host's.
for arch in "${arches[@]}"; do
	[ "$arch" != "$(host_arch)" ] || continue
	t=$(now)
	pkgout=$out/pkg-$arch
	what="tracer-utils .deb cross-built for $arch (make deb DEB_HOST_ARCH=$arch)"
	if make -C "$TOP" deb DEB_HOST_ARCH="$arch" PKG_OUT="$pkgout" >"$out/deb-$arch.log" 2>&1 &&
		deb=$(find "$pkgout/deb" -maxdepth 1 -name "tracer-utils_*_$arch.deb") && [ -n "$deb" ]; then
		got=$(dpkg-deb -f "$deb" Architecture)
		elf=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/tracerctl | od -An -tx1 -j18 -N2 | tr -d ' ')
		# e_machine: 183 (0xb7) AArch64, 62 (0x3e) x86-64
		want=$(case $arch in arm64) echo b700 ;; amd64) echo 3e00 ;; esac)
		tap_result "$what: Architecture $got, tracerctl for $arch" \
			"$([ "$got" = "$arch" ] && [ "$elf" = "$want" ] ||
				echo "Architecture '$got', tracerctl e_machine $elf (want $want)")"
	else
		tail -n 20 "$out/deb-$arch.log" | tap_indent
		tap_not_ok "$what" "see $out/deb-$arch.log"
	fi
	timed "deb $arch" "$t"
done

# --- user-space tools and packages -------------------------------------------------------
# sub_suite NAME LOG CMD...: run a test suite (TAP, log in LOG); its results are ours, named
# "NAME: ...".
sub_suite() {
	local name=$1 log=$2
	shift 2
	if tap_sub -q -p "$name: " -w "see $log" "$name" "$log" "$@" </dev/null; then
		tap_diag "$name: $TAP_SUB_PASS passed, $TAP_SUB_FAIL failed (exit $TAP_SUB_RC)"
	else
		tail -n 30 "$log" | sed "s/^/[$name] /" | tap_indent
	fi
}

echo "# --- the tests' output library, scripts/tap.sh, in bash and in busybox sh (the guests')"
t=$(now)
sub_suite tap-bash "$out/tap-bash.log" bash "$TOP/tests/tap-selftest.sh" bash
sub_suite tap-busybox "$out/tap-busybox.log" busybox sh "$TOP/tests/tap-selftest.sh" busybox sh
# The console judge (console_splats): a boot that died before init and was retried is not the
# suite's; a splat in the boot that ran the suite, or in any boot when none reached init, is.
con=$out/judge-selftest.console
printf '%s\r\n' '=== vm.sh: x (r) boot 1/3: qemu' '[    1.498540] Oops: int3: 0000 [#1] PREEMPT SMP NOPTI' \
	'[    1.501829] Kernel panic - not syncing: Fatal exception in interrupt' \
	'=== vm.sh: boot 1 ended after 240s (no init, qemu exit 0)' '=== vm.sh: x (r) boot 2/3: qemu' \
	'[    1.400000] Run /init as init process' 'TRACER-GUEST: init' >"$con"
tap_eq "console judge: a retried boot's oops before init is not the suite's" \
	"$(boot_count "$con") $(console_splats "$con" 0 | wc -l)" "2 0"
tap_eq "console judge: every boot is judged when none reached init" "$(console_splats "$con" 2 | wc -l)" 2
printf '%s\n' '[   90.000001] WARNING: CPU: 1 PID: 99 at x.c:1 f+0x1/0x2' >>"$con"
tap_eq "console judge: a warning in the suite's boot is found" "$(console_splats "$con" 1 | cut -d: -f1)" 3
timed "tap.sh self-test" "$t"

if [ "${TRACER_TOOLS_CHECK:-1}" = 1 ] && [ -x "$TOP/tests/tracerctl/host-check.sh" ]; then
	echo "# --- tracerctl on the host (build, install layout, man pages, fake /proc)"
	t=$(now)
	sub_suite tracerctl-host "$out/tracerctl-host.log" "$TOP/tests/tracerctl/host-check.sh"
	timed "tracerctl host" "$t"
fi

if [ "${TRACER_E2E:-1}" = 1 ] && [ "$do_vm" = 1 ] && [ -x "$TOP/scripts/e2e-dkms.sh" ]; then
	echo "# --- packages: .deb/.rpm, apt repository, DKMS in a Debian VM: install, new kernel, upgrade, reboots, dracut, purge, RPM scriptlets"
	t=$(now)
	# What is left of TRACER_BUDGET, less a minute for the summary.
	left=$((budget - (t - T_ALL) - 60))
	if [ "$left" -lt 300 ]; then
		tap_not_ok "e2e-dkms: time left in TRACER_BUDGET=${budget}s" "${left}s"
	else
		e2et=${TRACER_E2E_TIMEOUT:-900}
		[ "$left" -ge "$e2et" ] || e2et=$left
		sub_suite e2e-dkms "$out/e2e-dkms.log" env TRACER_E2E_TIMEOUT="$e2et" \
			timeout --kill-after=30 "$left" "$TOP/scripts/e2e-dkms.sh"
	fi
	timed "e2e-dkms" "$t"
fi

echo
printf '# %s\n' "${kernel_summaries[@]}"
finish_run "$out"
