#!/bin/sh
# bench/guest/wl.sh ROUND CFG [-m|-M]: run every workload of $WORKLOADS ("name:n ...",
# from /tests/bench.conf) once with benchw, print "BENCH r=ROUND cfg=CFG wl=name <result>".
# -m: each workload adds itself to /dev/tracer first (-M: and reads no /proc/tracer rows).  Run by run.sh, directly or
# under bpftrace -c.
# shellcheck shell=dash
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench.conf"
r=$1 cfg=$2 m=${3:-}
for w in $WORKLOADS; do
	name=${w%%:*} n=${w#*:}
	# shellcheck disable=SC2086 # $m is empty, -m or -M
	if out=$("$HERE/benchw" "$name" "$n" $m 2>&1); then
		echo "BENCH r=$r cfg=$cfg wl=$name $out"
	else
		echo "BENCH-ERR r=$r cfg=$cfg wl=$name: $out"
	fi
done
