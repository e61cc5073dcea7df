#!/bin/bash
# demo.sh [ID]: the tracer at work, on this machine, in one command (make demo).
#
# The host kernel need not load modules: this boots a Debian kernel (ID, default 6.1: see
# scripts/kernels.sh list) under QEMU with tracer.ko and a static tracerctl, and shows
#   tracerctl status, tracerctl run -f on a real workload that forks (tar, gzip, sha256sum,
#   find), tracerctl show on a monitored background process, and /proc/tracer itself.
# The first run downloads the kernel and its headers (cached in $TRACER_CACHE).
# The whole console goes to $TRACER_OUT/console.log (default build/demo/).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

id=${1:-${TRACER_DEMO_KERNEL:-6.1}}
out=${TRACER_OUT:-$TOP/build/demo}
rm -rf "$out"
mkdir -p "$out/payload"

msg "demo: preparing kernel $id (first run: downloads, then cached)"
TRACER_KERNELS=$id "$TOP/scripts/deps.sh" >"$out/deps.log" 2>&1 || { tail -n 20 "$out/deps.log"; die "deps failed"; }
"$TOP/scripts/kernels.sh" fetch "$id" >"$out/fetch.log" 2>&1 ||
	{ tail -n 20 "$out/fetch.log"; die "fetching kernel $id failed"; }
BUILD_LOG=$out/build.log "$TOP/scripts/build.sh" "$id" "$out/modules" || [ $? = 3 ] ||
	{ tail -n 20 "$out/build.log"; die "building tracer.ko failed"; }
make -s -C "$TOP/tools" static OUT="$out/payload" CC="$(arch_cross "$(kernel_arch "$id")")gcc" >"$out/tools.log" 2>&1 ||
	{ tail -n 20 "$out/tools.log"; die "building tracerctl failed"; }

cat >"$out/payload/run.sh" <<'EOF'
#!/bin/sh
# In the guest: load the module, show what tracerctl does, unload.
PATH=/tests:$PATH
cpus() { for c in /sys/devices/system/cpu/cpu[1-9]*/online; do [ -e "$c" ] && echo "$1" >"$c"; done; }
say() { echo; echo "\$ $*"; }

cpus 0; insmod /modules/tracer.ko; rc=$?; cpus 1
[ $rc = 0 ] || { echo "insmod failed"; exit 1; }
echo DEMO-BEGIN
say tracerctl status
tracerctl status

say "tracerctl run -f -- sh -c 'tar cf - /bin /modules | gzip -1 >/tmp/a.tgz; sha256sum /tmp/a.tgz; find /sys/kernel | wc -l'"
tracerctl run -f -- sh -c 'tar cf - /bin /modules | gzip -1 >/tmp/a.tgz; sha256sum /tmp/a.tgz; find /sys/kernel | wc -l' 2>&1

sh -c 'while :; do ls -R /proc/self >/dev/null 2>&1; sleep 0.1; done' &
bg=$!
say "tracerctl add $bg; sleep 2; tracerctl show -h"
tracerctl add $bg
sleep 2
tracerctl show -h
say cat /proc/tracer
cat /proc/tracer
say "tracerctl remove $bg"
tracerctl remove $bg
kill $bg
echo DEMO-END
cpus 0; rmmod tracer; cpus 1
EOF
chmod +x "$out/payload/run.sh"

msg "demo: booting kernel $id under QEMU (software emulation: about a minute)"
TRACER_VM_MEM=${TRACER_VM_MEM:-1024} "$TOP/scripts/vm.sh" "$id" "$out/modules" "$out/payload" \
	"$out/console.log" >/dev/null || true
if ! grep -q '^DEMO-END' <(tr -d '\r' <"$out/console.log"); then
	tr -d '\r' <"$out/console.log" | tail -n 40
	die "the demo did not complete (console: $out/console.log)"
fi
tr -d '\r' <"$out/console.log" | sed -n '/^DEMO-BEGIN/,/^DEMO-END/p' | sed '1d;$d' |
	grep -v '^\[ *[0-9.]*\] '
echo
msg "demo: kernel $id; whole console in $out/console.log"
