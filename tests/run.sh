#!/bin/sh
# run.sh - in-guest test runner of tracer-dkms (busybox sh).
#
# Runs inside the test VM (scripts/vm.sh) from the payload directory built by
# `make -C tests guest OUT=DIR`, with /modules/tracer.ko and
# /modules/tracer_test_helper.ko.  Prints TAP (tap.sh, from scripts/): "ok N -
# name" / "not ok N - name # reason" for every check, the plan, and as its very
# last line "P passed, F failed".  Exit status: 0 when nothing failed.
#
# Phases: (1) load tracer.ko as is, run the whole C suite; unload it while
# monitored processes work; (2) reload it with the other event source
# (source=kprobe / source=tracepoint, when the module has that parameter),
# run the C suite again (shorter stress, without the tests that do not
# depend on the event source); unload it under load; (3) load it
# with a tiny allocation map (map_bits=4: 64 records) and run the tests
# that need it or change the missed counter (map overflow, a followed fork
# whose entry cannot be allocated), the map ones with the helper counting
# the slab allocator's own calls (slab_calls=1); (3b) load it with
# source=kprobe maxactive=1 and run the test of kmalloc calls that found no
# kretprobe instance; (4) unload and reload it repeatedly
# (alternating the event source) while monitored processes, followed
# short-lived children and a /proc/tracer reader run; the last load has the
# default map; check the kernel log.
#
# When the payload has the tracerctl tests (tracerctl-tests/run.sh, from
# tests/tracerctl), they run too: phase "unloaded" before the first insmod,
# phase "loaded" after the first C suite.
#
# Environment: TRACER_STRESS_SECS (default 10), TRACER_TESTS (names or parts
# of names given to tracer_test; default all), TRACER_TRACERCTL=0 skips the
# tracerctl tests, TRACER_RELOAD_CYCLES (default 30) and TRACER_RELOAD_SECS
# (default 30) bound phase 4.
#
# QEMU's multi-threaded TCG can crash when kprobes are registered or removed
# while another vCPU runs: every insmod/rmmod of tracer.ko runs with the
# other CPUs offline.
# shellcheck shell=dash
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/tap.sh
. "$HERE/tap.sh"
CTL=$HERE/tracerctl-tests/run.sh # tests/tracerctl, when in the payload
MODDIR=${TRACER_MODDIR:-/modules}
STRESS=${TRACER_STRESS_SECS:-10}
SELECT=${TRACER_TESTS:-}
RELOAD_CYCLES=${TRACER_RELOAD_CYCLES:-30}
RELOAD_SECS=${TRACER_RELOAD_SECS:-30}
TMP=${TMPDIR:-/tmp}/tracer-run.$$
mkdir -p "$TMP"
HEADER='PID kmalloc kfree kmalloc_mem kfree_mem sched up down lock unlock'

# --- CPU hotplug around kprobe (un)registration ------------------------------

# All but CPU 0, the boot CPU (arm64 can take it offline too).
OFFLINED=''
cpus_offline() {
	OFFLINED=''
	for f in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ -f "$f" ] || continue
		[ "$(cat "$f")" = 1 ] || continue
		if echo 0 >"$f" 2>/dev/null; then
			OFFLINED="$OFFLINED $f"
		else
			tap_diag "cannot take ${f%/online} offline"
		fi
	done
}

cpus_online() {
	for f in $OFFLINED; do
		echo 1 >"$f" 2>/dev/null || tap_diag "cannot bring ${f%/online} online"
	done
	OFFLINED=''
}

# With the other CPUs offline: insmod/rmmod of tracer.ko.
tracer_insmod() {
	cpus_offline
	insmod "$MODDIR/${TRACER_FLAVOUR:-tracer-debug}.ko" "$@" >"$TMP/insmod.out" 2>&1
	_rc=$?
	cpus_online
	[ -s "$TMP/insmod.out" ] && sed 's/^/# insmod: /' "$TMP/insmod.out"
	return $_rc
}

tracer_rmmod() {
	cpus_offline
	rmmod tracer >"$TMP/rmmod.out" 2>&1
	_rc=$?
	cpus_online
	[ -s "$TMP/rmmod.out" ] && sed 's/^/# rmmod: /' "$TMP/rmmod.out"
	return $_rc
}

loaded() { grep -q "^$1 " /proc/modules; }
not_loaded() { ! loaded "$1"; }

# --- checks ------------------------------------------------------------------

# /dev/tracer: character device 10:42.
dev_ok() {
	[ -c /dev/tracer ] || { tap_diag "/dev/tracer missing or not a char device"; return 1; }
	_mm=$(stat -c '%t:%T' /dev/tracer) # hexadecimal major:minor
	[ "$_mm" = a:2a ] || { tap_diag "/dev/tracer is $_mm (hex), expected a:2a (10:42)"; return 1; }
}

# /proc/tracer: exact header; with "empty": no row.
proc_ok() {
	[ -f /proc/tracer ] || { tap_diag "/proc/tracer missing"; return 1; }
	cat /proc/tracer >"$TMP/proc" || return 1
	_h=$(head -n 1 "$TMP/proc" | tr -s ' \t' '  ' | sed 's/^ //; s/ $//')
	[ "$_h" = "$HEADER" ] || { tap_diag "header: '$_h'"; return 1; }
	if [ "${1:-}" = empty ]; then
		_n=$(wc -l <"$TMP/proc")
		[ "$_n" -eq 1 ] || { tap_diag "$((_n - 1)) rows:"; sed 's/^/#   /' "$TMP/proc"; return 1; }
	fi
	return 0
}

params_ok() {
	[ -d /sys/module/tracer/parameters ] || { tap_diag "no parameters directory"; return 0; }
	for f in /sys/module/tracer/parameters/*; do
		[ -e "$f" ] || continue
		_v=$(cat "$f") || { tap_diag "cannot read $f"; return 1; }
		tap_diag "param ${f##*/} = $_v"
	done
}

source_is() {
	_v=$(cat /sys/module/tracer/parameters/source 2>/dev/null)
	[ "$_v" = "$1" ] || { tap_diag "source = '$_v'"; return 1; }
}

missed_zero() { missed_is 0; }

missed_is() {
	f=/sys/module/tracer/parameters/missed
	[ -f "$f" ] || { tap_diag "no $f"; return 0; }
	_v=$(cat "$f")
	[ "$_v" = "$1" ] || { tap_diag "missed = $_v, expected $1"; return 1; }
}

# The allocation map parameter is exactly $1.
map_is() {
	_v=$(cat /sys/module/tracer/parameters/map 2>/dev/null)
	[ "$_v" = "$1" ] || { tap_diag "map: '$_v', expected '$1'"; return 1; }
}

uptime_s() { cut -d. -f1 /proc/uptime; }
uptime_cs() { cut -d' ' -f1 /proc/uptime | tr -d .; } # centiseconds

# The tiny map has no record left, but for those of blocks the slab
# allocator kmalloc'ed for itself and still holds: map_pressure_concurrent
# prints how many at most (tracer_test/map.c, SLAB_RECORDS_LEFT; none before
# 6.18, nor when the allocator made no call of its own).
map_is_empty() {
	_left=$(sed -n 's/^# map records left of the slab allocator.s own blocks: \([0-9]*\)$/\1/p' \
		"$TMP/c.out" | tail -n 1)
	_left=${_left:-0}
	_v=$(cat /sys/module/tracer/parameters/map 2>/dev/null)
	_r=$(echo "$_v" | sed -n 's/^records=\([0-9]*\) capacity=64 overflow=[0-9]*$/\1/p')
	[ -n "$_r" ] && [ "$_r" -le "$_left" ] && return 0
	tap_diag "map: '$_v' ($_left records of slab allocator blocks allowed)"
	return 1
}

# helper_slab_calls 0|1: the helper's count of the slab allocator's own
# calls off or on (it hooks or unhooks tracepoints: other CPUs offline).
helper_slab_calls() {
	_f=/sys/module/tracer_test_helper/parameters/slab_calls
	cpus_offline
	if echo "$1" >"$_f"; then _rc=0; else _rc=1; fi
	cpus_online
	[ "$_rc" = 0 ] && [ "$(cat "$_f")" = "$1" ]
}

# Run tracer_test (args: test names); its results join our numbering.
run_c_tests() {
	_want=$("$HERE/tracer_test" -l "$@" | wc -l)
	tap_sub -n "$_want" tracer_test "$TMP/c.out" \
		"$HERE/tracer_test" -s $((TAP_NUM + 1)) -t "$STRESS" "$@"
}

# The tracerctl tests' phase $1; their results join our numbering.
run_ctl_phase() {
	tap_sub "tracerctl tests, phase $1" "$TMP/ctl.out" env TRACER_MODDIR="$MODDIR" sh "$CTL" "$1"
}

CTL_ON=0
if [ -f "$CTL" ] && [ "${TRACER_TRACERCTL:-1}" != 0 ]; then
	CTL_ON=1
else
	tap_diag "no tracerctl tests in the payload (or TRACER_TRACERCTL=0)"
fi

HOGS=''
# start_hogs [-n] [-f]: three monitored processes working in 2 threads (with
# -f, also forking short-lived children; with -n, at the lowest priority).
start_hogs() {
	rm -f "$TMP"/hog.*
	for _i in 1 2 3; do
		"$HERE/tracer_workload" -H 2 "$@" >"$TMP/hog.$_i" 2>&1 &
		HOGS="$HOGS $!"
	done
	# Each adds itself, then prints "hog ready".
	_t=0
	while [ "$(cat "$TMP"/hog.* 2>/dev/null | grep -c 'hog ready')" -lt 3 ]; do
		_t=$((_t + 1))
		[ $_t -lt 300 ] || { tap_diag "hogs not ready"; return 1; }
		sleep 0.1
	done
}

hogs_alive() {
	for _p in $HOGS; do
		kill -0 "$_p" 2>/dev/null || { tap_diag "hog $_p died"; return 1; }
	done
}

hogs_in_table() {
	for _p in $HOGS; do
		grep -q "^ *$_p " /proc/tracer || { tap_diag "no row for hog $_p"; return 1; }
	done
}

stop_hogs() {
	for _p in $HOGS; do kill -9 "$_p" 2>/dev/null; done
	for _p in $HOGS; do wait "$_p" 2>/dev/null; done
	HOGS=''
}

# Phase 4: unload and reload tracer.ko again and again while the hogs (and
# their followed children) are monitored and a reader parses /proc/tracer.
# Every load must start with an empty table; every unload must succeed.
# (Variables prefixed _cyc: the helpers it calls use _n, _v, ...)
reload_cycles() {
	_cyc=0 _cyc_badload=0 _cyc_badempty=0 _cyc_badadd=0 _cyc_t0=$(uptime_s)
	"$HERE/tracer_workload" -n -R $((RELOAD_SECS + 120)) >"$TMP/reader.out" 2>&1 &
	_cyc_rd=$!
	while [ $_cyc -lt "$RELOAD_CYCLES" ] && [ $(($(uptime_s) - _cyc_t0)) -lt "$RELOAD_SECS" ]; do
		_cyc_src=''
		if [ -n "$OTHER" ]; then
			if [ $((_cyc % 2)) = 0 ]; then _cyc_src=$SOURCE1; else _cyc_src=$OTHER; fi
		fi
		_c0=$(uptime_cs)
		if ! tracer_insmod ${_cyc_src:+source=$_cyc_src}; then
			tap_diag "cycle $_cyc: insmod failed"
			_cyc_badload=$((_cyc_badload + 1))
			break
		fi
		proc_ok empty || { tap_diag "cycle $_cyc: table not empty after the load"; _cyc_badempty=$((_cyc_badempty + 1)); }
		# Hogs and their children: counted while the module goes away.
		# shellcheck disable=SC2086 # one PID per argument
		"$HERE/tracer_workload" -a $HOGS || _cyc_badadd=$((_cyc_badadd + 1))
		hogs_in_table || _cyc_badadd=$((_cyc_badadd + 1))
		_c1=$(uptime_cs)
		sleep 0.2
		_c2=$(uptime_cs)
		if ! tracer_rmmod; then
			tap_diag "cycle $_cyc: rmmod failed"
			_cyc_badload=$((_cyc_badload + 1))
			break
		fi
		_c3=$(uptime_cs)
		tap_diag "cycle $_cyc${_cyc_src:+ ($_cyc_src)}: insmod and add $((_c1 - _c0))0 ms, rmmod $((_c3 - _c2))0 ms"
		_cyc=$((_cyc + 1))
	done
	kill -TERM "$_cyc_rd" 2>/dev/null
	wait "$_cyc_rd"
	_cyc_rrc=$?
	cat "$TMP/reader.out"
	tap_diag "reload: $_cyc cycles of insmod/rmmod under load in $(($(uptime_s) - _cyc_t0)) s"
	tap_test "reload cycles: insmod and rmmod succeed every time ($_cyc cycles)" "see above" \
		test "$_cyc_badload" = 0
	# Under TCG, a PREEMPT_RT rmmod under load takes up to 6 s.
	tap_test "reload cycles: at least 3 done" "only $_cyc" test "$_cyc" -ge 3
	tap_test "reload cycles: the table is empty after every load" "$_cyc_badempty loads" \
		test "$_cyc_badempty" = 0
	tap_test "reload cycles: the hogs could be added after every load" "$_cyc_badadd failures" \
		test "$_cyc_badadd" = 0
	tap_test "reload cycles: the reader saw only well-formed tables" "reader exit $_cyc_rrc" \
		test "$_cyc_rrc" = 0
}

# The kernel log after its first $1 lines: every "unloaded;" line says 0
# events missed.
unloads_missed_none() {
	dmesg | tail -n +$(($1 + 1)) | grep 'tracer: unloaded;' >"$TMP/unloads"
	if grep -v 'unloaded; 0 events missed' "$TMP/unloads" >"$TMP/unloads.bad"; then
		tap_diag "$(wc -l <"$TMP/unloads.bad") of $(wc -l <"$TMP/unloads") unloads lost events:"
		sed 's/^/#   /' "$TMP/unloads.bad"
		return 1
	fi
	[ -s "$TMP/unloads" ] || { tap_diag "no unload in the kernel log"; return 1; }
}

dmesg_clean() {
	dmesg >"$TMP/dmesg.all"
	# Only what the kernel said after the boot messages saved at start.
	tail -n +$((BOOT_LINES + 1)) "$TMP/dmesg.all" >"$TMP/dmesg.ours"
	# "still has objects", "Objects remaining": kmem_cache_destroy() of
	# tracer.ko's entry cache at unload found leaked entries.
	if grep -E 'BUG|WARNING|Oops|list_add corruption|list_del corruption|refcount_t|general protection|[Uu]nable to handle|Call Trace|still has objects|Objects remaining' \
		"$TMP/dmesg.ours" >"$TMP/dmesg.bad"; then
		tap_diag "kernel log:"
		sed 's/^/#   /' "$TMP/dmesg.bad" | head -n 60
		return 1
	fi
	return 0
}

# --- main --------------------------------------------------------------------

tap_header
tap_diag "tracer-dkms guest tests: kernel $(uname -r) id $(cat /etc/kernel-id 2>/dev/null || echo '?')," \
	"$(grep -c ^processor /proc/cpuinfo) CPUs, preempt: $(uname -v | grep -o 'PREEMPT[_A-Z]*' | head -n 1)"
dmesg >"$TMP/dmesg.boot"
BOOT_LINES=$(wc -l <"$TMP/dmesg.boot")
if grep -qE 'BUG|WARNING|Oops' "$TMP/dmesg.boot"; then
	tap_diag "boot log already has warnings (not counted):"
	grep -E 'BUG|WARNING|Oops' "$TMP/dmesg.boot" | head -n 10 | sed 's/^/#   /'
fi

[ "$CTL_ON" = 1 ] && run_ctl_phase unloaded

tap_test "insmod tracer_test_helper.ko" "insmod failed" \
	insmod "$MODDIR/tracer_test_helper.ko"
tap_test "/dev/tracer_helper exists" "missing" test -c /dev/tracer_helper
tap_test "insmod tracer.ko" "insmod failed" tracer_insmod
tap_test "/dev/tracer is char 10:42" "wrong device node" dev_ok
tap_test "/proc/tracer header, empty table" "see above" proc_ok empty
tap_test "module parameters readable" "see above" params_ok

# shellcheck disable=SC2086 # word splitting of the test selection is wanted
run_c_tests $SELECT
tap_test "missed events counter is 0 after the tests" "see above" missed_zero
SOURCE1=$(cat /sys/module/tracer/parameters/source 2>/dev/null || echo '')
tap_diag "phase 1 event source: ${SOURCE1:-(no source parameter)}; done at $(uptime_s) s"
if [ "$CTL_ON" = 1 ]; then
	run_ctl_phase loaded
	tap_test "/dev/tracer_helper still there after the tracerctl tests" "gone" \
		test -c /dev/tracer_helper
fi

# Unload while monitored processes are running and being counted.
if start_hogs; then tap_ok "monitored hogs running"; else tap_not_ok "monitored hogs running" "see above"; fi
tap_test "hogs in /proc/tracer" "see above" hogs_in_table
tap_test "rmmod tracer.ko while processes are monitored" "rmmod failed" tracer_rmmod
tap_test "tracer gone after rmmod" "still there" not_loaded tracer
tap_test "/proc/tracer and /dev/tracer gone" "still there" \
	sh -c '! [ -e /proc/tracer ] && ! [ -e /dev/tracer ]'
sleep 1
tap_test "hogs survive the unload" "see above" hogs_alive
# Phase 2: the other source of kmalloc/kfree events, if there is a choice.
OTHER=''
case $SOURCE1 in
kprobe) OTHER=tracepoint ;;
tracepoint) OTHER=kprobe ;;
esac
tap_test "insmod tracer.ko again${OTHER:+ source=$OTHER}" "insmod failed" \
	tracer_insmod ${OTHER:+source=$OTHER}
[ -n "$OTHER" ] && tap_test "source is $OTHER" "see above" source_is "$OTHER"
tap_test "reloaded: /dev/tracer is char 10:42" "wrong device node" dev_ok
tap_test "reloaded: table starts empty" "see above" proc_ok empty
stop_hogs
STRESS=$(((STRESS + 1) / 2))
# -q: the tests of the ioctl, procfs and permission paths ran in phase 1.
# shellcheck disable=SC2086 # word splitting of the test selection is wanted
run_c_tests -q $SELECT
tap_diag "phase 2 done at $(uptime_s) s"

# Unload with a full table, readers and a churn of processes.
if start_hogs; then tap_ok "hogs running again"; else tap_not_ok "hogs running again" "see above"; fi
( while :; do cat /proc/tracer >/dev/null 2>&1; done ) &
READER=$!
tap_test "missed events counter is 0 (second load)" "see above" missed_zero
tap_test "rmmod tracer.ko under load" "rmmod failed" tracer_rmmod
kill "$READER" 2>/dev/null
wait "$READER" 2>/dev/null
tap_test "hogs survive the second unload" "see above" hogs_alive
stop_hogs
tap_test "tracer unloaded" "still loaded" not_loaded tracer

# Phase 3: a tiny allocation map, and injected allocation failures.
if [ -z "$SELECT" ]; then
	tap_test "insmod tracer.ko map_bits=4 map_max_bits=4 (a map that never grows)" "insmod failed" \
		tracer_insmod map_bits=4 map_max_bits=4
	tap_test "map_bits=4: 64 records, empty" "see above" \
		map_is "records=0 capacity=64 overflow=0"
	# 6.18+: the slab allocator kmallocs (and kfrees) blocks of its own in
	# the caller's context, at moments no test controls: the helper counts
	# those calls (slab_calls=1) and map_pressure_concurrent adds them to
	# its exact totals.  The map keeps the records of such blocks the
	# allocator still holds: the test says how many (SLAB_RECORDS_LEFT).
	tap_test "helper counts the slab allocator's own calls (slab_calls=1)" \
		"see above" helper_slab_calls 1
	run_c_tests map_pressure map_pressure_concurrent
	tap_test "helper slab_calls=0" "see above" helper_slab_calls 0
	tap_test "map_bits=4: empty after the tests (but for the slab allocator's own blocks)" \
		"see above" map_is_empty
	run_c_tests fail_alloc_follow_missed reports_capped_in_all
	tap_test "missed is exactly the one injected follow failure and the 5 reports over max_reports_total" \
		"see above" missed_is 6
	tap_test "rmmod tracer.ko (map_bits=4)" "rmmod failed" tracer_rmmod
	tap_diag "phase 3 done at $(uptime_s) s"
fi
# Phase 3b: one kretprobe instance per kmalloc entry point, contended.
if [ -z "$SELECT" ] || case " $SELECT " in *" kretprobe_missed"*) true ;; *) false ;; esac; then
	tap_test "insmod tracer.ko source=kprobe maxactive=1" "insmod failed" \
		tracer_insmod source=kprobe maxactive=1
	run_c_tests kretprobe_missed_monitored_only
	tap_test "rmmod tracer.ko (maxactive=1)" "rmmod failed" tracer_rmmod
	tap_diag "phase 3b done at $(uptime_s) s"
fi
if [ -z "$SELECT" ]; then
	# Phase 4: unload and reload under load.
	# At the lowest priority: with one CPU online around every insmod and
	# rmmod, the load would starve them otherwise (20 s a cycle); they
	# still run, monitored, whenever insmod/rmmod waits.
	if tracer_insmod && start_hogs -n -f && tracer_rmmod; then
		tap_ok "hogs with forking children running"
		_p4_log=$(dmesg | wc -l)
		reload_cycles
		# Each unload says how many events of monitored processes were
		# lost: none, though the hogs worked on through every unload.
		tap_test "reload cycles: every unload reports 0 events missed" "see above" \
			unloads_missed_none "$_p4_log"
		tap_test "hogs survive the reload cycles" "see above" hogs_alive
		tap_test "insmod tracer.ko with the default map" "insmod failed" tracer_insmod
		tap_test "default map: 65536 records, empty" "see above" \
			map_is "records=0 capacity=65536 overflow=0"
		tap_test "table empty after the last load" "see above" proc_ok empty
		stop_hogs
		tap_test "rmmod tracer.ko after the reload cycles" "rmmod failed" tracer_rmmod
		tap_diag "phase 4 done at $(uptime_s) s"
	else
		tap_not_ok "hogs with forking children running" "see above"
		stop_hogs
		loaded tracer && tracer_rmmod
	fi
fi
tap_test "rmmod tracer_test_helper.ko" "rmmod failed" rmmod tracer_test_helper
tap_test "kernel log clean (no BUG/WARNING/Oops/corruption)" "see above" dmesg_clean
grep -iE 'tracer' "$TMP/dmesg.ours" | sed 's/^\[ *[0-9.]*\] //' |
	grep -v '^tracer: version .* loaded$' | sort | uniq -c >"$TMP/dmesg.tracer"
if [ -s "$TMP/dmesg.tracer" ]; then
	tap_diag "kernel log, tracer lines (with their counts):"
	sed 's/^/#   /' "$TMP/dmesg.tracer" | head -n 40
fi

rm -rf "$TMP"
tap_done
