# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# tests/tracerctl/cgroup.sh: the in-guest tests of tracerctl's cgroup commands
# (add/remove --cgroup and --unit, show --by cgroup, export), sourced by run.sh,
# whose helpers (t, expect, monitored, wait_sleeping, wait_file, jrow) they use.

# The totals of cgroup REL (9 counters) from show --by cgroup --json.
cg_total() {
	jrow "$("$T" show --by cgroup --json | grep -F "\"cgroup\": \"$1\"")"
}

# Start tth OP N SIZE in cgroup directory DIR: started outside it (its exec is
# nobody's), moved in, told to go; it sleeps there once done (CG_PID).
cg_start() {
	_dir=$1
	shift
	rm -f "$TMP/cgfifo" "$TMP/cgdone"
	mkfifo "$TMP/cgfifo"
	"$TTH" -w "$TMP/cgfifo" -d "$TMP/cgdone" "$@" &
	CG_PID=$!
	wait_sleeping "$CG_PID" tth || tap_diag "tth did not start"
	echo "$CG_PID" >"$_dir/cgroup.procs"
	echo go >"$TMP/cgfifo"
	wait_file "$TMP/cgdone" || tap_diag "tth did not finish"
	wait_sleeping "$CG_PID" tth
}

# cg_end: kill CG_PID (it exits in the cgroup) and reap it
cg_end() {
	kill -9 "$CG_PID"
	wait "$CG_PID" 2>/dev/null
}

# not_below A B: every counter of B (9, space separated) at least A's ('' if so)
not_below() {
	printf '%s\n%s\n' "$1" "$2" | awk 'NR == 1 { split($0, a) } NR == 2 {
		for (i = 1; i <= 9; i++) if ($i < a[i]) { print "column " i ": " a[i] " -> " $i; exit } }'
}

test_cgroups() {
	_root=/sys/fs/cgroup
	if [ ! -e $_root/cgroup.procs ] && ! mount -t cgroup2 none $_root 2>/dev/null; then
		tap_ok "cgroups: no cgroup2 here # SKIP"
		return
	fi
	_rel=/tracerctl-test.$$
	_dir=$_root$_rel
	mkdir -p "$_dir"
	expect "add --cgroup PATH" 0 "" "$T" add --cgroup "$_rel"
	expect "add --cgroup twice: exit 1" 1 "already monitored" "$T" add --cgroup "$_dir"
	expect "add --cgroup below a monitored one: exit 1" 1 "inside or above" \
		"$T" add --cgroup "$_rel/sub"
	rmdir "$_dir/sub" 2>/dev/null
	expect "add --cgroup of a file: exit 1" 1 "not a cgroup" "$T" add --cgroup "$_rel/cgroup.procs"
	expect "add --unit without systemd: exit 1" 1 "no such unit" "$T" add --unit nothing.service
	expect "add --cgroup -f: usage error" 2 "do not go together" "$T" add -f --cgroup "$_rel"
	expect "show --by cgroup lists it" 0 "$_rel" "$T" show --by cgroup

	# A process started there has a row, and its counts are the cgroup's.
	sleep 1000 &
	_s=$!
	BG="$BG $_s"
	echo "$_s" >"$_dir/cgroup.procs"
	_i=0
	while ! monitored "$_s" && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	tap_result "a process moved into the cgroup is monitored" "$(monitored "$_s" || echo "no row for $_s")"
	# A process works there (n=1000 kmalloc(72) and kfree) and exits: the
	# totals grow by at least that (exact per request: tracer_test's
	# cgroup_members_exact; a whole process's life adds its own calls),
	# and nothing falls at its exit.
	_a=$(cg_total "$_rel")
	cg_start "$_dir" kmalloc_var 1000 72
	_e=$(cg_total "$_rel")
	cg_end
	_c=$(cg_total "$_rel")
	_d=$(printf '%s\n%s\n' "$_a" "$_e" | awk 'NR == 1 { split($0, a) }
		NR == 2 { printf "%d %d %d %d", $1 - a[1], $2 - a[2], $3 - a[3], $4 - a[4] }')
	tap_result "totals of a process that worked in the cgroup: at least its n=1000 kmalloc(72) and kfree" \
		"$(echo "$_d" | awk '$1 < 1000 || $2 < 1000 || $3 < 72000 || $4 < 72000 {
			print "kmalloc kfree kmalloc_mem kfree_mem grew by " $0 }')"
	tap_result "the totals keep what the exited process did (nothing falls at its exit)" \
		"$(not_below "$_e" "$_c")"
	# tracerctl shows the module's numbers: its JSON = /proc/tracer_cgroups' row.
	_raw=$(awk -v p="$_rel" '$1 == p { $1 = $2 = ""; sub(/^ +/, ""); print }' /proc/tracer_cgroups)
	tap_result "show --by cgroup --json: the numbers of /proc/tracer_cgroups" \
		"$([ "$(cg_total "$_rel")" = "$_raw" ] || echo "'$(cg_total "$_rel")' != '$_raw'")"
	t "$T" export
	_k=$(echo "$_c" | cut -d' ' -f1)
	tap_result "export: the cgroup's kmalloc counter" \
		"$(grep -qxF "tracer_kmalloc_calls_total{cgroup=\"$_rel\"} $_k" "$TMP/out" || echo "no 'tracer_kmalloc_calls_total{cgroup=\"$_rel\"} $_k'")"
	tap_result "export: health" "$(grep -qx 'tracer_monitored_cgroups 1' "$TMP/out" || echo "no 'tracer_monitored_cgroups 1'")"

	echo "$_s" >"$_root/cgroup.procs"
	_i=0
	while monitored "$_s" && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	tap_result "a process moved out leaves the table" "$(! monitored "$_s" || echo "$_s still has a row")"
	expect "remove --cgroup" 0 "" "$T" remove --cgroup "$_rel"
	tap_result "show --by cgroup: gone" "$("$T" show --by cgroup | grep -F "$_rel")"
	expect "remove --cgroup again: exit 1" 1 "not monitored" "$T" remove --cgroup "$_rel"
	rmdir "$_dir"
	expect "remove --cgroup of a missing cgroup: exit 1, nothing left" 1 "not monitored" \
		"$T" remove --cgroup "$_rel"
	tap_result "remove of a missing cgroup made no directory" "$([ ! -e "$_dir" ] || echo "$_dir exists")"
	kill "$_s" 2>/dev/null
}

