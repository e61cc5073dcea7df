#!/bin/sh
# tests/tap-selftest.sh SHELL...: tests of scripts/tap.sh in SHELL (a command:
# "bash", "busybox sh"); check.sh runs it with bash and with busybox sh (the
# guests' shell), each time in that shell. Each
# case runs tap.sh's functions in a subshell and compares what they print, and
# their exit status, with what they must. Prints TAP (through tap.sh itself).
# shellcheck shell=sh
# shellcheck disable=SC2016 # sh code in single quotes, for the shell under test
set -u
TAP=$(cd "$(dirname "$0")/../scripts" && pwd)/tap.sh
# shellcheck source=scripts/tap.sh
. "$TAP"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tap-selftest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# case NAME WANT SCRIPT: SCRIPT (sh code, with tap.sh sourced) prints WANT,
# then "rc=" and its exit status
case_() {
	# shellcheck disable=SC2086 # the shell is a command with arguments
	_got=$(cd "$TMP" && TAP="$TAP" $SHELL_UNDER_TEST -c '. "$TAP"; set -u; '"$3"'; echo "rc=$?"' 2>&1)
	tap_eq "$1" "$_got" "$2"
}
SHELL_UNDER_TEST=${*:-sh}

tap_header
tap_diag "shell: $SHELL_UNDER_TEST"
case_ "ok, not ok with a reason on one line, diagnostics, plan and totals last" \
	"TAP version 13
ok 1 - a
not ok 2 - b # why on two lines
# note
1..2
1 passed, 1 failed
rc=1" 'tap_header; tap_ok a; tap_not_ok b "why on
two lines"; tap_diag note; tap_done'
case_ "tap_test, tap_check (the output is the reason), tap_eq, tap_result" \
	"ok 1 - t
not ok 2 - f # bad
not ok 3 - c # out
not ok 4 - e # got 'x|y', want 'z'
ok 5 - r
1..5
2 passed, 3 failed
rc=1" 'tap_test t bad true; tap_test f bad false; tap_check c sh -c "echo out; exit 2"
tap_eq e "x
y" z; tap_result r ""; tap_done'
case_ "a sub-suite's results are renumbered, prefixed and counted" \
	"ok 1 - first
ok 2 - sub: one
# sub note
not ok 3 - sub: two # why
# sub: 1 passed, 1 failed
1..3
2 passed, 1 failed
rc=1" 'tap_ok first; tap_sub -p "sub: " sub log sh -c ". \"\$TAP\"; tap_header; tap_ok one
tap_diag sub note; tap_not_ok two why; tap_done"; tap_done'
case_ "a sub-suite that does not end is one more failure" \
	"ok 1 - one
not ok 2 - sub ran to the end # no totals line; exit status 3 with no failed test
1..2
1 passed, 1 failed
rc=1" 'tap_sub -q sub log sh -c "echo \"ok 7 - one\"; exit 3"; tap_done'
case_ "a sub-suite whose totals or plan do not match its results is one more failure" \
	"ok 1 - one
not ok 2 - sub ran to the end # totals '2 passed, 0 failed' but 1 ok, 0 not ok; plan 1..2 but 1 results
1..2
1 passed, 1 failed
rc=1" 'tap_sub -q sub log sh -c "echo \"ok 1 - one\"; echo 1..2; echo \"2 passed, 0 failed\""; tap_done'
printf 'boot noise\r\n[  OK  ] E2E: ok 1 - g\r\nE2E-T: 1.0 g\nE2E: 1..1\nE2E: 1 passed, 0 failed\n' >"$TMP/console"
case_ "a console: lines with the marker, carriage returns dropped" \
	"ok 1 - [k] g
1..1
1 passed, 0 failed
rc=0" 'tap_import -q -m "E2E: " -p "[k] " k console; tap_done'
case_ "TAP_PREFIX starts every line, TAP_HOOK runs after every result" \
	"E2E: ok 1 - a
hook a
E2E: 1..1
E2E: 1 passed, 0 failed
rc=0" 'h() { echo "hook $1"; }; TAP_PREFIX="E2E: " TAP_HOOK=h; tap_ok a; tap_done'
tap_done
