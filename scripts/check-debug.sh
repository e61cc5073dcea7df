#!/bin/bash
# check-debug.sh: the test suite on a debug kernel (what `make check-debug` runs).
#
#   scripts/check-debug.sh               build (or take from the cache) the debug kernel
#                                        (scripts/debug-kernel.sh: KASAN, lockdep, PROVE_RCU,
#                                        kmemleak, KFENCE, DEBUG_LIST, ...), build tracer.ko and
#                                        the test helper against it (W=1), boot it in QEMU with the
#                                        guest payload of tests/, run the whole suite (kernel memory
#                                        accounting off: see boot_suite below), then the test of
#                                        memcg-charged exit reports in a second boot with it on,
#                                        and judge each console: the suite's results and every
#                                        kernel report
#   scripts/check-debug.sh --parse LOG   judge an existing console log only (no build, no VM)
#   TRACER_DEBUG_SELFTEST=1 scripts/check-debug.sh
#                                        instead of the suite, load a module that makes one report
#                                        of each kind on purpose (KASAN out-of-bounds and
#                                        use-after-free, PROVE_RCU, lockdep, atomic sleep, list,
#                                        UBSAN, WARN, a kmemleak leak): passes only if every one
#                                        of them is caught (the module:
#                                        tests/debug-selftest/)
#
# Fails on: the suite's failures; any KASAN, KFENCE, lockdep, RCU, atomic-sleep, list, debug
# objects or UBSAN report; any other WARNING/BUG/Oops/panic; a kmemleak report whose backtrace
# is in tracer.ko or tracer_test_helper.ko (by symbol, or by an address in the module area: no
# other module is ever loaded in this guest); a detector that is not active. Kernel reports are
# printed in full. Leak reports of the kernel itself are listed, not counted
# (TRACER_DEBUG_STRICT_LEAKS=1 counts them too).
#
# Environment: TRACER_OUT (default build/check-debug), TRACER_VM_MEM (default 2048),
# TRACER_VM_TIMEOUT (default 3600), TRACER_BOOT_TIMEOUT (default 600), TRACER_VM_APPEND (added
# to the debug options of the command line), the other TRACER_VM_* of scripts/vm.sh,
# TRACER_STRESS_SECS (default 30 here: the debug kernel is slow and the stress test wants a
# minimum of work done) and TRACER_TESTS (passed to the guest suite), TRACER_CACHE,
# TRACER_REFRESH.
#
# Prints TAP (scripts/tap.sh): "ok N - ..."/"not ok N - ... # why" lines, the guest suite's
# numbered on as ours, the plan, and last, alone, "N passed, N failed". Exit status 0 only if
# nothing failed.
#
# Measured here (2 shared cores, TCG): cold kernel build 26 min; boot to init 20-45 s; the suite
# about 12-14 min (30 s stress); kmemleak scans 1-2 min; the whole target 17 min with the kernel
# cached. The self-test: 4-5 min.
set -uo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

# vm.sh knows kernels by matrix ID (scripts/kernels.sh info ID, under $TRACER_CACHE): it gets a
# cache of its own whose 6.1 entry is the debug kernel (it is a 6.1 kernel).
VM_ID=6.1

# --- judging the console ----------------------------------------------------------------

# The kinds of kernel reports, in order: a report counts in the first kind whose pattern its
# first line matches. Only kernel lines ("[   12.345678] ...") are looked at.
REPORT_KINDS=(kasan kfence rcu lockdep atomic list debugobjects ubsan other)
declare -A REPORT_RE=(
	[kasan]='BUG: KASAN:'
	[kfence]='BUG: KFENCE:'
	[rcu]='WARNING: suspicious RCU usage'
	[lockdep]='WARNING: (possible (circular|recursive) locking|possible irq lock inversion|inconsistent lock state|.*-safe -> .*-unsafe lock order|bad unlock balance|held lock freed|lock held when returning|Nested lock was not taken|bad contention detected)|DEBUG_LOCKS_WARN_ON|BUG: (MAX_LOCK|looking up invalid subclass|key .* has not been registered)|INFO: trying to register non-static key'
	[atomic]='BUG: (sleeping function called from invalid context|scheduling while atomic|using (__this_cpu_[a-z]*|smp_processor_id)\(\) in preemptible|workqueue leaked lock|assuming atomic context)'
	[list]='list_(add|del) corruption|list_add double add'
	[debugobjects]='ODEBUG:'
	[ubsan]='UBSAN:'
	[other]='WARNING:|BUG:|Oops|general protection fault|Kernel panic|kernel BUG at|refcount_t:|INFO: task .* blocked|rcu_.*detected stall|Unable to handle|stack-protector|corrupted stack end'
)
declare -A REPORT_WHAT=(
	[kasan]='KASAN report'
	[kfence]='KFENCE report'
	[rcu]='RCU usage report (PROVE_RCU)'
	[lockdep]='lockdep report'
	[atomic]='sleeping-in-atomic or preemption report'
	[list]='list corruption report'
	[debugobjects]='debug objects report'
	[ubsan]='UBSAN report'
	[other]='other WARNING, BUG or Oops'
)

# reports CONSOLE KIND: the full text of every report of KIND in CONSOLE (kernel lines only,
# from the report's first line to its end marker, at most 150 lines), blocks separated by "--"
reports() {
	local kind=$1 console=$2 earlier='' k
	for k in "${REPORT_KINDS[@]}"; do
		[ "$k" = "$kind" ] && break
		earlier+="${earlier:+|}${REPORT_RE[$k]}"
	done
	awk -v re="${REPORT_RE[$kind]}" -v earlier="$earlier" '
		!/^\[ *[0-9]+\.[0-9]+\] / { next }
		{ text = $0; sub(/^\[ *[0-9]+\.[0-9]+\] /, "", text) }
		inrep {
			print; n++
			if (text ~ /^---\[ end (trace|Kernel panic)/ || (n > 2 && text ~ /^=+$/ && length(text) >= 20) || n >= 150) {
				inrep = 0; print "--"
			}
			next
		}
		text ~ re && (earlier == "" || text !~ earlier) {
			inrep = 1; n = 1; print
		}
		END { if (inrep) print "--" }
	' "$console"
}

# marker CONSOLE PREFIX: the rest of the last "TRACER-DEBUG: PREFIX..." line (PREFIX: a sed regexp)
marker() {
	sed -n "s/^TRACER-DEBUG: $2//p" "$1" | tail -n1
}

# kmemleak_blocks CONSOLE: the leak reports of the run, one block per object, "--" after each
kmemleak_blocks() {
	awk '
		/^TRACER-DEBUG: kmemleak begin$/ { on = 1; next }
		/^TRACER-DEBUG: kmemleak end$/ { if (blk) print "--"; on = 0; blk = 0; next }
		!on || /^\[ *[0-9]+\.[0-9]+\] / { next }
		/^unreferenced object/ { if (blk) print "--"; blk = 1 }
		blk { print }
	' "$1"
}

# ours BLOCK: does a kmemleak block (stdin) point into our modules? By symbol ("[tracer]",
# "[tracer_test_helper]") or, after rmmod, by a bare address in the module area
# (0xffffffffa0000000 and up with nokaslr; the kernel's text is below it).
ours() {
	grep -qE '\[(tracer|tracer_test_helper)\]|\] 0xffffffff[a-f][0-9a-f]{7}$'
}

# judge CONSOLE: ok/not ok lines for one guest run; FOUND[KIND]: how many reports of each kind
# (and FOUND[leak]: leaks of our modules)
declare -A FOUND=()
judge() {
	local con=$1 kind text grc n_ours=0 n_other=0 blk b before after
	# the suite: its results are ours
	if ! grep -q '^TRACER-GUEST: init' "$con"; then
		tail -n 40 "$con" | tap_indent
		tap_not_ok "guest booted to init"
	else
		tap_ok "guest booted to init ($(marker "$con" 'begin kernel '))"
	fi
	grc=$(marker "$con" 'suite rc=' | cut -d' ' -f1)
	if tap_import -q -r "$grc" "guest suite" "$con"; then
		tap_diag "guest suite: $TAP_SUB_PASS passed, $TAP_SUB_FAIL failed (run.sh exit $grc," \
			"$(marker "$con" 'suite rc=[0-9]* seconds=')s)"
	else
		tail -n 40 "$con" | tap_indent
	fi
	grep -q '^TRACER-DEBUG: end rc=' "$con" ||
		tap_not_ok "guest wrapper completed" "no kmemleak scan after the suite"

	# the detectors were on
	tap_test "KASAN active" "no 'KernelAddressSanitizer initialized' in the kernel log" \
		grep -q 'TRACER-DEBUG: dmesg: .*KernelAddressSanitizer initialized' "$con"
	tap_test "KFENCE active" "no 'kfence: initialized' in the kernel log" \
		grep -q 'TRACER-DEBUG: dmesg: .*kfence: initialized' "$con"
	before=$(marker "$con" 'debug_locks before=')
	after=$(marker "$con" 'debug_locks after=')
	tap_test "lockdep active before the suite (debug_locks=1)" \
		"debug_locks='$before': a boot-time report turned it off?" [ "$before" = 1 ]
	tap_test "lockdep still active after the suite (debug_locks=1)" \
		"debug_locks='$after': it reported something" [ "$after" = 1 ]

	# kernel reports, by kind
	for kind in "${REPORT_KINDS[@]}"; do
		text=$(reports "$kind" "$con")
		FOUND[$kind]=0
		if [ -z "$text" ]; then
			tap_ok "no ${REPORT_WHAT[$kind]}"
		else
			FOUND[$kind]=$(grep -c '^--$' <<<"$text")
			tap_not_ok "no ${REPORT_WHAT[$kind]}" "${FOUND[$kind]} found (below)"
			printf '%s\n' "$text" | tap_indent
		fi
	done

	# kmemleak
	FOUND[leak]=0
	if ! grep -q '^TRACER-DEBUG: kmemleak end$' "$con"; then
		tap_not_ok "kmemleak scanned after the run" "$(marker "$con" 'kmemleak ' | head -c 200)"
		return
	fi
	tap_diag "kmemleak: $(marker "$con" 'kmemleak boot reports=' | cut -d' ' -f1) boot-time report(s) before the suite (cleared, not counted)"
	local leaks_ours='' leaks_other=''
	blk=''
	while IFS= read -r b; do
		if [ "$b" = -- ]; then
			if ours <<<"$blk"; then
				n_ours=$((n_ours + 1))
				leaks_ours+="${leaks_ours:+$'\n'}$blk"$'\n--'
			else
				n_other=$((n_other + 1))
				leaks_other+="${leaks_other:+$'\n'}$blk"$'\n--'
			fi
			blk=''
		else
			blk+="${blk:+$'\n'}$b"
		fi
	done < <(kmemleak_blocks "$con")
	FOUND[leak]=$n_ours
	if [ "$n_ours" = 0 ]; then
		tap_ok "kmemleak: no leak from tracer.ko or tracer_test_helper.ko ($(marker "$con" 'kmemleak scans seconds=')s of scans)"
	else
		tap_not_ok "kmemleak: no leak from tracer.ko or tracer_test_helper.ko" "$n_ours found (below)"
		printf '%s\n' "$leaks_ours" | tap_indent
	fi
	if [ "$n_other" != 0 ]; then
		if [ "${TRACER_DEBUG_STRICT_LEAKS:-0}" = 1 ]; then
			tap_not_ok "kmemleak: no other leak during the run" "$n_other found (below)"
		else
			tap_diag "kmemleak: $n_other report(s) without our modules in the backtrace (kernel; not counted):"
		fi
		printf '%s\n' "$leaks_other" | tap_indent
	elif [ "${TRACER_DEBUG_STRICT_LEAKS:-0}" = 1 ]; then
		tap_ok "kmemleak: no other leak during the run"
	fi
}

if [ "${1:-}" = --parse ]; then
	if [ $# -ne 2 ] || [ ! -f "$2" ]; then die "usage: check-debug.sh --parse CONSOLE-LOG"; fi
	con=$(mktemp)
	trap 'rm -f "$con"' EXIT
	last_boot "$2" >"$con"
	tap_header
	judge "$con"
	finish_run
fi
[ $# -eq 0 ] || die "usage: check-debug.sh [--parse CONSOLE-LOG]"

out=${TRACER_OUT:-$TOP/build/check-debug}
rm -rf "$out"
mkdir -p "$out"

# --- host dependencies, the debug kernel ---------------------------------------------------
tap_header
deps_step "$out" || finish_run "$out"

t=$(now)
DK_RELEASE='' DK_IMAGE='' DK_KDIR='' DK_VERSION='' DK_SOURCE='' DK_BUILD_SECONDS='' DK_DIR=''
if "$TOP/scripts/debug-kernel.sh" build >"$out/debug-kernel.info" 2>"$out/debug-kernel.log"; then
	eval "$(grep -E '^DK_[A-Z_]+=' "$out/debug-kernel.info")"
	how="cached"
	grep -q '^debug-kernel: cached' "$out/debug-kernel.log" ||
		how="built in $(fmt_secs "$DK_BUILD_SECONDS")"
	tap_ok "debug kernel $DK_RELEASE ($DK_SOURCE $DK_VERSION; $how)"
	tap_diag "debug kernel: $DK_DIR"
else
	tail -n 40 "$out/debug-kernel.log" | tap_indent
	tap_not_ok "debug kernel built" "see $out/debug-kernel.log"
	finish_run "$out"
fi
timed "debug kernel" "$t"

# --- tracer.ko and the helper, against the debug tree (W=1) ------------------------------------
t=$(now)
tree=$out/tree
copy_tree "$tree"
rm -rf "$tree/build"
mkdir -p "$out/modules"
cmd=(nice -n 10 make -C "$tree" -j"$TRACER_JOBS" KVER="$DK_RELEASE" KDIR="$DK_KDIR" W=1 module helper)
echo "# ${cmd[*]}" >"$out/build.log"
# then the module's debug build (fault injection, selftests), tracer-debug.ko for the suite
dcmd=(nice -n 10 make -C "$tree" -j"$TRACER_JOBS" KVER="$DK_RELEASE" KDIR="$DK_KDIR" W=1 debug)
if "${cmd[@]}" >>"$out/build.log" 2>&1 &&
	cp "$tree/src/tracer.ko" "$tree/tests/helper/tracer_test_helper.ko" "$out/modules/" &&
	echo "# ${dcmd[*]}" >>"$out/build.log" && "${dcmd[@]}" >>"$out/build.log" 2>&1 &&
	cp "$tree/src/tracer.ko" "$out/modules/tracer-debug.ko"; then
	warn=$(grep -E '(warning|error):|^WARNING:' "$out/build.log" | grep -vE '^(\./)?(include|arch|scripts)/|^'"$DK_KDIR" || true)
	if [ -z "$warn" ]; then
		tap_ok "tracer.ko and tracer_test_helper.ko built for $DK_RELEASE (W=1 clean)"
	else
		tap_not_ok "tracer.ko and tracer_test_helper.ko built for $DK_RELEASE W=1 clean" "warnings (below)"
		printf '%s\n' "$warn" | tap_indent
	fi
else
	tail -n 40 "$out/build.log" | tap_indent
	tap_not_ok "tracer.ko and tracer_test_helper.ko built for $DK_RELEASE" "see $out/build.log"
	finish_run "$out"
fi
timed "module build" "$t"

# --- self-test: a module that does, on purpose, what the detectors must catch -------------------
selftest=${TRACER_DEBUG_SELFTEST:-0}
if [ "$selftest" = 1 ]; then
	t=$(now)
	# built in a copy: the checkout stays clean
	st=$out/selftest
	rm -rf "$st"
	cp -r "$TOP/tests/debug-selftest" "$st"
	if make -C "$DK_KDIR" M="$st" modules >"$st/build.log" 2>&1 &&
		cp "$st/tracer_debug_selftest.ko" "$out/modules/"; then
		tap_ok "self-test module built"
	else
		tail -n 30 "$st/build.log" | tap_indent
		tap_not_ok "self-test module built" "see $st/build.log"
		finish_run "$out"
	fi
	timed "self-test module" "$t"
fi

# --- guest payload: the suite, with our wrapper as /tests/run.sh ---------------------------------
t=$(now)
payload=$out/payload
if make -C "$TOP/tests" guest OUT="$payload" >"$out/payload.log" 2>&1 && [ -f "$payload/run.sh" ]; then
	mv "$payload/run.sh" "$payload/suite.sh"
	install -m 755 "$TOP/scripts/check-debug-guest.sh" "$payload/run.sh"
	tap_ok "guest payload built (make -C tests guest + scripts/check-debug-guest.sh)"
else
	tail -n 30 "$out/payload.log" | tap_indent
	tap_not_ok "guest payload built" "see $out/payload.log"
	finish_run "$out"
fi
timed payload "$t"

# --- boot the debug kernel ------------------------------------------------------------------------
# vm.sh boots the image named by "kernels.sh info $VM_ID": give it a cache of its own whose 6.1
# entry is the debug kernel.
vmcache=$out/vm-cache
mkdir -p "$vmcache/kernels/$VM_ID"
{
	echo "KID=$VM_ID"
	echo "KSUITE=bookworm"
	echo "KREL=$DK_RELEASE"
	echo "KVMLINUZ=$DK_IMAGE"
	echo "KDIR=$DK_KDIR"
	echo "KENV=host"
	echo "KROOT=/"
} >"$vmcache/kernels/$VM_ID/info"
append="kasan_multi_shot no_hash_pointers watchdog_thresh=30"

# boot_suite NAME APPEND [TESTS]: boot the debug kernel with the payload (the suite, or
# only TESTS), console in $out/console[-NAME].log; the last boot's console in $con.
boot_suite() {
	local name=$1 extra=$2 tests=${3:-${TRACER_TESTS:-}} t vrc=0 log
	log=$out/console${name:+-$name}.log
	# The suite's knobs reach the guest in the payload (the wrapper sources env.sh).
	{
		echo "export TRACER_STRESS_SECS='${TRACER_STRESS_SECS:-30}'"
		echo "export TRACER_DEBUG_SELFTEST='$selftest'"
		[ -z "$tests" ] || echo "export TRACER_TESTS='$tests'"
		[ -z "${3:-}" ] || echo "export TRACER_TRACERCTL=0"
	} >"$payload/env.sh"
	t=$(now)
	TRACER_CACHE=$vmcache \
		TRACER_VM_MEM=${TRACER_VM_MEM:-2048} \
		TRACER_VM_TIMEOUT=${TRACER_VM_TIMEOUT:-3600} \
		TRACER_BOOT_TIMEOUT=${TRACER_BOOT_TIMEOUT:-600} \
		TRACER_VM_APPEND="$append $extra ${TRACER_VM_APPEND:-}" \
		"$TOP/scripts/vm.sh" "$VM_ID" "$out/modules" "$payload" "$log" 2>"$out/vm.err" || vrc=$?
	timed "boot + suite${name:+ ($name)}" "$t"
	tap_indent <"$out/vm.err"
	case $vrc in
	0 | 1) ;;
	2) tap_not_ok "the debug kernel booted to init" "no boot of ${TRACER_VM_TRIES:-3} reached it" ;;
	124) tap_not_ok "the guest ended within TRACER_VM_TIMEOUT=${TRACER_VM_TIMEOUT:-3600}s" ;;
	*) tap_not_ok "vm.sh exit status $vrc" ;;
	esac
	con=$out/console${name:+-$name}.last
	last_boot "$log" >"$con"
}

if [ "$selftest" = 1 ]; then
	boot_suite "" ""
else
	# Kernel memory accounting off for the suite: under KASAN the quarantine frees slabs at
	# moments no test controls, inside any allocation, and freeing a slab that held accounted
	# objects kfree()s its memcg vector: a real kfree() call of the monitored process, which
	# tracer.ko counts and no exact test can expect.  The test that needs the accounting (exit
	# reports charged to the opener's memcg) runs in a second boot, with it.
	boot_suite "" "cgroup.memory=nokmem"
	judge "$con"
	if [ -z "${TRACER_TESTS:-}" ]; then
		boot_suite memcg "" reports_charged_to_opener
		judge "$con"
	fi
	finish_run "$out"
fi

# Self-test: the judgement of the guest must have failed, with each kind of report.
n0=$TAP_NUM p0=$TAP_PASS f0=$TAP_FAIL
judge "$con" >"$out/judge.txt"
TAP_NUM=$n0 TAP_PASS=$p0 TAP_FAIL=$f0
tap_diag "the judgement of the self-test guest (failures expected):"
tap_indent <"$out/judge.txt"
tap_diag "self-test: KFENCE reports: ${FOUND[kfence]:-0} (it samples allocations: not required)"
for kind in kasan rcu lockdep atomic list ubsan other leak; do
	what=${REPORT_WHAT[$kind]:-kmemleak leak of a module}
	if [ "${FOUND[$kind]:-0}" -gt 0 ]; then
		tap_ok "self-test: ${what} caught (${FOUND[$kind]})"
	else
		tap_not_ok "self-test: ${what} caught"
	fi
done
finish_run "$out"
