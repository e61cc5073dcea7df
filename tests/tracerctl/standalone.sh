#!/bin/sh
# tests/tracerctl/standalone.sh - guest entry point to run the tracerctl tests
# alone (tests/tracerctl/vmtest.sh installs it as the payload's run.sh):
# phase unloaded, insmod tracer.ko (other CPUs offline), phase loaded,
# rmmod, phase unloaded again.  Last line: "P passed, F failed".
# shellcheck shell=dash
set -u
MODDIR=${TRACER_MODDIR:-/modules}
D=/tests/tracerctl-tests
P=0 F=0 N=0

cpus() { # 0|1: other CPUs offline/online (kprobes vs. multi-threaded TCG)
	for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ -e "$c" ] && echo "$1" >"$c"
	done
}

phase() {
	TRACERCTL_FIRST=$((N + 1)) sh "$D/run.sh" "$1" >/tmp/phase.out 2>&1
	cat /tmp/phase.out
	_p=$(grep -c '^ok ' /tmp/phase.out)
	_f=$(grep -c '^not ok ' /tmp/phase.out)
	N=$((N + _p + _f)) P=$((P + _p)) F=$((F + _f))
	tail -n 1 /tmp/phase.out | grep -q "^$_p passed, $_f failed\$" || {
		N=$((N + 1)) F=$((F + 1))
		echo "not ok $N - phase $1 complete # last line: $(tail -n 1 /tmp/phase.out)"
	}
}

step() { # NAME CMD...
	_n=$1
	shift
	N=$((N + 1))
	if "$@"; then P=$((P + 1)); echo "ok $N - $_n"; else F=$((F + 1)); echo "not ok $N - $_n"; fi
}

insmod_tracer() { cpus 0; insmod "$MODDIR/tracer.ko"; _r=$?; cpus 1; return $_r; }
rmmod_tracer() { cpus 0; rmmod tracer; _r=$?; cpus 1; return $_r; }

echo "# tracerctl tests on $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs"
phase unloaded
step "insmod tracer.ko" insmod_tracer
step "insmod tracer_test_helper.ko" insmod "$MODDIR/tracer_test_helper.ko"
phase loaded
step "rmmod tracer_test_helper" rmmod tracer_test_helper
step "rmmod tracer" rmmod_tracer
phase unloaded
dmesg | grep -i 'tracer\|BUG\|WARN\|Oops' | sed 's/^/# dmesg: /' | tail -n 30
echo "$P passed, $F failed"
[ "$F" -eq 0 ]
