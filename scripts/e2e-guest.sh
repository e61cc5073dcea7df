#!/bin/bash
# The checks scripts/e2e-dkms.sh runs inside the booted Debian guest, from the
# oneshot unit tracer-e2e.service, with no manual modprobe before them.
#
# Reads /etc/tracer-e2e.conf (KVER, VERSION, DEV_MODE, DEV_OWNER, DEV_GROUP;
# BUILD_LOG and BUILD_MTIME: DKMS's make.log of the module and its time when the
# image was made; FLEET=1: the checks of README's "Fleets"), prints TAP
# (scripts/tap.sh, installed as /usr/local/lib/tracer-e2e/tap.sh) on the serial
# console, every line after "E2E: ": "E2E: ok N - ...", "E2E: not ok N - ...
# # why", the plan and the totals; then powers the guest off.
set -uo pipefail

exec >/dev/ttyS0 2>&1
# shellcheck source=/dev/null
. /etc/tracer-e2e.conf

HEADER="PID kmalloc kfree kmalloc_mem kfree_mem sched up down lock unlock"
CPU1=/sys/devices/system/cpu/cpu1/online

# Timing notes (ignored by the host's parser): uptime at each result.
t() { printf 'E2E-T: %s %s\n' "$(cut -d' ' -f1 /proc/uptime)" "$*"; }
TAP_PREFIX="E2E: " TAP_HOOK=t
# shellcheck source=scripts/tap.sh
. /usr/local/lib/tracer-e2e/tap.sh
say() { tap_diag "$*"; }
ok() { tap_ok "$1"; }
notok() { tap_not_ok "$1" "$2"; }
# check DESC CMD...: ok if CMD succeeds, else its output as the reason
check() { tap_check "$@"; }
# eq DESC GOT WANT
eq() { tap_eq "$@"; }
tap_header

cpu1() { [ ! -w $CPU1 ] || echo "$1" >$CPU1; }

# The node: character device 10:42 with the rule's owner, group and mode.
dev_is() {
	local got
	got=$(stat -c '%F %t:%T %U %G %a' /dev/tracer 2>&1)
	[ "$got" = "character special file a:2a $DEV_OWNER $DEV_GROUP $DEV_MODE" ] || {
		echo "/dev/tracer: $got"
		return 1
	}
}

# dev_ready: dev_is, once udev has handled the node (up to 2 minutes: the whole
# boot's coldplug may still be queued; "udevadm settle" would wait for all of it)
dev_ready() {
	local _
	for _ in $(seq 120); do
		dev_is >/dev/null && return 0
		sleep 1
	done
	dev_is
}

proc_header() { head -n1 /proc/tracer | tr -s ' \t' ' ' | sed 's/^ //; s/ $//'; }

# column NAME PID: a counter of PID's row in /proc/tracer
column() {
	awk -v name="$1" -v pid="$2" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$1 == pid { print $col[name]; found = 1 } END { if (!found) print "none" }' /proc/tracer
}

tracer_add() {
	if command -v tracerctl >/dev/null; then tracerctl add "$1"; else tracer-e2e-ioctl add "$1"; fi
}
tracer_remove() {
	if command -v tracerctl >/dev/null; then tracerctl remove "$1"; else tracer-e2e-ioctl remove "$1"; fi
}

say "start: up $(cut -d' ' -f1 /proc/uptime) s: kernel $(uname -r), tracer-dkms $VERSION, $(nproc) CPUs," \
	"client $(command -v tracerctl || command -v tracer-e2e-ioctl)"

eq "booted kernel $KVER" "$(uname -r)" "$KVER"

# Loaded at boot by tracer-dkms.service (modprobe, failure tolerated), before
# anything opened /dev/tracer.
check "tracer.ko loaded at boot (lsmod, /sys/module/tracer)" \
	sh -c 'lsmod | grep -q "^tracer " && test -d /sys/module/tracer'
check "systemd-modules-load.service succeeded" systemctl is-active --quiet systemd-modules-load.service
# The unit ran modprobe, which exited 0 (its result would be "success" even if
# modprobe failed: the "-" prefix).
loaded_by_unit() {
	local st
	st=$(systemctl show -p ExecMainStartTimestampMonotonic -p ExecMainStatus -p UnitFileState \
		tracer-dkms.service | sort | tr '\n' ' ')
	case $st in
	"ExecMainStartTimestampMonotonic=0 "*) echo "did not run: $st"; return 1 ;;
	*"ExecMainStatus=0 UnitFileState=enabled ") ;;
	*) echo "$st"; return 1 ;;
	esac
}
check "tracer-dkms.service (enabled) loaded tracer at boot" loaded_by_unit
# The units that load or set up the module: none failed.
units_ok() {
	local u bad=
	for u in tracer-dkms systemd-modules-load kmod-static-nodes systemd-udevd systemd-udev-trigger \
		systemd-tmpfiles-setup-dev; do
		! systemctl is-failed --quiet "$u.service" || bad+="$u "
	done
	[ -z "$bad" ] || { echo "failed: $bad"; return 1; }
}
check "no unit failed (tracer-dkms, systemd-modules-load, kmod-static-nodes, udev, tmpfiles)" units_ok
if [ -n "${BUILD_LOG:-}" ]; then
	eq "DKMS did not build the module again at boot ($BUILD_LOG)" \
		"$(stat -c %Y "$BUILD_LOG" 2>&1)" "$BUILD_MTIME"
fi
eq "module from DKMS: $(modinfo -n tracer 2>&1)" \
	"$(modinfo -n tracer 2>&1 | sed -E 's/\.ko\.(xz|zst|gz)$/.ko/')" "/lib/modules/$KVER/updates/dkms/tracer.ko"
eq "module version $VERSION (/sys/module/tracer/version)" "$(cat /sys/module/tracer/version 2>&1)" "$VERSION"
check "dkms.service did not fail" sh -c '! systemctl is-failed --quiet dkms.service'

# /dev/tracer and /proc/tracer.
check "/dev/tracer: char 10:42, $DEV_OWNER:$DEV_GROUP $DEV_MODE (udev rule)" dev_ready
eq "/proc/tracer header" "$(proc_header)" "$HEADER"

# A monitored process: reads /proc/tracer in a loop without forking
# (seq_file: kmalloc/kfree of its buffer, mutex_lock/unlock of its lock).
sh -c 'while :; do read -r line </proc/tracer; done' &
loop=$!
check "add PID $loop" tracer_add "$loop"
sleep 3
row=$(awk -v pid="$loop" '$1 == pid' /proc/tracer)
say "row: $row"
for c in kmalloc kfree lock unlock; do
	v=$(column "$c" "$loop")
	if [ "$v" != none ] && [ "$v" -gt 0 ] 2>/dev/null; then
		ok "monitored process: $c = $v > 0"
	else
		notok "monitored process: $c > 0" "got $v; row '$row'"
	fi
done
check "remove PID $loop" tracer_remove "$loop"
eq "row of $loop gone after remove" "$(column PID "$loop")" none
kill "$loop" 2>/dev/null
wait "$loop" 2>/dev/null

# Fleets (README): a service named in /etc/tracer/monitor.d, monitored by
# tracer-monitor.service, its counts exported by tracer-export.timer into
# node_exporter's textfile collector and read from node_exporter over HTTP;
# they grow as it works, and keep coming after a restart of the unit.
if [ "${FLEET:-0}" = 1 ]; then
	UNIT=alloc-demo.service
	LABELS="{cgroup=\"/system.slice/$UNIT\",unit=\"$UNIT\"}"
	metrics() { curl -fsS --max-time 5 http://127.0.0.1:9100/metrics 2>/dev/null; }
	metric() { metrics | awk -v m="$1$LABELS" '$1 == m { print $2 }'; }
	# wait_metric NAME ABOVE SECONDS: the metric's value once above ABOVE, or ''
	wait_metric() {
		local v _
		for _ in $(seq "$3"); do
			v=$(metric "$1")
			if [ -n "$v" ] && [ "$(printf '%.0f' "$v")" -gt "$2" ] 2>/dev/null; then
				printf '%.0f\n' "$v"
				return
			fi
			sleep 1
		done
	}
	check "tracer-monitor.service applied /etc/tracer/monitor.d" systemctl is-active --quiet tracer-monitor.service
	check "tracerctl show --by cgroup lists $UNIT" \
		sh -c "tracerctl show --by cgroup | grep -q '^/system.slice/$UNIT '"
	v1=$(wait_metric tracer_kmalloc_calls_total 0 120)
	if [ -n "$v1" ]; then ok "node_exporter /metrics: tracer_kmalloc_calls_total$LABELS = $v1"; else
		notok "node_exporter /metrics has tracer_kmalloc_calls_total$LABELS" \
			"$(metrics | grep -c '^tracer_') tracer_ lines; $(systemctl is-active tracer-export.timer prometheus-node-exporter.service | tr '\n' ' ')"
	fi
	metrics | grep '^tracer_' | while IFS= read -r line; do say "metric: $line"; done
	v2=$(wait_metric tracer_kmalloc_calls_total "${v1:-0}" 60)
	if [ -n "$v2" ]; then ok "the counts grow as the service works: $v1 -> $v2"; else
		notok "the counts grow as the service works" "still ${v1:-none} after 60 s"; fi
	pid1=$(systemctl show -P MainPID $UNIT)
	check "systemctl restart $UNIT" systemctl restart $UNIT
	pid2=$(systemctl show -P MainPID $UNIT)
	if [ "$pid1" != "$pid2" ]; then ok "$UNIT restarted (main PID $pid1 -> $pid2)"; else
		notok "$UNIT restarted" "main PID $pid1 -> $pid2"; fi
	v3=$(wait_metric tracer_kmalloc_calls_total "${v2:-0}" 60)
	if [ -n "$v3" ]; then ok "after the restart the metrics keep coming and growing: $v2 -> $v3"; else
		notok "after the restart the metrics keep coming" "still ${v2:-none} after 60 s"; fi
	eq "after the restart its new main process is monitored" \
		"$(awk -v p="$pid2" 'NR > 1 && $1 == p { print "yes" }' /proc/tracer)" yes
	metrics | grep "^tracer_.*$UNIT" | while IFS= read -r line; do say "metric: $line"; done
fi

# Unload and load again (CPU 1 offline around it: QEMU TCG and kprobes).
cpu1 0
check "modprobe -r tracer" sh -c 'modprobe -r tracer && test ! -d /sys/module/tracer'
check "modprobe tracer" sh -c 'modprobe tracer && test -d /sys/module/tracer'
cpu1 1
check "after reload: /dev/tracer char 10:42, $DEV_OWNER:$DEV_GROUP $DEV_MODE" dev_ready
eq "after reload: /proc/tracer header" "$(proc_header)" "$HEADER"

# Opening the static node kmod-static-nodes made at boot loads the module
# (MODULE_ALIAS_MISCDEV(42), devname:tracer).
cpu1 0
check "unloaded again" sh -c 'modprobe -r tracer && test ! -d /sys/module/tracer'
check "static node listed by kmod (modules.devname)" \
	grep -q '^c! /dev/tracer 0600 - - - 10:42$' /run/tmpfiles.d/static-nodes.conf
check "static node /dev/tracer recreated (systemd-tmpfiles)" \
	sh -c 'systemd-tmpfiles --create --boot --prefix=/dev/tracer && test -c /dev/tracer'
check "opening /dev/tracer loads the module" sh -c ': </dev/tracer && test -d /sys/module/tracer'
cpu1 1
check "after autoload: /dev/tracer char 10:42, $DEV_OWNER:$DEV_GROUP $DEV_MODE" dev_ready

say "missed events: $(cat /sys/module/tracer/parameters/missed 2>&1)"
say "done: up $(cut -d' ' -f1 /proc/uptime) s"
tap_done
sync
systemctl --force --force poweroff
