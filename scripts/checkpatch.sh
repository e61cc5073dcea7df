#!/bin/bash
# checkpatch.sh [FILE...]: the kernel's checkpatch.pl --strict on our kernel sources
# (default: src/*.[ch], tests/helper/*.[ch] and tests/debug-selftest/*.[ch]; not the UAPI
# header, where BIT() does not exist).
# Exit status 0 only if all are clean. Project-wide --ignore options go in .checkpatch.conf at
# the top of the checkout (checkpatch.pl reads it from the current directory).
#
# checkpatch.pl, spelling.txt and const_structs.checkpatch come from Debian's linux-source-6.12
# (bookworm; else linux-source-6.1) tarball: only those three files are extracted, then cached
# in $TRACER_CACHE/checkpatch/<version>/ (TRACER_REFRESH=1 looks for a newer version).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

cpdir=$TRACER_CACHE/checkpatch
current=$cpdir/current

fetch_checkpatch() {
	local pkg ver dir tmp deb tarball z
	for pkg in linux-source-6.12 linux-source-6.1; do
		ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
		[ -n "$ver" ] && [ "$ver" != "(none)" ] && break
		ver=
	done
	if [ -z "$ver" ]; then
		apt_update_once force
		pkg=linux-source-6.12
		ver=$(apt-cache policy "$pkg" | sed -n 's/^ *Candidate: //p')
	fi
	if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then die "no linux-source package found"; fi
	dir=$cpdir/$pkg-$ver
	if [ ! -f "$dir/checkpatch.pl" ]; then
		msg "checkpatch: fetching $pkg $ver (only checkpatch.pl, spelling.txt, const_structs.checkpatch)"
		mkdir -p "$cpdir"
		tmp=$(mktemp -d "$cpdir/tmp.XXXXXX")
		chmod 777 "$tmp"
		(cd "$tmp" && apt-get "${APT_OPTS[@]}" download "$pkg=$ver" >&2)
		deb=$(find "$tmp" -name "${pkg}_*.deb" | head -n1)
		[ -n "$deb" ] || die "download of $pkg failed"
		tarball=$(dpkg-deb -c "$deb" | grep -o '\./usr/src/linux-source-[^ ]*\.tar\.[a-z]*' | head -n1)
		[ -n "$tarball" ] || die "no source tarball in $deb"
		case $tarball in
		*.xz) z=-J ;; *.bz2) z=-j ;; *.gz) z=-z ;; *.zst) z=--zstd ;; *) z= ;;
		esac
		mkdir -p "$tmp/x"
		dpkg-deb --fsys-tarfile "$deb" | tar -xO "$tarball" |
			tar -x $z -C "$tmp/x" --wildcards --no-anchored \
				'scripts/checkpatch.pl' 'scripts/spelling.txt' 'scripts/const_structs.checkpatch'
		mkdir -p "$dir.new"
		find "$tmp/x" -type f \( -name checkpatch.pl -o -name spelling.txt \
			-o -name const_structs.checkpatch \) -exec mv {} "$dir.new/" \;
		if [ ! -f "$dir.new/checkpatch.pl" ] || [ ! -f "$dir.new/spelling.txt" ]; then
			die "checkpatch files missing in $tarball"
		fi
		rm -rf "$tmp" "$dir"
		mv "$dir.new" "$dir"
	fi
	ln -sfn "$(basename "$dir")" "$current"
}

if [ "${TRACER_REFRESH:-0}" = 1 ] || [ ! -f "$current/checkpatch.pl" ]; then
	fetch_checkpatch
fi

cd "$TOP"
if [ $# -gt 0 ]; then
	files=("$@")
else
	# Sources only (not build outputs such as *.mod.c): git's view when there is one.
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		mapfile -t files < <(git ls-files --cached --others --exclude-standard -- \
			'src/*.[ch]' 'tests/helper/*.[ch]' 'tests/debug-selftest/*.[ch]' | grep -Ev '^src/.*/' | sort -u)
	else
		shopt -s nullglob
		files=(src/*.[ch] tests/helper/*.[ch] tests/debug-selftest/*.[ch])
		shopt -u nullglob
		mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -v '\.mod\.c$')
	fi
	for i in "${!files[@]}"; do [ -f "${files[$i]}" ] || unset "files[$i]"; done
fi
[ "${#files[@]}" -gt 0 ] || { msg "checkpatch: no file to check"; exit 0; }

msg "checkpatch: $(readlink "$current") --strict on ${#files[@]} files"
# CHECKPATCH_VERBOSE=1: checkpatch's full report instead of one line per finding
terse=(--terse)
[ "${CHECKPATCH_VERBOSE:-0}" = 1 ] && terse=()
rc=0
for f in "${files[@]}"; do
	if perl "$current/checkpatch.pl" --no-tree --strict --show-types --color=never \
		"${terse[@]}" --file "$f" >"$TRACER_CACHE/checkpatch/out.$$" 2>&1; then
		echo "checkpatch: $f: clean"
	else
		rc=1
		grep -v '^total: ' "$TRACER_CACHE/checkpatch/out.$$" || true
		echo "checkpatch: $f: $(grep '^total: ' "$TRACER_CACHE/checkpatch/out.$$" || echo failed)"
	fi
done
rm -f "$TRACER_CACHE/checkpatch/out.$$"
exit "$rc"
