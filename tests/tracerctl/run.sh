#!/bin/sh
# tests/tracerctl/run.sh - in-guest tests of tracerctl (busybox sh).
#
#   sh run.sh unloaded   tracer.ko not loaded: every "module not loaded" path,
#                        usage errors, --help, --version
#   sh run.sh loaded     tracer.ko loaded (and tracer_test_helper.ko, which is
#                        insmod'ed from $TRACER_MODDIR if /dev/tracer_helper is
#                        missing, and removed again at the end): every
#                        subcommand against the real module
#
# Environment:
#   TRACERCTL        the tracerctl binary (default: ../tracerctl next to this
#                    directory, then /tests/tracerctl, then tracerctl in PATH)
#   TRACER_MODDIR    where tracer_test_helper.ko is (default /modules)
#
# Prints TAP (tap.sh, from scripts/, next to it in the payload): "ok N - name"
# or "not ok N - name # reason" per test, "# ..." diagnostics, the plan, and
# last "P passed, F failed".  Exit status 0 if none failed, 1 if some failed,
# 2 on a usage error.  Run as root.
# shellcheck shell=dash
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/tap.sh
. "$HERE/tap.sh"
# shellcheck source=tests/tracerctl/cgroup.sh
. "$HERE/cgroup.sh"
PHASE=${1:-}
MODDIR=${TRACER_MODDIR:-/modules}
if [ -n "${TRACERCTL:-}" ]; then
	T=$TRACERCTL
elif [ -x "$HERE/../tracerctl" ]; then
	T=$(cd "$HERE/.." && pwd)/tracerctl
elif [ -x /tests/tracerctl ]; then
	T=/tests/tracerctl
else
	T=tracerctl
fi
TTH=$HERE/tth
ASUSER=$HERE/asuser
PTYRUN=$HERE/ptyrun
NOBODY=65534
TMP=${TMPDIR:-/tmp}/tracerctl-test.$$
rm -rf "$TMP"
mkdir -p "$TMP"
chmod 777 "$TMP"
BG=''		# background processes to kill at the end
HDR='PID COMM kmalloc kfree kmalloc_mem kfree_mem sched up down lock unlock'

# t CMD...: run CMD; stdout in $TMP/out, stderr in $TMP/err, status in $RC.
t() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
}

# want_rc N: the list of errors _e starts empty, or with "exit status RC" unless
# RC (of t) is N
want_rc() {
	_e=''
	[ "$RC" = "$1" ] || _e="exit status $RC"
}

# want_in FILE STRING WHAT: "; WHAT" joins _e unless FILE has the fixed STRING
want_in() { grep -qF -- "$2" "$1" || _e="$_e; $3"; }

show_files() {
	for _f in "$@"; do
		[ -s "$_f" ] && sed "s|^|#   ${_f##*/}: |" "$_f" | head -n 40
	done
	return 0
}

# expect NAME RC GREP_PATTERN CMD...: exit status RC and stderr+stdout
# matching the fixed string GREP_PATTERN ('' for none).
expect() {
	_n=$1 _rc=$2 _pat=$3
	shift 3
	t "$@"
	_e=''
	[ "$RC" = "$_rc" ] || _e="exit status $RC, expected $_rc"
	if [ -n "$_pat" ] && ! cat "$TMP/out" "$TMP/err" | grep -qF -- "$_pat"; then
		_e="${_e:+$_e; }no '$_pat' in the output"
	fi
	[ -z "$_e" ] || show_files "$TMP/out" "$TMP/err"
	tap_result "$_n" "$_e"
}

cleanup() {
	for _p in $BG; do kill -9 "$_p" 2>/dev/null; done
	for _p in $BG; do wait "$_p" 2>/dev/null; done
	BG=''
}

# The 9 counters of PID in /proc/tracer, space separated ('' if no row).
proc_row() {
	awk -v p="$1" 'NR > 1 && $1 == p { $1 = ""; sub(/^ /, ""); print }' /proc/tracer
}

monitored() { [ -n "$(proc_row "$1")" ]; }

# Wait until FILE exists (up to 20 s).
wait_file() {
	_i=0
	while [ ! -s "$1" ] && [ $_i -lt 200 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ -s "$1" ]
}

# Wait until process PID runs COMM (exec done) and sleeps (up to 20 s).
wait_sleeping() {
	_i=0
	while [ $_i -lt 200 ]; do
		if [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] &&
			[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = S ]; then
			return 0
		fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# A PID that does not exist.
free_pid() {
	_p=4000000
	while [ -d "/proc/$_p" ]; do _p=$((_p + 1)); done
	echo $_p
}

# jnum LINE KEY: the number after "KEY": in LINE.
jnum() { echo "$1" | sed -n "s/.*\"$2\": \([0-9.-]*\).*/\1/p"; }

# Counters of a JSON row line (the 9 values, space separated).
jrow() {
	_l=$1
	echo "$(jnum "$_l" kmalloc) $(jnum "$_l" kfree) $(jnum "$_l" kmalloc_mem)" \
		"$(jnum "$_l" kfree_mem) $(jnum "$_l" sched) $(jnum "$_l" up)" \
		"$(jnum "$_l" down) $(jnum "$_l" lock) $(jnum "$_l" unlock)"
}

# Sum of N space separated rows of 9 counters given on stdin.
sum_rows() {
	awk '{ for (i = 1; i <= 9; i++) s[i] += $i }
	     END { printf "%d %d %d %d %d %d %d %d %d\n", s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9] }'
}

# Human size as tracerctl -h prints it (powers of 1024, 1 decimal below 10).
human() {
	awk -v v="$1" 'BEGIN {
		if (v < 1024) { print v; exit }
		u = 0; split("K M G T P E", units, " ")
		while (v >= 1024 && u < 6) { v /= 1024; u++ }
		if (v < 9.95) printf "%.1f%s\n", v, units[u]
		else if (v < 1023.5) printf "%.0f%s\n", v, units[u]
		else printf "1.0%s\n", units[u + 1]
	}'
}

# An idle monitored process with known activity: tth runs OP N SIZE once
# monitored, then pauses.  Sets IDLE_PID.
start_idle() {
	rm -f "$TMP/fifo" "$TMP/done"
	mkfifo "$TMP/fifo"
	"$TTH" -w "$TMP/fifo" -d "$TMP/done" "$@" &
	IDLE_PID=$!
	BG="$BG $IDLE_PID"
	wait_sleeping "$IDLE_PID" tth || { tap_diag "tth did not start"; return 1; }
	"$T" add "$IDLE_PID" || return 1
	echo go >"$TMP/fifo"
	wait_file "$TMP/done" || { tap_diag "tth did not finish"; return 1; }
	wait_sleeping "$IDLE_PID" tth
}

# ---------------------------------------------------------------------------
# Phase "unloaded"
# ---------------------------------------------------------------------------

common_tests() {
	expect "--version prints the version" 0 "tracerctl " "$T" --version
	if [ -f /sys/module/tracer/version ]; then
		_v=$(cat /sys/module/tracer/version)
		expect "--version matches the module version" 0 "tracerctl $_v" "$T" --version
	fi
	expect "--help" 0 "Usage: tracerctl COMMAND" "$T" --help
	expect "help run" 0 "Usage: tracerctl run" "$T" help run
	expect "show --help" 0 "Usage: tracerctl show" "$T" show --help
	expect "no arguments: usage error" 2 "Usage:" "$T"
	expect "unknown command: usage error" 2 "unknown command 'frobnicate'" "$T" frobnicate
	expect "unknown option: usage error" 2 "unrecognized option" "$T" show --frobnicate
	expect "add without PID: usage error" 2 "no PID given" "$T" add
	expect "add abc: usage error" 2 "'abc' is not a PID" "$T" add abc
	expect "add 0: usage error" 2 "'0' is not a PID" "$T" add 0
	expect "remove -5: usage error" 2 "" "$T" remove -5
	expect "add 12x: usage error" 2 "'12x' is not a PID" "$T" add 1 12x
	expect "show -s bogus: usage error" 2 "unknown column 'bogus'" "$T" show -s bogus
	expect "watch -n 0: usage error" 2 "bad interval" "$T" watch -n 0
	expect "watch -c x: usage error" 2 "bad count" "$T" watch -c x
	expect "run without command: 125" 125 "no command given" "$T" run
	expect "status extra argument: usage error" 2 "unexpected argument" "$T" status foo
}

phase_unloaded() {
	if [ -d /sys/module/tracer ]; then
		tap_not_ok "tracer module not loaded" "it is loaded: phase 'unloaded' needs it unloaded"
		return
	fi
	_hint='is the tracer module loaded? try: sudo modprobe tracer'
	expect "status: not loaded, exit 3" 3 "module:     not loaded" "$T" status
	expect "status --json: loaded false, exit 3" 3 '"loaded": false' "$T" status --json
	expect "add: module not loaded, exit 3" 3 "$_hint" "$T" add 1
	expect "add -f: module not loaded, exit 3" 3 "$_hint" "$T" add -f 1
	expect "remove: module not loaded, exit 3" 3 "$_hint" "$T" remove 1
	expect "show: module not loaded, exit 3" 3 "$_hint" "$T" show
	expect "show --json: module not loaded, exit 3" 3 "$_hint" "$T" show --json 1
	expect "watch: module not loaded, exit 3" 3 "$_hint" "$T" watch -c 1
	rm -f "$TMP/ran"
	expect "run: module not loaded, exit 125" 125 "$_hint" "$T" run -- touch "$TMP/ran"
	if [ -e "$TMP/ran" ]; then
		tap_not_ok "run: command not run without the module" "it ran"
	else
		tap_ok "run: command not run without the module"
	fi
	rm -f "$TMP/counts"
	expect "run -o FILE: module not loaded, exit 125" 125 "$_hint" \
		"$T" run -o "$TMP/counts" -- true
	if [ -e "$TMP/counts" ]; then
		tap_not_ok "run -o FILE: not created without the module" "created"
	else
		tap_ok "run -o FILE: not created without the module"
	fi

	# The node may exist without the module (static nodes, devname alias).
	_made=''
	if [ ! -e /dev/tracer ]; then
		mknod -m 600 /dev/tracer c 10 42 && _made=1
	fi
	expect "add: /dev/tracer without the module, exit 3" 3 "$_hint" "$T" add 1
	expect "run: /dev/tracer without the module, exit 125" 125 "$_hint" "$T" run -- true
	expect "status with a stale /dev/tracer node: not loaded" 3 "not loaded" "$T" status
	[ -n "$_made" ] && rm -f /dev/tracer

	common_tests
}

# ---------------------------------------------------------------------------
# Phase "loaded"
# ---------------------------------------------------------------------------

test_status() {
	_v=$(cat /sys/module/tracer/version 2>/dev/null)
	t "$T" status
	want_rc 0
	want_in "$TMP/out" "module:     loaded, version $_v" "no version $_v"
	want_in "$TMP/out" "kernel:     $(uname -r)" "no kernel release"
	_m=$(cat /sys/module/tracer/parameters/monitored)
	grep -q "^monitored:  $_m process" "$TMP/out" || _e="$_e; monitored is not $_m"
	_x=$(cat /sys/module/tracer/parameters/missed)
	grep -q "^missed:     $_x event" "$TMP/out" || _e="$_e; missed is not $_x"
	grep -q "^map:        [0-9]* live allocation records*, capacity [0-9]*, [0-9]* lost" \
		"$TMP/out" || _e="$_e; no map line"
	for _h in kmalloc kfree sched up down lock unlock; do
		grep -q "^\(hooked: \|        \)    $_h  *[^ ]" "$TMP/out" || _e="$_e; no hooked $_h"
	done
	want_in "$TMP/out" "device:     /dev/tracer (10:42" "no device line"
	[ -z "$_e" ] || show_files "$TMP/out" "$TMP/err"
	tap_result "status: version, kernel, monitored, missed, map, hooked" "${_e#; }"

	t "$T" status --json
	want_rc 0
	want_in "$TMP/out" '"loaded": true' "not loaded true"
	want_in "$TMP/out" "\"version\": \"$_v\"" "no version"
	want_in "$TMP/out" "\"monitored\": $_m," "monitored is not $_m"
	_i=$(cat /sys/module/tracer/parameters/instances_missed)
	want_in "$TMP/out" "\"instances_missed\": $_i," "instances_missed is not $_i"
	want_in "$TMP/out" '"kmalloc": ["' "no hooked kmalloc list"
	[ -z "$_e" ] || show_files "$TMP/out"
	tap_result "status --json" "${_e#; }"
}

test_add_remove() {
	sleep 1000 &
	_p=$!
	BG="$BG $_p"
	sleep 1000 &
	_q=$!
	BG="$BG $_q"
	_none=$(free_pid)

	expect "add PID" 0 "" "$T" add "$_p"
	if monitored "$_p"; then tap_ok "add PID: row in /proc/tracer"; else tap_not_ok "add PID: row in /proc/tracer" "no row"; fi
	expect "add PID again: already monitored, exit 1" 1 "add $_p: already monitored" "$T" add "$_p"
	expect "remove PID" 0 "" "$T" remove "$_p"
	if monitored "$_p"; then tap_not_ok "remove PID: row gone" "still there"; else tap_ok "remove PID: row gone"; fi
	expect "remove PID again: not monitored, exit 1" 1 "remove $_p: not monitored" "$T" remove "$_p"
	expect "add a free PID: no such process, exit 1" 1 "add $_none: no such process" "$T" add "$_none"
	expect "remove a free PID: no such process, exit 1" 1 "remove $_none: no such process" \
		"$T" remove "$_none"

	expect "add several PIDs, one bad: exit 1" 1 "add $_none: no such process" \
		"$T" add "$_p" "$_none" "$_q"
	if monitored "$_p" && monitored "$_q"; then
		tap_ok "add several PIDs: the good ones added"
	else
		tap_not_ok "add several PIDs: the good ones added" "rows: $(proc_row "$_p") / $(proc_row "$_q")"
	fi
	expect "remove several PIDs, one not monitored: exit 1" 1 "remove 1: not monitored" \
		"$T" remove "$_p" 1 "$_q"
	if monitored "$_p" || monitored "$_q"; then
		tap_not_ok "remove several PIDs: the good ones removed" "still there"
	else
		tap_ok "remove several PIDs: the good ones removed"
	fi
	expect "add with a bad argument: nothing done, exit 2" 2 "is not a PID" "$T" add "$_p" x
	if monitored "$_p"; then
		tap_not_ok "add with a bad argument: nothing added" "$_p added"
		"$T" remove "$_p"
	else
		tap_ok "add with a bad argument: nothing added"
	fi

	# add -f: a process forked after the request is monitored too.
	rm -f "$TMP/ffifo"
	mkfifo "$TMP/ffifo"
	sh -c "read x <'$TMP/ffifo'; sleep 1000 & echo \$! >'$TMP/fchild'; wait" &
	_s=$!
	BG="$BG $_s"
	rm -f "$TMP/fchild"
	wait_sleeping "$_s" sh
	expect "add -f PID" 0 "" "$T" add -f "$_s"
	echo go >"$TMP/ffifo"
	wait_file "$TMP/fchild"
	_c=$(cat "$TMP/fchild" 2>/dev/null)
	BG="$BG $_c"
	if [ -n "$_c" ] && monitored "$_c"; then
		tap_ok "add -f: a child forked later is monitored"
	else
		tap_not_ok "add -f: a child forked later is monitored" "child ${_c:-?} has no row"
		show_files /proc/tracer
	fi
	"$T" remove "$_s" "$_c" >/dev/null 2>&1
	cleanup
}

test_permissions() {
	_mode=$(stat -c %a /dev/tracer)
	chmod 600 /dev/tracer
	expect "non-root, /dev/tracer 0600: permission denied, exit 4" 4 \
		"cannot open /dev/tracer: permission denied" "$ASUSER" $NOBODY $NOBODY "$T" add 1
	expect "non-root run, /dev/tracer 0600: exit 125" 125 "permission denied" \
		"$ASUSER" $NOBODY $NOBODY "$T" run -- true
	expect "non-root show works (/proc/tracer is world-readable)" 0 "PID" \
		"$ASUSER" $NOBODY $NOBODY "$T" show

	# As if a udev rule gave the user access.
	chmod 666 /dev/tracer
	sleep 1000 &
	_p=$!
	BG="$BG $_p"
	expect "non-root add of root's process: permission denied, exit 1" 1 \
		"add 1: permission denied" "$ASUSER" $NOBODY $NOBODY "$T" add 1
	"$T" add "$_p"
	expect "non-root remove of root's process: permission denied, exit 1" 1 \
		"remove $_p: permission denied" "$ASUSER" $NOBODY $NOBODY "$T" remove "$_p"
	"$T" remove "$_p"
	# shellcheck disable=SC2016 # expanded by the inner shell
	expect "non-root add and remove of its own process" 0 "" \
		"$ASUSER" $NOBODY $NOBODY sh -c '
			sleep 1000 & p=$!
			"$1" add $p || exit 1
			awk -v p=$p "\$1 == p { f = 1 } END { exit !f }" /proc/tracer || exit 2
			"$1" remove $p || exit 3
			kill $p' sh "$T"
	_hmode=$(stat -c %a /dev/tracer_helper)
	chmod 666 /dev/tracer_helper
	expect "non-root run" 0 '' \
		"$ASUSER" $NOBODY $NOBODY "$T" run --json -o "$TMP/nr.json" -- "$TTH" kmalloc_var 10 100
	_l=$(grep '^  {"pid": ' "$TMP/nr.json")
	_k=$(jnum "$_l" kmalloc_mem)
	if [ -n "$_k" ] && [ "$_k" -ge 1000 ] && grep -qF '"exit_status": 0' "$TMP/nr.json"; then
		tap_ok "non-root run: counts reported"
	else
		tap_not_ok "non-root run: counts reported" "kmalloc_mem '$_k' < 1000"
		show_files "$TMP/nr.json"
	fi
	t "$ASUSER" $NOBODY $NOBODY "$T" run -- cat /proc/self/status
	tap_result "non-root run: the command cannot gain privileges (no_new_privs)" \
		"$(grep -q '^NoNewPrivs:[[:space:]]*1$' "$TMP/out" || echo "exit status $RC, $(grep NoNewPrivs "$TMP/out")")"
	t "$T" run -- cat /proc/self/status
	tap_result "root run: no_new_privs not set" \
		"$(grep -q '^NoNewPrivs:[[:space:]]*0$' "$TMP/out" || echo "exit status $RC, $(grep NoNewPrivs "$TMP/out")")"
	chmod "$_hmode" /dev/tracer_helper
	chmod "$_mode" /dev/tracer
	cleanup
}

test_show() {
	start_idle kmalloc_var 1000 4096 || { tap_not_ok "show: idle process" "setup failed"; return; }
	_p=$IDLE_PID
	start_idle kmalloc_var 10 100 || { tap_not_ok "show: idle process" "setup failed"; return; }
	_q=$IDLE_PID
	_raw=$(proc_row "$_p")
	_rawq=$(proc_row "$_q")
	tap_diag "/proc/tracer rows: $_p: $_raw; $_q: $_rawq"

	t "$T" show
	_h=$(head -n 1 "$TMP/out" | tr -s ' ' | sed 's/^ //')
	want_rc 0
	[ "$_h" = "$HDR" ] || _e="$_e; header '$_h'"
	tap_result "show: exit 0, header" "${_e#; }"
	_row=$(awk -v p="$_p" '$1 == p { print $2; $1 = $2 = ""; print }' "$TMP/out" | tr -s ' ' | sed 's/^ //')
	_comm=$(echo "$_row" | head -n 1)
	_nums=$(echo "$_row" | tail -n 1)
	if [ "$_comm" = tth ] && [ "$_nums" = "$_raw" ]; then
		tap_ok "show: row = /proc/tracer row, with COMM"
	else
		tap_not_ok "show: row = /proc/tracer row, with COMM" "comm '$_comm', '$_nums' != '$_raw'"
		show_files "$TMP/out"
	fi
	# aligned: every line as long as the header (right-aligned last column)
	_w=$(awk 'NR == 1 { w = length($0) } length($0) != w { bad = 1 } END { print bad ? "no" : "yes" }' "$TMP/out")
	tap_result "show: columns aligned" "$([ "$_w" = yes ] || echo "line lengths differ")"

	t "$T" show "$_p"
	_n=$(awk 'NR > 1' "$TMP/out" | wc -l)
	tap_result "show PID: only that row" "$([ "$RC" = 0 ] && [ "$_n" = 1 ] || echo "exit status $RC, $_n rows")"

	t "$T" show --json
	_l=$(grep "\"pid\": $_p," "$TMP/out")
	_j=$(jrow "$_l")
	if [ "$RC" = 0 ] && [ "$_j" = "$_raw" ] && echo "$_l" | grep -qF '"comm": "tth"' &&
		head -n 1 "$TMP/out" | grep -qF '{"processes": ['; then
		tap_ok "show --json: same numbers"
	else
		tap_not_ok "show --json: same numbers" "exit status $RC, '$_j' != '$_raw'"
		show_files "$TMP/out"
	fi

	t "$T" show --csv
	_c=$(grep "^$_p,tth," "$TMP/out" | cut -d, -f3- | tr , ' ')
	_ch=$(head -n 1 "$TMP/out")
	if [ "$RC" = 0 ] && [ "$_c" = "$_raw" ] &&
		[ "$_ch" = "pid,comm,kmalloc,kfree,kmalloc_mem,kfree_mem,sched,up,down,lock,unlock" ]; then
		tap_ok "show --csv: header, same numbers"
	else
		tap_not_ok "show --csv: header, same numbers" "exit status $RC, '$_c' != '$_raw', header '$_ch'"
		show_files "$TMP/out"
	fi

	t "$T" show --csv --no-header "$_p"
	_e=''
	if [ "$(wc -l <"$TMP/out")" != 1 ] || ! grep -q "^$_p,tth," "$TMP/out"; then
		_e="output: $(cat "$TMP/out")"
	fi
	tap_result "show --csv --no-header: one line" "$_e"

	t "$T" show -h "$_p"
	_hk=$(awk -v p="$_p" '$1 == p { print $5, $6 }' "$TMP/out")
	_want="$(human "$(echo "$_raw" | cut -d' ' -f3)") $(human "$(echo "$_raw" | cut -d' ' -f4)")"
	if [ "$_hk" = "$_want" ] && echo "$_want" | grep -q '[KMG]'; then
		tap_ok "show -h: byte columns in K/M/G ($_hk)"
	else
		tap_not_ok "show -h: byte columns in K/M/G" "'$_hk', expected '$_want'"
		show_files "$TMP/out"
	fi

	t "$T" show -s kmalloc "$_q" "$_p"
	_o=$(awk 'NR > 1 { printf "%s ", $1 }' "$TMP/out")
	tap_result "show -s kmalloc: largest first" "$([ "$_o" = "$_p $_q " ] || echo "order $_o")"
	t "$T" show -s kmalloc -r "$_p" "$_q"
	_o=$(awk 'NR > 1 { printf "%s ", $1 }' "$TMP/out")
	tap_result "show -s kmalloc -r: smallest first" "$([ "$_o" = "$_q $_p " ] || echo "order $_o")"

	_none=$(free_pid)
	expect "show a PID not monitored: exit 1" 1 "show 1: not monitored" "$T" show 1
	expect "show a free PID: no such process, exit 1" 1 "show $_none: no such process" "$T" show "$_none"
	t "$T" show "$_p" 1
	tap_result "show PID PID-not-monitored: the row, exit 1" \
		"$([ "$RC" = 1 ] && grep -q "^ *$_p " "$TMP/out" || echo "exit status $RC")"

	test_watch "$_p" "$_raw"
	cleanup
}

test_watch() {
	_p=$1 _raw=$2
	t "$T" watch -n 0.2 -c 3 "$_p"
	_n=$(grep -c '^# ' "$TMP/out")
	_r=$(grep -c "^ *$_p  *tth " "$TMP/out")
	_z=$(awk -v p="$_p" '$1 == p { for (i = 3; i <= 11; i++) if ($i != "0") bad = 1 } END { print bad ? "no" : "yes" }' "$TMP/out")
	if [ "$RC" = 0 ] && [ "$_n" = 3 ] && [ "$_r" = 3 ] && [ "$_z" = yes ] &&
		grep -q "per second over 0\.[0-9]* s" "$TMP/out"; then
		tap_ok "watch -c 3 (not a terminal): 3 tables, rates 0 for an idle process"
	else
		tap_not_ok "watch -c 3 (not a terminal): 3 tables, rates 0 for an idle process" \
			"exit status $RC, $_n tables, $_r rows, zero rates: $_z"
		show_files "$TMP/out" "$TMP/err"
	fi

	t "$T" watch -t -n 0.2 -c 2 "$_p"
	_v=$(awk -v p="$_p" '$1 == p { $1 = $2 = ""; print }' "$TMP/out" | tr -s ' ' | sed 's/^ //' | sort -u)
	if [ "$RC" = 0 ] && [ "$_v" = "$_raw" ] && [ "$(grep -c '^# ' "$TMP/out")" = 2 ]; then
		tap_ok "watch -t: totals = /proc/tracer"
	else
		tap_not_ok "watch -t: totals = /proc/tracer" "exit status $RC, '$_v' != '$_raw'"
		show_files "$TMP/out"
	fi

	t "$T" watch --csv -t -n 0.2 -c 2 "$_p"
	_v=$(grep "^[0-9.]*,$_p,tth," "$TMP/out" | cut -d, -f4- | tr , ' ' | sort -u)
	if [ "$RC" = 0 ] && [ "$(head -n 1 "$TMP/out" | cut -d, -f1-3)" = "time,pid,comm" ] &&
		[ "$(grep -c ",$_p,tth," "$TMP/out")" = 2 ] && [ "$_v" = "$_raw" ]; then
		tap_ok "watch --csv: time column, a line per interval"
	else
		tap_not_ok "watch --csv: time column, a line per interval" "exit status $RC, '$_v'"
		show_files "$TMP/out"
	fi

	t "$T" watch --json -n 0.2 -c 2 "$_p"
	if [ "$RC" = 0 ] && [ "$(grep -c '^{"time": [0-9.]*, "interval": 0\.[0-9]*, "rates": true, "processes": \[{"pid": '"$_p"',' "$TMP/out")" = 2 ] &&
		[ "$(wc -l <"$TMP/out")" = 2 ]; then
		tap_ok "watch --json: a JSON line per interval"
	else
		tap_not_ok "watch --json: a JSON line per interval" "exit status $RC"
		show_files "$TMP/out"
	fi

	t "$T" watch -n 0.2 -c 1 1
	tap_result "watch PID not monitored: warned, empty table" \
		"$([ "$RC" = 0 ] && grep -qF "watch 1: not monitored" "$TMP/err" || echo "exit status $RC")"

	# On a terminal: full screen, q quits, the terminal is restored.
	t "$PTYRUN" -d 1.5 -k q "$TMP/pty" -- "$T" watch -n 0.3
	want_rc 0
	want_in "$TMP/err" "termios restored" "terminal not restored"
	want_in "$TMP/pty" "$(printf '\033[?1049h')" "no alternate screen"
	want_in "$TMP/pty" "$(printf '\033[?1049l')" "alternate screen not left"
	want_in "$TMP/pty" "$(printf '\033[?25h')" "cursor not shown again"
	want_in "$TMP/pty" "tracerctl watch" "no title"
	grep -q "$_p *tth" "$TMP/pty" || _e="$_e; no row of $_p"
	[ -z "$_e" ] || { show_files "$TMP/err"; od -c "$TMP/pty" | head -n 20 | sed 's/^/#   /'; }
	tap_result "watch on a terminal: q quits, terminal restored" "${_e#; }"

	t "$PTYRUN" -d 1.5 -k '\003' "$TMP/pty" -- "$T" watch -n 0.3
	want_rc 0
	want_in "$TMP/err" "termios restored" "terminal not restored"
	want_in "$TMP/pty" "$(printf '\033[?1049l')" "alternate screen not left"
	tap_result "watch on a terminal: Ctrl-C quits cleanly" "${_e#; }"

	t "$PTYRUN" -d 1 -k '>' -k q "$TMP/pty" -- "$T" watch -n 0.3 -s kmalloc
	if [ "$RC" = 0 ] && grep -qF "sorted by kmalloc" "$TMP/pty" && grep -qF "sorted by kfree" "$TMP/pty"; then
		tap_ok "watch on a terminal: > sorts by the next column"
	else
		tap_not_ok "watch on a terminal: > sorts by the next column" "exit status $RC"
	fi
}

# run_row FMT OP N SIZE: run tth under tracerctl run, print the 9 counters.
run_row() {
	_fmt=$1
	shift
	rm -f "$TMP/run.out"
	case $_fmt in
	table)
		"$T" run -o "$TMP/run.out" -- "$TTH" "$@" || return 1
		awk 'NR == 3 { $1 = $2 = ""; print }' "$TMP/run.out" | tr -s ' ' | sed 's/^ //'
		;;
	json)
		"$T" run --json -o "$TMP/run.out" -- "$TTH" "$@" || return 1
		jrow "$(grep '^  {"pid": ' "$TMP/run.out")"
		;;
	csv)
		"$T" run --csv -o "$TMP/run.out" -- "$TTH" "$@" || return 1
		sed -n '2p' "$TMP/run.out" | cut -d, -f4- | tr , ' '
		;;
	esac
}

# exact NAME FMT OP N SIZE: tracerctl run counts for OP with 0 and N
# iterations differ by exactly N calls and N*SIZE bytes of kmalloc and kfree.
exact() {
	_name=$1 _fmt=$2 _op=$3 _n=$4 _sz=$5
	_want="$_n $_n $((_n * _sz)) $((_n * _sz))"
	_try=0
	while [ $_try -lt 3 ]; do
		_try=$((_try + 1))
		_a=$(run_row "$_fmt" "$_op" 0 "$_sz") || break
		_b=$(run_row "$_fmt" "$_op" "$_n" "$_sz") || break
		_d=$(printf '%s\n%s\n' "$_a" "$_b" | awk 'NR == 1 { for (i = 1; i <= 4; i++) a[i] = $i }
			NR == 2 { printf "%d %d %d %d", $1 - a[1], $2 - a[2], $3 - a[3], $4 - a[4] }')
		if [ "$_d" = "$_want" ]; then
			tap_ok "$_name (attempt $_try)"
			return
		fi
		tap_diag "attempt $_try: n=0: $_a; n=$_n: $_b; difference $_d, expected $_want"
	done
	tap_not_ok "$_name" "kmalloc kfree kmalloc_mem kfree_mem differ by '${_d:-?}', expected '$_want'"
	show_files "$TMP/run.out"
}

test_run() {
	expect "run: exit status of the command (7)" 7 "exit status 7" "$T" run -- sh -c 'exit 7'
	expect "run: killed by a signal: 128+9" 137 "killed by signal 9" "$T" run -- sh -c 'kill -9 $$'
	expect "run: command not found: 127" 127 "cannot execute 'no-such-command'" \
		"$T" run -- no-such-command
	printf 'x\n' >"$TMP/noexec"
	chmod 644 "$TMP/noexec"
	expect "run: not executable: 126" 126 "Permission denied" "$T" run -- "$TMP/noexec"
	expect "run: options of the command are its own" 0 "exit status 0" "$T" run ls -l /

	t "$T" run -- true
	want_rc 0
	[ -s "$TMP/out" ] && _e="$_e; stdout not empty"
	_pid=$(sed -n "1s/^tracerctl run: pid \([0-9]*\), exit status 0, [0-9.]* s: true\$/\1/p" "$TMP/err")
	[ -n "$_pid" ] || _e="$_e; no summary line"
	_h=$(sed -n 2p "$TMP/err" | tr -s ' ' | sed 's/^ //')
	[ "$_h" = "$HDR" ] || _e="$_e; header '$_h'"
	awk -v p="$_pid" 'NR == 3 && $1 == p && $2 == "true" && $3 > 0 { f = 1 } END { exit !f }' \
		"$TMP/err" || _e="$_e; no row for $_pid"
	[ -z "$_e" ] || show_files "$TMP/err"
	tap_result "run: summary and row on stderr" "${_e#; }"
	if monitored "$_pid"; then
		tap_not_ok "run: the process left /proc/tracer" "row of $_pid still there"
	else
		tap_ok "run: the process left /proc/tracer"
	fi

	expect "run -o in a missing directory: exit 125" 125 "cannot open '$TMP/nodir/x'" \
		"$T" run -o "$TMP/nodir/x" -- true

	t "$T" run -o "$TMP/o.txt" -- sh -c 'echo hello'
	if [ "$RC" = 0 ] && [ "$(cat "$TMP/out")" = hello ] && [ ! -s "$TMP/err" ] &&
		grep -q "^tracerctl run: pid [0-9]*, exit status 0, [0-9.]* s: sh -c 'echo hello'\$" \
			"$TMP/o.txt"; then
		tap_ok "run -o FILE: counts in FILE, stdout the command's"
	else
		tap_not_ok "run -o FILE: counts in FILE, stdout the command's" "exit status $RC"
		show_files "$TMP/out" "$TMP/err" "$TMP/o.txt"
	fi

	exact "run: n=1000 kmalloc(1000) counted exactly (table)" table kmalloc_var 1000 1000
	exact "run: n=1000 kmalloc(72) counted exactly (JSON)" json kmalloc_const 1000 72
	exact "run: n=500 kzalloc(333) counted exactly (CSV)" csv kzalloc_var 500 333

	t "$T" run --json -o - -- "$TTH" kmalloc_var 100 100
	_l=$(grep '^  {"pid": ' "$TMP/out")
	_tl=$(grep '^ "total": ' "$TMP/out")
	_p=$(jnum "$_l" pid)
	want_rc 0
	grep -q "^{\"command\": \[\"$TTH\", \"kmalloc_var\", \"100\", \"100\"\], \"pid\": $_p, \"exit_status\": 0, \"signal\": null, \"elapsed\": [0-9.]*,\$" \
		"$TMP/out" || _e="$_e; bad first line"
	[ "$(jrow "$_l")" = "$(jrow "$_tl")" ] || _e="$_e; total != row"
	[ -n "$(jnum "$_l" ppid)" ] || _e="$_e; no ppid"
	[ -z "$_e" ] || show_files "$TMP/out"
	tap_result "run --json: command, pid, exit status, total = row" "${_e#; }"

	t "$T" run --json -o - -- sh -c 'kill -TERM $$'
	tap_result "run --json: signal" "$([ "$RC" = 143 ] && grep -qF '"exit_status": 143, "signal": 15,' "$TMP/out" || echo "exit status $RC")"

	# SIGTERM to tracerctl goes to the command; the counts are printed.
	"$T" run -o "$TMP/term.txt" -- sleep 100 &
	_tp=$!
	sleep 0.5
	_i=0
	while [ $_i -lt 50 ] && ! grep -q '^sleep$' /proc/*/comm 2>/dev/null; do sleep 0.1; _i=$((_i + 1)); done
	sleep 0.2
	kill -TERM $_tp
	wait $_tp
	RC=$?
	if [ "$RC" = 143 ] && grep -qF "killed by signal 15" "$TMP/term.txt"; then
		tap_ok "run: SIGTERM passed on to the command, counts printed, 143"
	else
		tap_not_ok "run: SIGTERM passed on to the command, counts printed, 143" "exit status $RC"
		show_files "$TMP/term.txt"
	fi
}

test_run_follow() {
	# Two children: a row per process, parent links, total = sum.
	_ok=''
	_try=0
	while [ $_try -lt 3 ] && [ -z "$_ok" ]; do
		_try=$((_try + 1))
		t "$T" run -f --json -o - -- sh -c "'$TTH' kmalloc_var 100 500 & '$TTH' kmalloc_var 200 500 & wait"
		_sh=$(sed -n 's/.*"pid": \([0-9]*\), "exit_status".*/\1/p' "$TMP/out")
		_rows=$(grep -c '^  {"pid": ' "$TMP/out")
		_shl=$(grep "^  {\"pid\": $_sh, " "$TMP/out")
		_kids=$(grep '^  {"pid": ' "$TMP/out" | grep "\"ppid\": $_sh, \"comm\": \"tth\"")
		_nk=$(echo "$_kids" | grep -c .)
		want_rc 0
		[ "$_rows" = 3 ] || _e="$_e; $_rows rows"
		echo "$_shl" | grep -qF '"comm": "sh"' || _e="$_e; no sh row"
		[ "$_nk" = 2 ] || _e="$_e; $_nk tth rows with ppid $_sh"
		_sum=$(grep '^  {"pid": ' "$TMP/out" | while read -r _x; do jrow "$_x"; done | sum_rows)
		_tot=$(jrow "$(grep '^ "total": ' "$TMP/out")")
		[ "$_sum" = "$_tot" ] || _e="$_e; total '$_tot' != sum '$_sum'"
		if [ -n "$_e" ]; then
			show_files "$TMP/out" "$TMP/err"
			break
		fi
		# The two tth rows differ by exactly 100 kmalloc of 500 bytes.
		_d=$(echo "$_kids" | while read -r _x; do jrow "$_x"; done | sort -n |
			awk 'NR == 1 { for (i = 1; i <= 4; i++) a[i] = $i }
			     NR == 2 { printf "%d %d %d %d", $1 - a[1], $2 - a[2], $3 - a[3], $4 - a[4] }')
		if [ "$_d" = "100 100 50000 50000" ]; then
			_ok=1
		else
			tap_diag "attempt $_try: tth rows differ by $_d, expected 100 100 50000 50000"
			show_files "$TMP/out"
		fi
	done
	tap_result "run -f: a row per process, parent links, total = sum" "${_e#; }"
	if [ -n "$_ok" ]; then tap_ok "run -f: children counted exactly (attempt $_try)"; else
		tap_not_ok "run -f: children counted exactly" "difference '${_d:-?}'"; fi

	# Depth 2: sh -> sh -> tth.
	t "$T" run -f --csv -o - -- sh -c "sh -c \"'$TTH' nop 0; exit 3\" & wait \$!; exit \$?"
	want_rc 3
	_h=$(head -n 1 "$TMP/out")
	[ "$_h" = "pid,ppid,comm,kmalloc,kfree,kmalloc_mem,kfree_mem,sched,up,down,lock,unlock" ] ||
		_e="$_e; header '$_h'"
	_tth=$(grep '^[0-9]*,[0-9]*,tth,' "$TMP/out")
	_mid=$(grep "^$(echo "$_tth" | cut -d, -f2),[0-9]*,sh," "$TMP/out")
	_top=$(grep "^$(echo "$_mid" | cut -d, -f2),[0-9]*,sh," "$TMP/out")
	[ -n "$_tth" ] && [ -n "$_mid" ] && [ -n "$_top" ] || _e="$_e; no sh -> sh -> tth chain"
	[ "$(grep -c . "$TMP/out")" = 5 ] || _e="$_e; not 3 rows + header + total"
	_sum=$(grep -v '^pid,\|^total,' "$TMP/out" | cut -d, -f4- | tr , ' ' | sum_rows)
	_tot=$(grep '^total,,,' "$TMP/out" | cut -d, -f4- | tr , ' ')
	[ "$_sum" = "$_tot" ] || _e="$_e; total '$_tot' != sum '$_sum'"
	[ -z "$_e" ] || show_files "$TMP/out" "$TMP/err"
	tap_result "run -f --csv: grandchildren followed, total line = sum" "${_e#; }"

	# An orphan: tracerctl waits for it (child subreaper).
	t "$T" run -f -- sh -c 'sleep 1 & exit 0'
	want_rc 0
	grep -q "^tracerctl run: pid [0-9]*, exit status 0, [1-9][0-9.]* s, 2 processes: sh -c 'sleep 1 & exit 0'\$" \
		"$TMP/err" || _e="$_e; not 2 processes after >= 1 s"
	grep -q "^ *[0-9]*  *[0-9]*  *sleep " "$TMP/err" || _e="$_e; no sleep row"
	_sum=$(awk 'NR > 2 && NF == 12 { $1 = $2 = $3 = ""; print }' "$TMP/err" | sum_rows)
	_tot=$(awk '$1 == "total" { $1 = ""; print }' "$TMP/err" | tr -s ' ' | sed 's/^ //')
	[ "$_sum" = "$_tot" ] || _e="$_e; total line '$_tot' != sum '$_sum'"
	[ -z "$_e" ] || show_files "$TMP/err"
	tap_result "run -f: waits for orphans, table total line = sum" "${_e#; }"
}

phase_loaded() {
	if [ ! -d /sys/module/tracer ] || [ ! -c /dev/tracer ]; then
		tap_not_ok "tracer module loaded" "phase 'loaded' needs tracer.ko loaded"
		return
	fi
	_helper_loaded=''
	if [ ! -c /dev/tracer_helper ] && [ -f "$MODDIR/tracer_test_helper.ko" ]; then
		insmod "$MODDIR/tracer_test_helper.ko" && _helper_loaded=1
	fi
	if [ -c /dev/tracer_helper ]; then
		tap_ok "test helper /dev/tracer_helper present"
	else
		tap_not_ok "test helper /dev/tracer_helper present" "no /dev/tracer_helper and no $MODDIR/tracer_test_helper.ko"
	fi
	_before=$(awk 'NR > 1' /proc/tracer | wc -l)

	test_status
	test_add_remove
	test_permissions
	test_show
	test_run
	test_run_follow
	test_cgroups
	common_tests

	cleanup
	sleep 0.2
	_after=$(awk 'NR > 1' /proc/tracer | wc -l)
	tap_result "no row left behind" "$([ "$_after" = "$_before" ] || echo "$_before rows before, $_after after")"
	_m=$(cat /sys/module/tracer/parameters/missed)
	tap_diag "missed events: $_m; map: $(cat /sys/module/tracer/parameters/map)"
	[ -n "$_helper_loaded" ] && rmmod tracer_test_helper
}

tap_header
case $PHASE in
unloaded) phase_unloaded ;;
loaded) phase_loaded ;;
*)
	echo "usage: run.sh unloaded|loaded" >&2
	exit 2
	;;
esac
cleanup
rm -rf "$TMP"
tap_done
