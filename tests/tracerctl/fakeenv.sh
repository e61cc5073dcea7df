#!/bin/bash
# tests/tracerctl/fakeenv.sh CMD...: run CMD (as root) in a private mount
# namespace where /proc/tracer and /sys/module/tracer exist with known
# contents, for host-side tests of tracerctl's parsing and output (no module
# needed).  /proc is the real procfs plus /proc/tracer and the fake processes
# 4194301..4194303 (/proc/PID/comm, /proc/PID/status); 4194302's name has a
# quote, a backslash, a control character, UTF-8 and an invalid byte.
# FAKE_TRACER (a file) replaces the /proc/tracer table if set.  Two monitored
# cgroups in /proc/tracer_cgroups, one with a space in its path.
set -euo pipefail
if [ "${1:-}" != --inside ]; then
	t=$(mktemp -d /tmp/tracerctl-fake.XXXXXX)
	rc=0
	unshare -m --propagation private "$0" --inside "$t" "$@" || rc=$?
	rm -rf "$t"
	exit "$rc"
fi
t=$2
shift 2
mkdir -p "$t/realproc" "$t/proc" "$t/sys"
mount -t proc proc "$t/realproc"
mount -t tmpfs tmpfs "$t/proc"
for e in "$t"/realproc/*; do
	ln -s "$e" "$t/proc/${e##*/}"
done
cd "$t/proc"
if [ -n "${FAKE_TRACER:-}" ]; then
	cp "$FAKE_TRACER" tracer
else
	printf '%-8s %-8s %-8s %-12s %-12s %-10s %-8s %-8s %-8s %s\n' PID kmalloc kfree \
		kmalloc_mem kfree_mem sched up down lock unlock >tracer
	for p in 4194301 4194302 4194303; do
		i=$((p - 4194300))
		printf '%-8d %-8d %-8d %-12d %-12d %-10d %-8d %-8d %-8d %d\n' "$p" $((i * 300)) \
			$((i * 200)) $((i * 3000000000)) $((i * 1536)) $((i * 7)) "$i" 1 2 3 >>tracer
	done
fi
cat >tracer_cgroups <<'EOT'
CGROUP procs kmalloc kfree kmalloc_mem kfree_mem sched up down lock unlock
/system.slice/nginx.service 3 100 90 6400 5760 50 1 2 3 4
/user.slice/with\040space 0 5 5 320 320 1 0 0 0 0
EOT
for p in 4194301 4194302 4194303; do
	rm -f "$p"
	mkdir "$p"
	printf 'fake-%d\n' $((p - 4194300)) >"$p/comm"
	printf 'Name:\tfake\nTgid:\t%d\n' "$p" >"$p/status"
done
printf 'we"ird\\ \001\303\251\377x\n' >4194302/comm
cd /
mount --bind "$t/proc" /proc
mount -t tmpfs tmpfs "$t/sys"
mkdir -p "$t/sys/tracer/parameters"
for d in /sys/module/*; do mkdir -p "$t/sys/${d##*/}"; done
echo 0.1.0 >"$t/sys/tracer/version"
(
	cd "$t/sys/tracer/parameters"
	echo 3 >monitored
	echo 0 >missed
	echo 7 >instances_missed
	echo 5 >nested
	echo "records=12 capacity=65536 overflow=0" >map
	echo "kmalloc=__kmalloc,kmalloc_trace kfree=kfree sched=schedule up=up down=down_interruptible lock=mutex_lock unlock=mutex_unlock" >hooked
	echo 512 >maxactive
	echo 14 >map_bits
	echo kprobe >source
)
mount --bind "$t/sys" /sys/module
"$@"
