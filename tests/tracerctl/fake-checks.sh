#!/bin/bash
# tests/tracerctl/fake-checks.sh TRACERCTL PTYRUN: output checks of tracerctl
# against the fake /proc/tracer and /sys/module/tracer of fakeenv.sh (run it
# through fakeenv.sh; host-check.sh does, with an ASan/UBSan build).
# Prints TAP (scripts/tap.sh).
set -uo pipefail
T=$1 PTYRUN=$2
# shellcheck source=scripts/tap.sh
. "$(dirname "$0")/../../scripts/tap.sh"
tmp=$(mktemp -d /tmp/tracerctl-fc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1

tap_header

# expect NAME RC CMD...: exit status RC, no sanitizer report; $tmp/out, $tmp/err
expect() {
	local name=$1 want=$2 rc=0
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if grep -q 'runtime error\|AddressSanitizer\|LeakSanitizer' "$tmp/err"; then
		tap_not_ok "$name" "sanitizer: $(grep -m1 'runtime error\|ERROR' "$tmp/err")"
		head -n 30 "$tmp/err" | tap_indent
		return 1
	fi
	if [ "$rc" != "$want" ]; then
		tap_not_ok "$name" "exit status $rc, expected $want"
		cat "$tmp/out" "$tmp/err" | head -n 30 | tap_indent
		return 1
	fi
	return 0
}

# same NAME WANT GOT
same() { tap_eq "$1" "$3" "$2"; }

if expect "show" 0 "$T" show; then
	same "show: aligned table, names sanitized" \
"    PID  COMM          kmalloc  kfree  kmalloc_mem  kfree_mem  sched  up  down  lock  unlock
4194301  fake-1            300    200   3000000000       1536      7   1     1     2       3
4194302  we\"ird\\ ?é?x      600    400   6000000000       3072     14   2     1     2       3
4194303  fake-3            900    600   9000000000       4608     21   3     1     2       3" \
		"$(cat "$tmp/out")"
fi
expect "show -h" 0 "$T" show -h -s kmalloc 4194301 4194303 &&
	same "show -h -s kmalloc PID PID: human sizes, order" \
		"4194303 8.4G 4.5K|4194301 2.8G 1.5K|" \
		"$(awk 'NR > 1 { printf "%s %s %s|", $1, $5, $6 }' "$tmp/out")"
expect "show --json" 0 "$T" show --json 4194302 &&
	same "show --json: escaping" \
		'{"processes": [
  {"pid": 4194302, "comm": "we\"ird\\ \u0001é\u00ffx", "kmalloc": 600, "kfree": 400, "kmalloc_mem": 6000000000, "kfree_mem": 3072, "sched": 14, "up": 2, "down": 1, "lock": 2, "unlock": 3}
]}' "$(cat "$tmp/out")"
expect "show --csv" 0 "$T" show --csv -s comm -r &&
	same "show --csv -s comm -r: quoting, order" \
		"pid,comm,kmalloc,kfree,kmalloc_mem,kfree_mem,sched,up,down,lock,unlock
4194302,\"we\"\"ird\\ $(printf '\001\303\251\377')x\",600,400,6000000000,3072,14,2,1,2,3
4194303,fake-3,900,600,9000000000,4608,21,3,1,2,3
4194301,fake-1,300,200,3000000000,1536,7,1,1,2,3" "$(cat "$tmp/out")"
expect "show a missing PID" 1 "$T" show 4194301 4194304 &&
	same "show PID missing-PID: row, message" "4194301|tracerctl: show 4194304: no such process" \
		"$(awk 'NR > 1 { print $1 }' "$tmp/out")|$(cat "$tmp/err")"
expect "watch -t" 0 "$T" watch -t -n 0.1 -c 3 &&
	same "watch -t -c 3: 3 tables of 3 rows" "3 9" \
		"$(grep -c '^# ' "$tmp/out") $(grep -c '^4194' "$tmp/out")"
expect "watch rates" 0 "$T" watch -n 0.1 -c 2 --csv 4194303 &&
	same "watch --csv rates of a constant table: 0" "0.000,0.000,0.000,0.000,0.000,0.000,0.000,0.000,0.000" \
		"$(tail -n 1 "$tmp/out" | cut -d, -f4- | sort -u)"
expect "watch --json" 0 "$T" watch -n 0.1 -c 2 --json -s pid -r &&
	same "watch --json: 2 lines, reversed pid order" "2 4194303" \
		"$(wc -l <"$tmp/out") $(head -n 1 "$tmp/out" | sed 's/.*"processes": \[{"pid": \([0-9]*\),.*/\1/')"
if expect "watch on a terminal, every key" 0 "$PTYRUN" -s 12x70 -d 0.3 -k '>' -k '>>>>>>>>>>>>>' \
	-k '<' -k '\033[C' -k '\033[D' -k r -k t -k h -k + -k - -k ' ' -k x -k q \
	"$tmp/pty" -- "$T" watch -n 0.2; then
	if grep -q 'termios restored' "$tmp/err" && grep -qF 'tracerctl watch' "$tmp/pty"; then
		tap_ok "watch on a terminal: keys, q, terminal restored"
	else
		tap_not_ok "watch on a terminal: keys, q, terminal restored" "$(cat "$tmp/err")"
	fi
fi
if expect "watch on a narrow terminal" 0 "$PTYRUN" -s 5x20 -d 0.5 -k q "$tmp/pty" -- "$T" watch -n 0.2; then
	tap_ok "watch on a 5x20 terminal"
fi
expect "status" 0 "$T" status &&
	same "status: parameters, hooks, kretprobe instances missed (source=kprobe)" \
		"parameters: source=kprobe maxactive=512 map_bits=14|hooked:     kmalloc  __kmalloc,kmalloc_trace|instances:  7 kmalloc calls of any process found no kretprobe instance (raise maxactive if it grows fast)" \
		"$(grep '^parameters:' "$tmp/out")|$(grep '^hooked:' "$tmp/out")|$(grep '^instances:' "$tmp/out")"
expect "status --json" 0 "$T" status --json &&
	same "status --json: hooked lists, instances_missed" '"kmalloc": ["__kmalloc", "kmalloc_trace"]|"instances_missed": 7' \
		"$(grep -o '"kmalloc": \[[^]]*\]' "$tmp/out")|$(grep -o '"instances_missed": [0-9]*' "$tmp/out")"
echo tracepoint >/sys/module/tracer/parameters/source
expect "status, tracepoint source" 0 "$T" status &&
	same "status: no instances line with source=tracepoint (no kretprobes)" "" "$(grep '^instances:' "$tmp/out")"
echo kprobe >/sys/module/tracer/parameters/source
expect "show --by cgroup" 0 "$T" show --by cgroup -h &&
	same "show --by cgroup: the totals, unescaped paths, human sizes" \
"CGROUP                                   PROCS      kmalloc        kfree  kmalloc_mem    kfree_mem        sched           up         down         lock       unlock
/system.slice/nginx.service                  3          100           90         6.2K         5.6K           50            1            2            3            4
/user.slice/with space                       0            5            5          320          320            1            0            0            0            0" \
		"$(cat "$tmp/out")"
expect "show --by cgroup --json" 0 "$T" show --by cgroup --json &&
	same "show --by cgroup --json: unit named" \
		'  {"cgroup": "/system.slice/nginx.service", "unit": "nginx.service", "procs": 3, "kmalloc": 100, "kfree": 90, "kmalloc_mem": 6400, "kfree_mem": 5760, "sched": 50, "up": 1, "down": 2, "lock": 3, "unlock": 4},' \
		"$(sed -n 2p "$tmp/out")"
expect "show --by cgroup --csv" 0 "$T" show --by cgroup --csv &&
	same "show --by cgroup --csv" "/user.slice/with space,0,5,5,320,320,1,0,0,0,0" "$(tail -n 1 "$tmp/out")"
expect "show --by bogus" 2 "$T" show --by bogus && tap_ok "show --by bogus: usage error"
expect "export" 0 "$T" export &&
	same "export: a cgroup's counter, labelled by cgroup and unit" \
		'tracer_module_loaded 1|tracer_kretprobe_instances_missed_total 7|tracer_monitored_cgroups 2|tracer_kmalloc_calls_total{cgroup="/system.slice/nginx.service",unit="nginx.service"} 100|tracer_kfree_bytes_total{cgroup="/user.slice/with space"} 320' \
		"$(grep -E '^tracer_kmalloc_calls_total\{cgroup="/system|^tracer_kfree_bytes_total\{cgroup="/user|^tracer_module_loaded|^tracer_monitored_cgroups|^tracer_kretprobe_instances_missed_total' "$tmp/out" | tr '\n' '|' | sed 's/|$//')"
if [ -n "${PROMTOOL:-}" ]; then
	cp "$tmp/out" "$tmp/prom"
	if "$PROMTOOL" check metrics <"$tmp/prom" >"$tmp/err" 2>&1; then
		tap_ok "export: promtool check metrics"
	else
		tap_not_ok "export: promtool check metrics" "$(tr '\n' '|' <"$tmp/err")"
	fi
fi
expect "export --pids" 0 "$T" export --pids &&
	same "export --pids: per-process series, names made safe" \
		'tracer_process_kmalloc_calls_total{pid="4194301",comm="fake-1"} 300|tracer_process_kmalloc_calls_total{pid="4194302",comm="we\"ird\\ ?é?x"} 600' \
		"$(grep -E '^tracer_process_kmalloc_calls_total\{pid="419430[12]"' "$tmp/out" | tr '\n' '|' | sed 's/|$//')"
if [ -n "${PROMTOOL:-}" ] && cp "$tmp/out" "$tmp/prom" &&
	"$PROMTOOL" check metrics <"$tmp/prom" >"$tmp/err" 2>&1; then
	tap_ok "export --pids: promtool check metrics"
elif [ -n "${PROMTOOL:-}" ]; then
	tap_not_ok "export --pids: promtool check metrics" "$(tr '\n' '|' <"$tmp/err")"
fi
mkdir -p "$tmp/tf"
expect "export -o" 0 "$T" export -o "$tmp/tf/tracer.prom" &&
	same "export -o FILE: written whole (renamed into place), mode 0644, nothing else left" \
		"tracer.prom 644 yes" \
		"$(cd "$tmp/tf" && ls) $(stat -c %a "$tmp/tf/tracer.prom") $(grep -q '^tracer_module_loaded 1$' "$tmp/tf/tracer.prom" && echo yes)"
expect "export -o into a missing directory" 1 "$T" export -o "$tmp/nodir/x.prom" &&
	tap_ok "export -o into a missing directory: exit 1"
expect "show, map not full" 0 "$T" show && same "show: no warning while the map never overflowed" "" \
	"$(cat "$tmp/err")"
cp /sys/module/tracer/parameters/map "$tmp/map"
echo "records=262144 capacity=262144 overflow=1234" >/sys/module/tracer/parameters/map
expect "show, map overflowed" 0 "$T" show && same "show: warns that the map overflowed, names the fix" \
	"tracerctl: warning: the allocation map was full 1234 times (capacity 262144 records): kfree_mem is low; reload the module with a larger map_max_bits (see tracer(4))" \
	"$(cat "$tmp/err")"
expect "status, map overflowed" 0 "$T" status && same "status: the warning, and the map line" \
	"tracerctl: warning: the allocation map was full 1234 times (capacity 262144 records): kfree_mem is low; reload the module with a larger map_max_bits (see tracer(4))|map:        262144 live allocation records, capacity 262144, 1234 lost (map was full: kfree_mem is low; raise map_max_bits)" \
	"$(cat "$tmp/err")|$(grep '^map:' "$tmp/out")"
expect "status --json, map overflowed" 0 "$T" status --json &&
	same "status --json: the warning on stderr, the map in the JSON" \
	"tracerctl: warning: the allocation map was full 1234 times (capacity 262144 records): kfree_mem is low; reload the module with a larger map_max_bits (see tracer(4))| \"map\": {\"records\": 262144, \"capacity\": 262144, \"overflow\": 1234}," \
	"$(cat "$tmp/err")|$(grep '"map":' "$tmp/out")"
expect "show --by cgroup, map overflowed" 0 "$T" show --by cgroup --csv &&
	same "show --by cgroup: the warning too" "1|tracerctl: warning: the allocation map was full 1234 times" \
	"$(grep -c '^/system.slice/nginx.service,' "$tmp/out")|$(cut -d'(' -f1 "$tmp/err" | sed 's/ $//')"
# A later module may add fields to the map parameter, anywhere: read by key.
echo "records_peak=9 overflow_max=99 overflow=7 records=5 capacity=8 resizes=2" >/sys/module/tracer/parameters/map
expect "show, map with more fields" 0 "$T" show &&
	same "show: map read by key (fields added, order changed)" \
	"tracerctl: warning: the allocation map was full 7 times (capacity 8 records): kfree_mem is low; reload the module with a larger map_max_bits (see tracer(4))" \
	"$(cat "$tmp/err")"
expect "status, map with more fields" 0 "$T" status &&
	same "status: map line read by key" \
	"map:        5 live allocation records, capacity 8, 7 lost (map was full: kfree_mem is low; raise map_max_bits)" \
	"$(grep '^map:' "$tmp/out")"
expect "export, map with more fields" 0 "$T" export &&
	same "export: map series read by key" \
	"tracer_map_overflow_total 7|tracer_map_records 5|tracer_map_capacity 8" \
	"$(grep -E '^tracer_map_' "$tmp/out" | tr '\n' '|' | sed 's/|$//')"
if expect "watch on a terminal, map with more fields" 0 "$PTYRUN" -s 12x100 -d 0.3 -k q \
	"$tmp/pty" -- "$T" watch -n 0.2; then
	if grep -qF 'map 5/8, 7 lost' "$tmp/pty"; then
		tap_ok "watch: title line's map read by key"
	else
		tap_not_ok "watch: title line's map read by key" "got '$(grep -aoE 'map [^ ]+' "$tmp/pty" | head -n 1)'"
	fi
fi
cp "$tmp/map" /sys/module/tracer/parameters/map
expect "show --by cgroup to a full disk" 1 bash -c '"$0" show --by cgroup >/dev/full' "$T" &&
	same "show --by cgroup: a write error fails" "tracerctl: write error: No space left on device" \
	"$(cat "$tmp/err")"
expect "status to a full disk" 1 bash -c '"$0" status >/dev/full' "$T" &&
	same "status: a write error fails" "tracerctl: write error: No space left on device" \
	"$(cat "$tmp/err")"
expect "status --json to a full disk" 1 bash -c '"$0" status --json >/dev/full' "$T" &&
	tap_ok "status --json: a write error fails"
expect "export to a full disk" 1 bash -c '"$0" export >/dev/full' "$T" &&
	tap_ok "export: a write error fails"
expect "export with an argument" 2 "$T" export extra &&
	same "export ARG: the error, then the usage" "tracerctl: export: unexpected argument 'extra'|Usage: tracerctl export [--pids] [-o FILE]" \
	"$(head -n 2 "$tmp/err" | tr '\n' '|' | sed 's/|$//')"
printf 'PID kmalloc kfree kmalloc_mem kfree_mem sched up down lock unlock\n' >/proc/tracer
expect "empty table" 0 "$T" show --json && same "show --json, no process" '{"processes": []}' "$(cat "$tmp/out")"
expect "empty table, watch" 0 "$T" watch -n 0.1 -c 1 && tap_ok "watch, no process"
printf 'PID kmalloc extra kfree\n4194301 1 99 2\n' >/proc/tracer
expect "other columns" 0 "$T" show --csv &&
	same "show: columns found by name, unknown ones ignored" "4194301,fake-1,1,2,0,0,0,0,0,0,0" \
		"$(tail -n 1 "$tmp/out")"
printf 'garbage\n' >/proc/tracer
expect "bad header: exit 1" 1 "$T" show && same "bad header: message" \
	"tracerctl: /proc/tracer: unexpected format" "$(cat "$tmp/err")"
printf 'PID kmalloc\n12 x\n' >/proc/tracer
expect "bad row: exit 1" 1 "$T" show && tap_ok "bad row: exit 1"
tap_done
