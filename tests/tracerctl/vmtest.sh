#!/bin/bash
# tests/tracerctl/vmtest.sh [ID...]: build tracer.ko and the test helper for
# each kernel ID (default 6.1), boot it in QEMU (scripts/vm.sh) and run the
# tracerctl tests alone (standalone.sh: unloaded, loaded, unloaded).
# Output and consoles in $TRACERCTL_OUT (default build/tracerctl-test).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
out=${TRACERCTL_OUT:-$TOP/build/tracerctl-test}
mkdir -p "$out"
payload=$out/payload
rm -rf "$payload"
make -s -C "$TOP/tests/tracerctl" guest OUT="$payload" >"$out/payload.log" 2>&1 ||
	{ cat "$out/payload.log"; exit 1; }
install -m 755 "$TOP/tests/tracerctl/standalone.sh" "$payload/run.sh"
rc=0
for id in "${@:-6.1}"; do
	"$TOP/scripts/kernels.sh" fetch "$id" >/dev/null
	BUILD_LOG=$out/$id.build.log "$TOP/scripts/build.sh" "$id" "$out/$id.modules" || [ $? = 3 ]
	krc=0
	"$TOP/scripts/vm.sh" "$id" "$out/$id.modules" "$payload" "$out/$id.console" || krc=$?
	grep -E '^(not )?ok |^# |passed, .* failed' "$out/$id.console" | tr -d '\r' || true
	echo "== $id: vm.sh exit $krc; console $out/$id.console"
	[ "$krc" = 0 ] || rc=1
done
exit "$rc"
