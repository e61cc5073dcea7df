#!/bin/sh
# check-debug-guest.sh - in-guest wrapper of `make check-debug` (busybox sh).
#
# scripts/check-debug.sh installs it as /tests/run.sh of the debug kernel's guest, with the
# test suite's own runner (tests/run.sh) next to it as /tests/suite.sh. It
#   1. reports which detectors are active (KASAN, KFENCE, lockdep, kmemleak),
#   2. scans for leaks once and forgets them (echo clear): boot-time objects are not ours,
#   3. runs the whole suite (it loads, tests, stress-tests and unloads the modules), or with
#      TRACER_DEBUG_SELFTEST=1 loads and unloads tracer_debug_selftest.ko (bugs on purpose),
#   4. scans for leaks again (twice, some seconds apart, after the modules are gone) and
#      prints the report between "TRACER-DEBUG: kmemleak begin" and "... end".
# The host (check-debug.sh) reads the console: the markers, the suite's output and the
# kernel's reports. Exit status: the suite's.
# shellcheck shell=dash
set -u

KL=/sys/kernel/debug/kmemleak
LEAK_WAIT=${TRACER_DEBUG_LEAK_WAIT:-6}

say() { echo "TRACER-DEBUG: $*"; }

debug_locks() {
	sed -n 's/^ *debug_locks: *\([0-9]*\)$/\1/p' /proc/lockdep_stats 2>/dev/null
}

# kmemleak_scan: wait LEAK_WAIT seconds, then scan (synchronous): kmemleak reports objects
# older than 5 s that no scanned memory points to; the list shows the reported objects still
# unreferenced at the last scan (two scans: a pointer in flight is not a leak).
kmemleak_scan() {
	sleep "$LEAK_WAIT"
	echo scan >"$KL" 2>/dev/null
}

# TRACER_STRESS_SECS, TRACER_TESTS of the host, for the suite
# shellcheck disable=SC1091 # written by check-debug.sh
if [ -f ./env.sh ]; then . ./env.sh; fi

say "begin kernel $(uname -r)"
for d in KASAN_GENERIC KASAN_INLINE KASAN_OUTLINE KFENCE PROVE_LOCKING PROVE_RCU DEBUG_KMEMLEAK \
	DEBUG_ATOMIC_SLEEP DEBUG_LIST DEBUG_OBJECTS_RCU_HEAD SLUB_DEBUG UBSAN PREEMPT KPROBES_ON_FTRACE; do
	if zcat /proc/config.gz 2>/dev/null | grep -q "^CONFIG_$d=y"; then say "config $d=y"; fi
done
dmesg | grep -E 'KernelAddressSanitizer initialized|kfence: initialized|kmemleak: Kernel memory leak detector|Lock dependency validator|kmemleak: .*disabled' |
	sed 's/^/TRACER-DEBUG: dmesg: /'
say "debug_locks before=$(debug_locks)"

# Boot-time objects: scan, list how many, forget them.
if [ -r "$KL" ] && kmemleak_scan; then
	n=$(grep -c '^unreferenced object' "$KL")
	say "kmemleak boot reports=$n (cleared)"
	echo clear >"$KL"
else
	say "kmemleak unavailable"
fi

start=$(date +%s)
if [ "${TRACER_DEBUG_SELFTEST:-0}" = 1 ]; then
	# check-debug.sh's self-test: a module with bugs on purpose instead of the suite
	insmod /modules/tracer_debug_selftest.ko
	rc=$?
	rmmod tracer_debug_selftest || rc=1
else
	sh ./suite.sh
	rc=$?
fi
say "suite rc=$rc seconds=$(($(date +%s) - start))"
say "debug_locks after=$(debug_locks)"
say "modules after: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"

# Leaks of the run: the modules are unloaded, what they allocated and never freed is left.
if [ -r "$KL" ]; then
	start=$(date +%s)
	if kmemleak_scan && kmemleak_scan; then
		say "kmemleak scans seconds=$(($(date +%s) - start))"
		say "kmemleak begin"
		cat "$KL"
		say "kmemleak end"
	else
		say "kmemleak scan failed (detector disabled?)"
	fi
fi
say "end rc=$rc"
exit "$rc"
