# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# tap.sh - the one output format of the tracer-dkms tests: TAP (sourced, not run).
#
# POSIX sh: it runs in bash on the host (scripts/check.sh, check-debug.sh, e2e-dkms.sh, through
# scripts/lib.sh; tests/tracerctl/host-check.sh, fake-checks.sh), in busybox sh in the test
# guests (tests/run.sh, tests/tracerctl/run.sh, standalone.sh: `make -C tests guest` puts it in
# the payload next to them) and in the Debian guest of scripts/e2e-dkms.sh (e2e-guest.sh).
# After the kernel's tools/testing/selftests/kselftest/ktap_helpers.sh.
#
# A suite prints:
#   TAP version 13                  tap_header
#   ok N - NAME                     tap_ok, tap_test, tap_check, tap_logged, tap_eq, tap_result
#   not ok N - NAME # WHY           tap_not_ok (WHY on one line), and the same
#   # text                          tap_diag, tap_indent
#   1..N                            the plan, at the end (only then is N known)
#   P passed, F failed              the totals, the very last line
# (tap_done prints the last two.)  A suite that runs another one (tap_sub) or reads one's output
# from a console (tap_import) numbers the other's test points as its own, under a prefix: the
# plan and the totals count every test point, however deep. The totals line of `make check` is
# what .ci/run reads.
#
# State: TAP_NUM, TAP_PASS, TAP_FAIL. TAP_PREFIX (default empty) starts every line printed (the
# e2e guest: "E2E: ", to be found among the console's other lines). TAP_HOOK, if set, is a
# command run with the test's name after every result (the e2e guest: a timestamp).
# Functions and variables of the library start with tap_ / TAP_ (internal ones with _tap).

TAP_NUM=0
TAP_PASS=0
TAP_FAIL=0
TAP_PREFIX=${TAP_PREFIX:-}
TAP_HOOK=${TAP_HOOK:-}
TAP_WHY_MAX=400 # characters of a failure's reason

_tap() { printf '%s%s\n' "$TAP_PREFIX" "$*"; }

tap_header() { _tap "TAP version 13"; }

# tap_diag TEXT...: a diagnostic line
tap_diag() { _tap "# $*"; }

# tap_indent: stdin as indented diagnostics
tap_indent() {
	while IFS= read -r _tap_l || [ -n "$_tap_l" ]; do _tap "#   $_tap_l"; done
}

# tap_oneline TEXT: TEXT on one line of at most TAP_WHY_MAX characters
tap_oneline() {
	printf '%s' "$1" | tr '\n\r\t' '   ' | cut -c "1-$TAP_WHY_MAX"
}

_tap_hook() { if [ -n "$TAP_HOOK" ]; then "$TAP_HOOK" "$1"; fi; }

# tap_ok NAME
tap_ok() {
	TAP_NUM=$((TAP_NUM + 1))
	TAP_PASS=$((TAP_PASS + 1))
	_tap "ok $TAP_NUM - $1"
	_tap_hook "$1"
}

# tap_not_ok NAME [WHY]
tap_not_ok() {
	TAP_NUM=$((TAP_NUM + 1))
	TAP_FAIL=$((TAP_FAIL + 1))
	if [ -n "${2:-}" ]; then
		_tap "not ok $TAP_NUM - $1 # $(tap_oneline "$2")"
	else
		_tap "not ok $TAP_NUM - $1"
	fi
	_tap_hook "$1"
}

# tap_result NAME WHY: ok when WHY is empty, else not ok because of WHY
tap_result() {
	if [ -z "$2" ]; then tap_ok "$1"; else tap_not_ok "$1" "$2"; fi
}

# tap_test NAME WHY CMD...: ok when CMD succeeds (its output is not caught), else not ok with WHY
tap_test() {
	_tap_tn=$1 _tap_tw=$2
	shift 2
	if "$@"; then tap_ok "$_tap_tn"; else tap_not_ok "$_tap_tn" "$_tap_tw"; fi
}

# tap_check NAME CMD...: ok when CMD succeeds, else not ok: the end of CMD's output (stdout and
# stderr) is the reason, its last 20 lines are shown too when there are more than 3
tap_check() {
	_tap_cn=$1
	shift
	if _tap_co=$("$@" 2>&1); then
		tap_ok "$_tap_cn"
	else
		_tap_crc=$?
		if [ -z "$_tap_co" ]; then
			tap_not_ok "$_tap_cn" "exit status $_tap_crc"
		else
			tap_not_ok "$_tap_cn" "$(printf '%s\n' "$_tap_co" | tail -n 3)"
			[ "$(printf '%s\n' "$_tap_co" | wc -l)" -le 3 ] ||
				printf '%s\n' "$_tap_co" | tail -n 20 | tap_indent
		fi
	fi
}

# tap_logged NAME LOG CMD...: ok when CMD succeeds, its output (stdout and stderr) in LOG; else
# not ok ("see LOG"), and the last 30 lines of LOG shown; false then
tap_logged() {
	_tap_ln=$1 _tap_ll=$2
	shift 2
	if "$@" >"$_tap_ll" 2>&1; then
		tap_ok "$_tap_ln"
		return 0
	fi
	tail -n 30 "$_tap_ll" | tap_indent
	tap_not_ok "$_tap_ln" "see $_tap_ll"
	return 1
}

# tap_eq NAME GOT WANT: ok when GOT is WANT (multi-line values are shown with | for newlines)
tap_eq() {
	if [ "$2" = "$3" ]; then
		tap_ok "$1"
	else
		_tap_got=$(printf '%s' "$2" | tr '\n' '|') _tap_want=$(printf '%s' "$3" | tr '\n' '|')
		_tap_ew="got '$_tap_got', want '$_tap_want'"
		tap_not_ok "$1" "$_tap_ew"
		# the whole of both when the reason is cut
		[ "${#_tap_ew}" -le "$TAP_WHY_MAX" ] ||
			printf 'got:  %s\nwant: %s\n' "$_tap_got" "$_tap_want" | tap_indent
	fi
}

# tap_done: the plan and the totals; true when nothing failed
tap_done() {
	_tap "1..$TAP_NUM"
	_tap "$TAP_PASS passed, $TAP_FAIL failed"
	[ "$TAP_FAIL" -eq 0 ]
}

# --- suites in suites -------------------------------------------------------------------------

# tap_sub [OPTIONS] LABEL LOG CMD...: run CMD, a suite that prints TAP (stdout and stderr), its
# raw output kept in LOG; every test point of it becomes one of ours, the same name after
# PREFIX, numbered on from ours; its other lines are shown as they come (but with -q), its
# totals line as "# LABEL: P passed, F failed". Then unless it ran to the end -- it printed its
# totals line (with -n COUNT: COUNT test points instead), its plan and totals agree with its test
# points, it did not exit non-zero with no failed test -- one more test point: "not ok N - LABEL
# ran to the end # why". False in that case. Options:
#   -q          only the test points
#   -p PREFIX   before every name (default none)
#   -n COUNT    the number of test points it must print (it need not print totals)
#   -w TEXT     added to the reason of the failure above
# After it: TAP_SUB_PASS, TAP_SUB_FAIL (its test points), TAP_SUB_RC (its exit status).
tap_sub() {
	_tap_opts "$@"
	shift "$_tap_shift"
	_tap_log=$2
	shift 2
	{
		_tap_src=0
		"$@" || _tap_src=$?
		echo "$_tap_src" >"$_tap_log.rc"
	} 2>&1 | tee "$_tap_log" | _tap_absorb "$_tap_log.res"
	TAP_SUB_RC=$(cat "$_tap_log.rc" 2>/dev/null || echo none)
	rm -f "$_tap_log.rc"
	_tap_settle "$_tap_log.res"
}

# tap_import [OPTIONS] LABEL FILE: the same for the output of a suite that ran elsewhere (a
# guest), in FILE; only lines that have MARKER count, from after it (carriage returns dropped).
# Options as tap_sub's (but the exit status), and:
#   -m MARKER   only lines with MARKER (e.g. "E2E: "), from after it
#   -r RC       the suite's exit status ("" when it is unknown: then it did not run to the end)
tap_import() {
	_tap_opts "$@"
	shift "$_tap_shift"
	TAP_SUB_RC=$_tap_rc
	_tap_absorb "$2.res" <"$2"
	_tap_settle "$2.res"
}

_tap_opts() {
	_tap_q=0 _tap_p='' _tap_n='' _tap_w='' _tap_m='' _tap_rc=0 _tap_shift=0
	while [ $# -gt 0 ]; do
		case $1 in
		-q) _tap_q=1 ;;
		-p | -n | -w | -m | -r)
			case $1 in
			-p) _tap_p=$2 ;;
			-n) _tap_n=$2 ;;
			-w) _tap_w=$2 ;;
			-m) _tap_m=$2 ;;
			-r) _tap_rc=${2:-none} ;;
			esac
			shift
			_tap_shift=$((_tap_shift + 1))
			;;
		*) break ;;
		esac
		shift
		_tap_shift=$((_tap_shift + 1))
	done
	_tap_label=$1
}

# _tap_absorb RESULT: stdin, a TAP stream, printed renumbered; RESULT gets
# "OK NOT_OK PLAN TOTAL_PASSED TOTAL_FAILED" ("-" for what it did not print)
_tap_absorb() {
	awk -v quiet="$_tap_q" -v pre="$_tap_p" -v label="$_tap_label" -v mark="$_tap_m" \
		-v res="$1" -v n="$TAP_NUM" -v lp="$TAP_PREFIX" '
		function out(s) { print lp s; fflush() }
		{ sub(/\r$/, "") }
		mark != "" { i = index($0, mark); if (!i) next; $0 = substr($0, i + length(mark)) }
		/^(not )?ok( |$)/ {
			if (/^not/) { st = "not ok"; r = substr($0, 7); f++ } else { st = "ok"; r = substr($0, 3); p++ }
			sub(/^ +[0-9]+/, "", r)
			sub(/^ +(- +)?/, "", r)
			n++
			out(st " " n " - " pre r)
			next
		}
		/^1\.\.[0-9]+/ { plan = substr($0, 4); sub(/[^0-9].*/, "", plan); next }
		/^TAP version / { next }
		/^[0-9]+ passed, [0-9]+ failed$/ { sp = $1; sf = $3; if (!quiet) out("# " label ": " $0); next }
		!quiet { out($0) }
		END {
			print p + 0, f + 0, (plan == "" ? "-" : plan), (sp == "" ? "-" : sp),
				(sf == "" ? "-" : sf) >res
		}'
}

_tap_settle() {
	read -r TAP_SUB_PASS TAP_SUB_FAIL _tap_plan _tap_sp _tap_sf <"$1"
	rm -f "$1"
	_tap_all=$((TAP_SUB_PASS + TAP_SUB_FAIL))
	TAP_NUM=$((TAP_NUM + _tap_all))
	TAP_PASS=$((TAP_PASS + TAP_SUB_PASS))
	TAP_FAIL=$((TAP_FAIL + TAP_SUB_FAIL))
	_tap_why=''
	if [ -n "$_tap_n" ]; then
		[ "$_tap_all" = "$_tap_n" ] || _tap_why="$_tap_all of $_tap_n results"
	elif [ "$_tap_sp" = - ]; then
		_tap_why="no totals line"
	fi
	[ "$_tap_sp" = - ] || [ "$_tap_sp $_tap_sf" = "$TAP_SUB_PASS $TAP_SUB_FAIL" ] ||
		_tap_why="$_tap_why; totals '$_tap_sp passed, $_tap_sf failed' but $TAP_SUB_PASS ok, $TAP_SUB_FAIL not ok"
	[ "$_tap_plan" = - ] || [ "$_tap_plan" = "$_tap_all" ] ||
		_tap_why="$_tap_why; plan 1..$_tap_plan but $_tap_all results"
	if [ "$TAP_SUB_RC" = none ]; then
		_tap_why="$_tap_why; no exit status"
	elif [ "$TAP_SUB_RC" != 0 ] && [ "$TAP_SUB_FAIL" = 0 ]; then
		_tap_why="$_tap_why; exit status $TAP_SUB_RC with no failed test"
	fi
	[ -n "$_tap_why" ] || return 0
	tap_not_ok "$_tap_label ran to the end" "${_tap_why#; }${_tap_w:+; $_tap_w}"
	return 1
}
