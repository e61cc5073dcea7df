#!/bin/sh
# tests/tracerctl/standalone.sh - guest entry point to run the tracerctl tests
# alone (tests/tracerctl/vmtest.sh installs it as the payload's run.sh):
# phase unloaded, insmod tracer.ko (other CPUs offline), phase loaded,
# rmmod, phase unloaded again.  Prints TAP (tap.sh); last line: "P passed,
# F failed".
# shellcheck shell=dash
set -u
MODDIR=${TRACER_MODDIR:-/modules}
D=/tests/tracerctl-tests
# shellcheck source=scripts/tap.sh
. "$D/tap.sh"

cpus() { # 0|1: other CPUs offline/online (kprobes vs. multi-threaded TCG)
	for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ -e "$c" ] && echo "$1" >"$c"
	done
}

phase() { tap_sub "phase $1" /tmp/phase.out sh "$D/run.sh" "$1"; }

insmod_tracer() { cpus 0; insmod "$MODDIR/tracer.ko"; _r=$?; cpus 1; return $_r; }
rmmod_tracer() { cpus 0; rmmod tracer; _r=$?; cpus 1; return $_r; }

tap_header
tap_diag "tracerctl tests on $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs"
phase unloaded
tap_test "insmod tracer.ko" "failed" insmod_tracer
tap_test "insmod tracer_test_helper.ko" "failed" insmod "$MODDIR/tracer_test_helper.ko"
phase loaded
tap_test "rmmod tracer_test_helper" "failed" rmmod tracer_test_helper
tap_test "rmmod tracer" "failed" rmmod_tracer
phase unloaded
dmesg | grep -i 'tracer\|BUG\|WARN\|Oops' | tail -n 30 | sed 's/^/dmesg: /' | tap_indent
tap_done
