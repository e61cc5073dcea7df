#!/bin/bash
# tools/man/check.sh: the manual pages render without a warning from groff or
# man (what lintian checks: man --warnings) and without a line wider than 80
# columns.  Installs groff-base and man-db when missing (Debian, as root).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

need=()
command -v groff >/dev/null || need+=(groff-base)
command -v man >/dev/null || need+=(man-db)
if [ "${#need[@]}" -gt 0 ]; then
	echo "check-man: installing ${need[*]}" >&2
	apt-get install -y --no-install-recommends "${need[@]}" >&2 ||
		{ apt-get update >&2 && apt-get install -y --no-install-recommends "${need[@]}" >&2; }
fi

rc=0
for page in "$here"/tracerctl.8 "$here"/tracer.4; do
	out=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || true
	if [ -n "$out" ]; then
		printf 'check-man: groff warnings in %s:\n%s\n' "${page##*/}" "$out" >&2
		rc=1
	fi
	out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
		man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null) || true
	if [ -n "$out" ]; then
		printf 'check-man: man warnings in %s:\n%s\n' "${page##*/}" "$out" >&2
		rc=1
	fi
	# Lines of the rendered page wider than 80 columns.
	wide=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" 2>/dev/null |
		while IFS= read -r line; do [ "${#line}" -le 80 ] || printf '%s\n' "$line"; done)
	if [ -n "$wide" ]; then
		printf 'check-man: %s renders lines wider than 80 columns:\n%s\n' "${page##*/}" "$wide" >&2
		rc=1
	fi
done
[ "$rc" = 0 ] && echo "check-man: tracerctl.8 and tracer.4 render without warnings"
exit "$rc"
