#!/bin/bash
# check.sh: build and test tracer.ko on every kernel of the matrix (QEMU), plus static checks.
#
#   scripts/check.sh            everything (what `make check` runs)
#   scripts/check.sh --static   builds (W=1) on every kernel, sparse, checkpatch; no VM
#   scripts/check.sh --no-static  skip sparse and checkpatch
#   scripts/check.sh --shell ID     build for kernel ID and give a shell in its VM
#
# Environment: TRACER_KERNELS="6.1 7.x" selects kernels (default all: 5.10 6.1 6.1-rt 6.12
# 6.12-rt 7.x); TRACER_CACHE (default /var/cache/tracer-dkms); TRACER_REFRESH=1 re-resolves the
# newest kernels; TRACER_OUT (default build/check) holds logs, modules and consoles;
# TRACER_SPARSE_KERNEL (default 6.1); TRACER_VERBOSE=1 prints every guest console line;
# TRACER_BUDGET (default 4800 s: CI stops at 5400 s) caps the whole run: each boot, and the
# packaging sub-suite, gets at most what is left of it; the TRACER_VM_* variables of scripts/vm.sh.
#
# Prints "ok - ..."/"not ok - ..." per item, a summary line per kernel, the time of every step,
# and last, alone, "N passed, N failed". Exit status 0 only if nothing failed.
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
	"$TOP/scripts/deps.sh"
	"$TOP/scripts/kernels.sh" fetch "$shell"
	"$TOP/scripts/build.sh" "$shell" "$sout/modules" || [ $? = 3 ]
	if [ -f "$TOP/tests/Makefile" ]; then
		make -C "$TOP/tests" guest OUT="$sout/payload" || msg "(no guest payload)"
	fi
	msg "vm: shell on $shell; quit with Ctrl-A X"
	TRACER_VM_SHELL=1 exec "$TOP/scripts/vm.sh" "$shell" "$sout/modules" "$sout/payload" /dev/null
fi

out=${TRACER_OUT:-$TOP/build/check}
rm -rf "$out"
mkdir -p "$out"
passed=0 failed=0
budget=${TRACER_BUDGET:-4800}
timings=()
t_all=$(now)

ok() { passed=$((passed + 1)); echo "ok - $*"; }
notok() { failed=$((failed + 1)); echo "not ok - $*"; }
timed() { # NAME START
	timings+=("$(printf '%-28s %s' "$1" "$(fmt_secs $(($(now) - $2)))")")
}
finish() {
	echo
	echo "# time per step:"
	printf '#   %s\n' "${timings[@]}"
	printf '#   %-28s %s\n' total "$(fmt_secs $(($(now) - t_all)))"
	echo "# logs, consoles and modules: $out"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

# --- host dependencies ------------------------------------------------------------
t=$(now)
if "$TOP/scripts/deps.sh" >"$out/deps.log" 2>&1; then
	ok "host dependencies installed"
else
	tail -n 30 "$out/deps.log"
	notok "host dependencies installed (see $out/deps.log)"
	finish
fi
timed deps "$t"

selected_kernels >/dev/null || exit 2
mapfile -t kernels < <(selected_kernels)
[ "${#kernels[@]}" -gt 0 ] || die "no kernel selected"

# --- guest payload ------------------------------------------------------------------
payload=$out/payload
smoke_payload() { # the fallback payload while tests/Makefile does not exist
	mkdir -p "$payload"
	cat >"$payload/run.sh" <<'EOF'
#!/bin/sh
# Smoke test (tests/Makefile has no guest payload yet): load, read, unload tracer.ko.
p=0 f=0
t() { if "$@" >/tmp/out 2>&1; then p=$((p + 1)); echo "ok - $*"; else f=$((f + 1)); echo "not ok - $*"; cat /tmp/out; fi; }
cpus_off() { for c in /sys/devices/system/cpu/cpu[1-9]*/online; do [ -e "$c" ] && echo "$1" >"$c"; done; }
cpus_off 0
t insmod /modules/tracer.ko
cpus_off 1
t test -c /dev/tracer
t grep -q '^PID *kmalloc *kfree *kmalloc_mem *kfree_mem *sched *up *down *lock *unlock$' /proc/tracer
cpus_off 0
t rmmod tracer
cpus_off 1
t test ! -e /proc/tracer
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
EOF
}
if [ "$do_vm" = 1 ]; then
	t=$(now)
	if [ -f "$TOP/tests/Makefile" ]; then
		if make -C "$TOP/tests" guest OUT="$payload" >"$out/payload.log" 2>&1 &&
			[ -f "$payload/run.sh" ]; then
			ok "guest test payload built (make -C tests guest)"
		else
			tail -n 30 "$out/payload.log"
			notok "guest test payload built (make -C tests guest; see $out/payload.log)"
			rm -rf "$payload"
			smoke_payload
		fi
	else
		echo "# tests/Makefile missing: the guests run a smoke test only"
		smoke_payload
	fi
	timed payload "$t"
fi

# --- per kernel ------------------------------------------------------------------------
kernel_summaries=()
# guest_result CONSOLE -> "P F RC" of the last boot in CONSOLE ("- - -" when absent)
guest_result() {
	awk '
		/^=== vm.sh: .* boot [0-9]+\/[0-9]+:/ { p = "-"; f = "-"; rc = "-"; next }
		/^TRACER-GUEST: done rc=[0-9]+$/ { rc = $3; sub(/rc=/, "", rc); next }
		/^([A-Za-z_-]+: )?[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$/ {
			s = $0; sub(/^[A-Za-z_-]+: /, "", s); split(s, a, /[ ,]+/); p = a[1]; f = a[3]
		}
		END { printf "%s %s %s\n", (p == "" ? "-" : p), (f == "" ? "-" : f), (rc == "" ? "-" : rc) }
	' "$1"
}

for id in "${kernels[@]}"; do
	kout=$out/$id
	mkdir -p "$kout"
	kp0=$passed kf0=$failed
	echo "# --- kernel $id"
	# fetch
	t=$(now)
	if ! "$TOP/scripts/kernels.sh" fetch "$id" >"$kout/fetch.out" 2>"$kout/fetch.log"; then
		tail -n 30 "$kout/fetch.log"
		notok "$id: fetch kernel and build environment (see $kout/fetch.log)"
		timed "$id fetch" "$t"
		kernel_summaries+=("kernel $id: $((passed - kp0)) passed, $((failed - kf0)) failed (no kernel)")
		continue
	fi
	timed "$id fetch" "$t"
	cat "$kout/fetch.out"
	krel=$(sed -n 's/^KREL=//p' "$TRACER_CACHE/kernels/$id/info")

	# build (W=1)
	t=$(now)
	brc=0
	BUILD_LOG=$kout/build.log "$TOP/scripts/build.sh" "$id" "$kout/modules" 2>"$kout/build.err" || brc=$?
	timed "$id build" "$t"
	case $brc in
	0) ok "$id: build W=1 clean ($krel)" ;;
	3)
		sed 's/^/#   /' "$kout/build.err"
		notok "$id: build W=1 clean ($krel): warnings from our sources"
		;;
	*)
		sed 's/^/#   /' "$kout/build.err"
		notok "$id: build ($krel; see $kout/build.log)"
		kernel_summaries+=("kernel $id ($krel): $((passed - kp0)) passed, $((failed - kf0)) failed (build failed)")
		continue
		;;
	esac

	if [ "$do_vm" = 1 ]; then
		t=$(now)
		vrc=0
		# Stay within the total budget: a hung guest must not eat the other kernels' time.
		left=$((budget - (t - t_all) - 90))
		vmt=${TRACER_VM_TIMEOUT:-1200}
		[ "$left" -ge "$vmt" ] || vmt=$left
		if [ "$vmt" -lt 60 ]; then
			echo "# $id: no time left in TRACER_BUDGET=${budget}s for a boot"
			: >"$kout/console.log"
			: >"$kout/vm.err"
			vrc=124
		else
			TRACER_VM_TIMEOUT=$vmt "$TOP/scripts/vm.sh" "$id" "$kout/modules" "$payload" \
				"$kout/console.log" 2>"$kout/vm.err" || vrc=$?
		fi
		timed "$id boot+tests" "$t"
		cat "$kout/vm.err"
		read -r gp gf grc < <(guest_result "$kout/console.log")
		if [ "${TRACER_VERBOSE:-0}" = 1 ]; then
			sed -n '/^TRACER-GUEST: init/,/^TRACER-GUEST: done/p' "$kout/console.log" | sed "s/^/#   [$id] /"
		else
			# the guest's failures, if it reports them as "not ok" or "FAIL" lines
			sed -n '/^TRACER-GUEST: init/,/^TRACER-GUEST: done/p' "$kout/console.log" |
				grep -E '^(not ok|FAIL)' | sed "s/^/#   [$id] /" || true
		fi
		if [ "$gp" != - ] && [ "$grc" != - ]; then
			passed=$((passed + gp))
			failed=$((failed + gf))
			echo "# $id: guest tests: $gp passed, $gf failed (run.sh exit $grc)"
			if [ "$grc" != 0 ] && [ "$gf" = 0 ]; then
				notok "$id: guest run.sh exit status $grc with no failed test"
			fi
		else
			why="the guest printed no test summary"
			[ "$vrc" = 2 ] && why="no boot reached init"
			[ "$vrc" = 124 ] && why="timeout"
			[ "$gp" != - ] && [ "$grc" = - ] && why="the guest died before run.sh ended"
			echo "# $id: last 40 console lines ($kout/console.log):"
			tail -n 40 "$kout/console.log" | sed "s/^/#   [$id] /"
			notok "$id: guest tests ($why)"
		fi
		# Kernel splats: an oops ends the VM (oops=panic); warnings and BUGs do not.
		splats=$(grep -nE '^\[ *[0-9]+\.[0-9]+\] .*(WARNING: CPU:|BUG:|Oops|general protection fault|Kernel panic|Call Trace:|UBSAN:|KASAN:)' \
			"$kout/console.log" || true)
		if [ -z "$splats" ]; then
			ok "$id: no kernel warning, BUG or oops in the console"
		else
			printf '%s\n' "$splats" | head -n 10 | sed "s/^/#   [$id] /"
			notok "$id: no kernel warning, BUG or oops in the console"
		fi
	fi
	kernel_summaries+=("kernel $id ($krel): $((passed - kp0)) passed, $((failed - kf0)) failed")
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
		ok "sparse (C=2) clean on $sk"
	else
		sed 's/^/#   /' "$out/sparse.err" | tail -n 40
		notok "sparse (C=2) clean on $sk (see $out/sparse.log)"
	fi
	timed sparse "$t"

	t=$(now)
	if "$TOP/scripts/checkpatch.sh" >"$out/checkpatch.log" 2>&1; then
		ok "checkpatch --strict clean"
	else
		sed 's/^/#   /' "$out/checkpatch.log" | tail -n 60
		notok "checkpatch --strict clean (see $out/checkpatch.log)"
	fi
	timed checkpatch "$t"
fi

# --- user-space tools and packages -------------------------------------------------------
# sub_suite NAME LOG CMD...: run a test script that prints ok/not ok lines and ends with
# "N passed, N failed"; show its lines, add its counts to ours.
sub_suite() {
	local name=$1 log=$2 sp sf rc=0
	shift 2
	"$@" >"$log" 2>&1 </dev/null || rc=$?
	grep -E '^(not )?ok ' "$log" | sed "s/^/#   [$name] /" || true
	read -r sp sf < <(sed -n -E 's/^([A-Za-z_-]+: )?([0-9]+) passed, ([0-9]+) failed.*$/\2 \3/p' \
		"$log" | tail -n 1)
	if [ -n "${sp:-}" ]; then
		passed=$((passed + sp))
		failed=$((failed + sf))
		echo "# $name: $sp passed, $sf failed (exit $rc)"
		if [ "$rc" != 0 ] && [ "$sf" = 0 ]; then
			notok "$name: exit status $rc with no failed test (see $log)"
		fi
	else
		tail -n 30 "$log" | sed "s/^/#   [$name] /"
		notok "$name: no test summary (exit $rc; see $log)"
	fi
}

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
	left=$((budget - (t - t_all) - 60))
	if [ "$left" -lt 300 ]; then
		notok "e2e-dkms: no time left in TRACER_BUDGET=${budget}s (${left}s)"
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
finish
