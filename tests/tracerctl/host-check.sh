#!/bin/bash
# tests/tracerctl/host-check.sh: host-side checks of tools/ (no VM needed):
# tracerctl builds warning-free with Debian's hardening flags and statically,
# `make install` installs the expected files, the man pages render without a
# warning, the bash completion completes commands, options, columns and PIDs;
# as root, show/watch/status against a fake /proc/tracer with ASan and UBSan
# (fakeenv.sh, fake-checks.sh).
# Prints TAP (scripts/tap.sh): "ok N - ..." / "not ok N - ... # why", the plan
# and "P passed, F failed".
set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/tap.sh
. "$TOP/scripts/tap.sh"
tmp=$(mktemp -d /tmp/tracerctl-host.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tap_header

# Debian's build flags (dpkg-buildflags with hardening=+all), as debian/rules passes them.
deb_cflags='-g -O2 -ffile-prefix-map=/build=. -fstack-protector-strong -fstack-clash-protection -Wformat -Werror=format-security -fcf-protection'
deb_cppflags='-Wdate-time -D_FORTIFY_SOURCE=2'
deb_ldflags='-Wl,-z,relro -Wl,-z,now'
tap_check "build with Debian's hardening flags, -Wall -Wextra -Werror" \
	make -C "$TOP/tools" -B tracerctl WERROR=1 CFLAGS="$deb_cflags" CPPFLAGS="$deb_cppflags" LDFLAGS="$deb_ldflags"
tap_check "build at -O0 and -O3 too (other warnings)" \
	bash -c "make -C '$TOP/tools' -B tracerctl WERROR=1 CFLAGS=-O0 && make -C '$TOP/tools' -B tracerctl WERROR=1 CFLAGS=-O3"
tap_check "static build (make static OUT=DIR)" make -C "$TOP/tools" static OUT="$tmp/static"
tap_check "static binary is static" bash -c "! readelf -l '$tmp/static/tracerctl' | grep -q INTERP"
tap_check "--version is VERSION" bash -c "[ \"\$('$tmp/static/tracerctl' --version)\" = \"tracerctl \$(cat '$TOP/VERSION')\" ]"
tap_check "make install DESTDIR PREFIX=/usr" make -C "$TOP/tools" install DESTDIR="$tmp/dest" PREFIX=/usr
uapi=$(make -s --no-print-directory -C "$TOP/tools" print-uapi-header)
for f in usr/bin/tracerctl usr/share/man/man8/tracerctl.8 usr/share/man/man4/tracer.4 \
	usr/share/bash-completion/completions/tracerctl "usr/include/$uapi"; do
	tap_check "installed /$f" test -s "$tmp/dest/$f"
done
tap_check "installed <$uapi> compiles alone" bash -c \
	"printf '#include <$uapi>\nint main(void) { struct tracer_record r; return (int)sizeof(r) + TRACER_ADD_PROCESS_EX; }\n' |
	 gcc -Wall -Wextra -Werror -I'$tmp/dest/usr/include' -x c - -o '$tmp/h'"
tap_check "man pages render without warnings" "$TOP/tools/man/check.sh"

# Completion: COMPREPLY for a command line ending at the cursor.
complete_line() { # WORDS... (the last one is the word being completed)
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_tracerctl tracerctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "
	' bash "$TOP/tools/bash-completion/tracerctl" "$@"
}
expect_completion() { # WANT WORDS...
	local want=$1 got
	shift
	got=$(complete_line "$@")
	tap_eq "completion: '$*'" "$got" "$want"
}
expect_completion "remove run " tracerctl r
expect_completion "show status " tracerctl s
expect_completion "export " tracerctl ex
expect_completion "--cgroup " tracerctl add --cg
expect_completion "cgroup " tracerctl show --by cg
expect_completion "--pids " tracerctl export --p
expect_completion "--help --version " tracerctl --
expect_completion "kfree kfree_mem " tracerctl show -s kf
expect_completion "--json " tracerctl status --j
expect_completion "--follow-forks " tracerctl run --fo
expect_completion "--interval " tracerctl watch --int
expect_completion "--no-header " tracerctl show --no
expect_completion "ppid " tracerctl run -s pp
expect_completion "$$ " tracerctl add "$$"
got=$(complete_line tracerctl run -f -- trueXYZ; complete_line tracerctl run tracerctl-nonexistent-)
why=
[ -z "${got// /}" ] || why="got '$got'"
tap_result "completion: run COMMAND completes commands" "$why"
got=$(complete_line tracerctl run -- tru)
why="got '$got'"
case " $got " in *" true "*) why= ;; esac
tap_result "completion: 'tracerctl run -- tru' -> true" "$why"

# Output of show, watch (also on a pseudo-terminal) and status against a fake
# /proc/tracer and /sys/module/tracer, with AddressSanitizer and UBSan.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	# Prometheus' promtool checks what export writes.
	promtool=$(bash -c ". '$TOP/scripts/lib.sh' && promtool" 2>"$tmp/promtool.log") ||
		{ tap_not_ok "promtool (Debian's prometheus package)" "$(tail -n 3 "$tmp/promtool.log")"; promtool=; }
	export PROMTOOL=$promtool
	san=(-fsanitize=address -fsanitize=undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
	read -r -a srcs < <(make -s --no-print-directory -C "$TOP/tools" print-srcs)
	if gcc -std=gnu11 -Wall -Wextra -Werror -O1 -g "${san[@]}" -D_GNU_SOURCE \
		-I"$TOP/src/uapi" -DTRACER_VERSION="\"$(cat "$TOP/VERSION")\"" \
		-o "$tmp/tracerctl-san" "${srcs[@]/#/$TOP/tools/}" >"$tmp/log" 2>&1 &&
		gcc -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -o "$tmp/ptyrun" \
			"$TOP/tests/tracerctl/ptyrun.c" >>"$tmp/log" 2>&1; then
		tap_ok "sanitizer build (ASan, UBSan)"
		tap_sub -p "fake table: " "fake table" "$tmp/fake.log" \
			"$TOP/tests/tracerctl/fakeenv.sh" "$TOP/tests/tracerctl/fake-checks.sh" \
			"$tmp/tracerctl-san" "$tmp/ptyrun"
	else
		tap_not_ok "sanitizer build (ASan, UBSan)" "$(tail -n 3 "$tmp/log")"
		tail -n 20 "$tmp/log" | tap_indent
	fi
else
	tap_diag "not root (or no unshare): fake-table checks skipped"
fi

tap_done
