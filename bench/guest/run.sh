#!/bin/sh
# bench/guest/run.sh - the in-guest runner of `make bench` (busybox sh).
#
# Runs as /tests/run.sh in the VM that scripts/vm.sh boots (one vCPU, QEMU
# -icount shift=0: guest time is the instruction count).  Reads its settings
# from /tests/bench.conf (written by bench/bench.sh), then, in one boot:
#   - spawns $SLEEPERS sleeping processes (pause()) once;
#   - runs $ROUNDS rounds; each round sets up every configuration of $CONFIGS
#     in turn (the order rotates from round to round), runs every workload of
#     $WORKLOADS under it (bench/guest/wl.sh) and tears it down.
# Configurations ("k" = source=kprobe, "t" = source=tracepoint):
#   1      no module
#   2k 2t  bench/bare: empty handlers on the same hooks (the mechanism's floor)
#   2rk    the same, with the kretprobes' return probes armed (empty handler)
#   0k 0t  tracer.ko loaded, nothing monitored (idle tracer)
#   3k 3t  tracer.ko loaded, one sleeper monitored, the workload not
#   4k 4t  tracer.ko loaded, the workload monitored
#   5k 5t  tracer.ko with $SLEEPERS sleepers monitored, the workload too;
#          its set-up also times /proc/tracer reads at $PROC_STEPS rows and
#          measures the memory the module uses per monitored process
#   6k 6t  bpftrace counting the same functions per PID with maps (6k:
#          kprobes + kretprobes on the kmalloc entry points, 6t: the kmem
#          tracepoints), the workloads run by bpftrace -c; in the first
#          $BT_ROUNDS rounds only (its start costs seconds of guest time)
# Output, one fact per line (parsed by bench/report.awk):
#   BENCH r=R cfg=C wl=W ns_op=.. n=.. [ev_<col>=..]   one workload run
#   BENCH-CTR r=R cfg=C missed=.. nested=.. map=..       after a configuration
#   BENCH-PROC r=R src=S procs=N rows=.. bytes=.. ns_min=.. ns_med=.. ns_max=..
#   BENCH-MEM r=R src=S key=value...                     memory of 5S
#   BENCH-INFO key=value / BENCH-ERR ...                 context, failures
# shellcheck shell=dash
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/bench.conf"
B=$HERE/benchw
MOD=${TRACER_MODDIR:-/modules}
PIDS=/tmp/sleepers.pids
BT_DIR=$HERE/bt
BT_OK=0
export B HERE WORKLOADS

info() { echo "BENCH-INFO $*"; }
err() { echo "BENCH-ERR $*"; }

tracer_load() { insmod "$MOD/tracer.ko" "source=$1" 2>&1 | sed 's/^/BENCH-ERR insmod: /'; grep -q '^tracer ' /proc/modules; }
bare_load() { # k|t [armed=1]: empty probes on what tracer.ko hooks with that source
	# shellcheck disable=SC2046,SC2086 # argument lists
	insmod "$MOD/bare_probes.ko" $(bare_args "$1") ${2:-} 2>&1 | sed 's/^/BENCH-ERR insmod: /'
	grep -q '^bare_probes ' /proc/modules
}

# bare_args k|t: bare_probes' kprobes=, kretprobes=, tracepoints= for what tracer.ko hooks
# with that source: its kprobes and kretprobes as the kernel lists them (debugfs
# kprobes/list, saved in /tmp/kprobes.k|t while tracer.ko alone was loaded: every hook,
# listed in "hooked" or not), its tracepoints from its "hooked" parameter ("tracepoint:x"
# entries). Without the kprobes list, every hook from "hooked" ("kmalloc=a,b kfree=kfree
# sched=schedule ...": kmalloc entry points are kretprobes, "f(...)" entries kprobes).
bare_args() {
	if [ ! -s "/tmp/hooked.$1" ]; then
		echo "source=$(srcname "$1")"
		return
	fi
	awk -v list="/tmp/kprobes.$1" '
		function add(v, x) { return v (v == "" ? "" : ",") x }
		BEGIN {
			while ((getline l < list) > 0) {
				n = split(l, f, " ")
				if (n < 3 || f[3] !~ /\+0x0$/) continue
				sym = f[3]; sub(/\+0x0$/, "", sym)
				if (f[2] == "k") lk = add(lk, sym)
				else if (f[2] == "r") lr = add(lr, sym)
			}
			uselist = lk != "" || lr != ""
		}
		{
			gsub(/\([^)]*\)/, "#kp")
			for (i = 1; i <= NF; i++) {
				key = $i; sub(/=.*/, "", key); val = $i; sub(/^[^=]*=/, "", val)
				n = split(val, v, ",")
				for (j = 1; j <= n; j++) {
					x = v[j]
					if (x ~ /^tracepoint:/) { sub(/^tracepoint:/, "", x); tp = add(tp, x) }
					else if (x ~ /#kp$/) { sub(/#kp$/, "", x); kp = add(kp, x) }
					else if (key == "kmalloc") rp = add(rp, x)
					else kp = add(kp, x)
				}
			}
		} END {
			if (uselist) { kp = lk; rp = lr }
			if (kp != "") printf "kprobes=%s ", kp
			if (rp != "") printf "kretprobes=%s ", rp
			if (tp != "") printf "tracepoints=%s", tp
			print ""
		}' "/tmp/hooked.$1"
}
param() { cat "/sys/module/$1/parameters/$2" 2>/dev/null || echo "?"; }
srcname() { if [ "$1" = k ]; then echo kprobe; else echo tracepoint; fi; }

# wl.sh output, each line prefixed with the round and configuration
run_workloads() { # ROUND CFG MONITOR(-m or "")
	sh "$HERE/wl.sh" "$1" "$2" "$3"
}

# --- bpftrace ------------------------------------------------------------------

# (through the bundle's own dynamic loader: ld-linux-x86-64.so.2, ld-linux-aarch64.so.1)
bt() {
	for _ld in "$BT_DIR"/lib/ld-linux*.so.*; do break; done
	"$_ld" --library-path "$BT_DIR/lib" "$BT_DIR/bpftrace" "$@"
}

# bt_prog k|t: the bpftrace program of 6k / 6t, from the symbols tracer.ko
# hooks on this kernel (its "hooked" parameter, saved in /tmp/hooked.k).
bt_prog() {
	counted='kprobe:schedule,kprobe:up,kprobe:down_interruptible,kprobe:mutex_lock,kprobe:mutex_unlock'
	lock=$(sed -n 's/.* lock=\([^ ]*\).*/\1/p' /tmp/hooked.k)
	[ -n "$lock" ] && counted=$(echo "$counted" | sed "s/kprobe:mutex_lock/kprobe:$lock/")
	echo "$counted { @calls[pid, probe] = count(); }"
	if [ "$1" = t ]; then
		for tp in kmalloc kmalloc_node; do
			[ -d "$TRACEFS/events/kmem/$tp" ] || continue
			echo "tracepoint:kmem:$tp { @kmalloc[pid] = count(); @kmalloc_mem[pid] = sum(args->bytes_req); @blk[args->ptr] = args->bytes_req; }"
		done
		echo "tracepoint:kmem:kfree /@blk[args->ptr]/ { @kfree[pid] = count(); @kfree_mem[pid] = sum(@blk[args->ptr]); delete(@blk[args->ptr]); }"
	else
		# the kretprobed entry points: plain names (not "tracepoint:x", not "f(0)")
		syms=$(sed -n 's/^kmalloc=\([^ ]*\).*/\1/p' /tmp/hooked.k | tr ',' '\n' | grep -v '[:(]' | tr '\n' ' ')
		rets=''
		for sym in $syms; do
			# position of the requested size (src/compat.h)
			case $sym in
			*cache_node* | *node_trace*) a=3 ;;
			*cache* | *kmalloc_trace*) a=2 ;;
			*) a=0 ;;
			esac
			echo "kprobe:$sym { @sz[tid] = arg$a; }"
			rets="$rets${rets:+,}kretprobe:$sym"
		done
		echo "$rets /@sz[tid]/ { @kmalloc[pid] = count(); @kmalloc_mem[pid] = sum(@sz[tid]); @blk[retval] = @sz[tid]; delete(@sz[tid]); }"
		echo "kprobe:kfree /@blk[arg0]/ { @kfree[pid] = count(); @kfree_mem[pid] = sum(@blk[arg0]); delete(@blk[arg0]); }"
	fi
	# no map dump at exit
	if [ "$1" = k ]; then sz=' clear(@sz);'; else sz=''; fi
	echo "END { clear(@calls); clear(@kmalloc); clear(@kmalloc_mem); clear(@kfree); clear(@kfree_mem); clear(@blk);$sz }"
}

bt_setup() {
	TRACEFS=/sys/kernel/tracing
	[ -d $TRACEFS/events ] || mount -t tracefs tracefs $TRACEFS 2>/dev/null
	[ -d $TRACEFS/events ] || TRACEFS=/sys/kernel/debug/tracing
	if [ ! -x "$BT_DIR/bpftrace" ]; then
		info "bpftrace=absent (not in the payload)"
		return
	fi
	v=$(bt --version 2>&1 | head -n1)
	info "bpftrace_version=\"$v\""
	for src in k t; do
		bt_prog $src >/tmp/bt.$src
		sed "s/^/BENCH-INFO bt_prog_$src: /" /tmp/bt.$src
	done
	# One test: does it attach and run a command?
	if BPFTRACE_MAP_KEYS_MAX=$BT_MAP_KEYS bt -c "$B mutex 1000" /tmp/bt.t >/tmp/bt.out 2>&1 &&
		grep -q '^ns_op=' /tmp/bt.out; then
		BT_OK=1
		info "bpftrace=ok"
	else
		info "bpftrace=FAILED"
		sed 's/^/BENCH-ERR bpftrace: /' /tmp/bt.out | head -n 40
	fi
}

# --- the configurations ----------------------------------------------------------

meminfo() { # key=value of the slab and vmalloc usage, and tracer_proc's cache
	awk '/^(Slab|SUnreclaim|VmallocUsed):/ { printf "%s_kb=%s ", $1, $2 }' /proc/meminfo | tr -d ':'
	for f in object_size slab_size objs_per_slab; do
		printf '%s=%s ' "proc_$f" "$(cat /sys/kernel/slab/tracer_proc/$f 2>/dev/null || echo '?')"
	done
	awk '$1 == "tracer_proc" { printf "slabinfo_active=%s slabinfo_objsize=%s ", $2, $4 }' /proc/slabinfo 2>/dev/null
	echo
}

# cfg5 set-up: add the sleepers stepwise, timing /proc/tracer at each step
setup_many() { # ROUND SRC
	before=$(meminfo)
	prev=0
	for n in $PROC_STEPS; do
		o=$($B add $PIDS "$prev" "$n") || err "r=$1 cfg=5$2 add $prev..$n: $o"
		[ "$prev" = 0 ] || info "r=$1 src=$2 add_${prev}_$n $o"
		prev=$n
		p=$($B procread "$PROC_READS") && echo "BENCH-PROC r=$1 src=$2 procs=$n $p"
	done
	after=$(meminfo)
	# the allocation map's vmalloc areas, without their guard pages
	map=$(awk '/tracer_map_init/ { s += $2 - 4096 } END { print s + 0 }' /proc/vmallocinfo)
	modsize=$(awk '$1 == "tracer" { print $2 }' /proc/modules)
	echo "BENCH-MEM r=$1 src=$2 procs=$(param tracer monitored) modsize=$modsize map_vmalloc=${map:-?} map=\"$(param tracer map)\" before: $before after: $after" | tr -s ' '
}

uptime() { cut -d' ' -f1 /proc/uptime; }

run_config() { # ROUND CFG
	r=$1 cfg=$2
	s=${cfg#"${cfg%?}"} # the last character: k or t
	t_cfg=$(uptime)
	case $cfg in
	1)
		run_workloads "$r" "$cfg" ""
		echo "BENCH-CTR r=$r cfg=$cfg missed=- nested=- map=- t_cfg=$(awk -v t="$t_cfg" '{ print $1 - t }' /proc/uptime)"
		;;
	2? | 2r?)
		# 2r: the kretprobes' return probes armed too (empty return handler)
		case $cfg in 2r?) arm=armed=1 ;; *) arm= ;; esac
		bare_load "$s" $arm || { err "r=$r cfg=$cfg bare_probes did not load"; return; }
		[ "$r" = 1 ] && info "r=$r cfg=$cfg bare_hooked=\"$(param bare_probes hooked)\""
		run_workloads "$r" "$cfg" ""
		echo "BENCH-CTR r=$r cfg=$cfg missed=$(param bare_probes missed) nested=$(param bare_probes nested) map=- t_cfg=$(awk -v t="$t_cfg" '{ print $1 - t }' /proc/uptime)"
		rmmod bare_probes
		;;
	[0345]?)
		tracer_load "$(srcname "$s")" || { err "r=$r cfg=$cfg tracer did not load"; return; }
		case $cfg in
		3?) $B add $PIDS 0 1 >/dev/null || err "r=$r cfg=$cfg add one sleeper" ;;
		5?) setup_many "$r" "$s" ;;
		esac
		# (-M: without reading 10,000 rows of /proc/tracer around every run)
		case $cfg in [03]?) m="" ;; 5?) m=-M ;; *) m=-m ;; esac
		run_workloads "$r" "$cfg" "$m"
		echo "BENCH-CTR r=$r cfg=$cfg missed=$(param tracer missed) nested=$(param tracer nested) map=\"$(param tracer map)\" monitored=$(param tracer monitored) t_cfg=$(awk -v t="$t_cfg" '{ print $1 - t }' /proc/uptime)"
		rmmod tracer
		;;
	6?)
		[ "$BT_OK" = 1 ] || return
		# bpftrace starts slowly (seconds of guest time): only in $BT_ROUNDS rounds
		[ "$r" -le "${BT_ROUNDS:-$ROUNDS}" ] || return
		BPFTRACE_MAP_KEYS_MAX=$BT_MAP_KEYS bt -c "/bin/sh $HERE/wl.sh $r $cfg" "/tmp/bt.$s" \
			>/tmp/bt.run 2>&1 || err "r=$r cfg=$cfg bpftrace exit $?"
		grep '^BENCH' /tmp/bt.run
		grep -v '^BENCH' /tmp/bt.run | grep -v '^Attaching' | grep -v '^$' | head -n 20 |
			sed "s/^/BENCH-INFO r=$r cfg=$cfg bpftrace: /"
		echo "BENCH-CTR r=$r cfg=$cfg missed=- nested=- map=- t_cfg=$(awk -v t="$t_cfg" '{ print $1 - t }' /proc/uptime)"
		;;
	*) err "unknown configuration $cfg" ;;
	esac
}

# --- main ------------------------------------------------------------------------------

info "kernel=$(uname -r) id=${TRACER_KERNEL_ID:-?} cpus=$(grep -c ^processor /proc/cpuinfo) mem_kb=$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)"
info "clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
info "rounds=$ROUNDS configs=\"$CONFIGS\" workloads=\"$WORKLOADS\" sleepers=$SLEEPERS"

insmod "$MOD/tracer_test_helper.ko" || err "tracer_test_helper.ko did not load"

# What tracer.ko hooks here (bpftrace's programs follow it).
for s in k t; do
	if tracer_load "$(srcname "$s")"; then
		param tracer hooked >/tmp/hooked.$s
		cat /sys/kernel/debug/kprobes/list >/tmp/kprobes.$s 2>/dev/null
		info "hooked_$s=\"$(cat /tmp/hooked.$s)\" source_$s=$(param tracer source)"
		info "kprobes_$s=\"$(awk '{ printf "%s:%s ", $2, $3 }' /tmp/kprobes.$s 2>/dev/null)\""
		info "bare_$s=\"$(bare_args $s)\""
		rmmod tracer
	fi
done
[ -s /tmp/hooked.k ] || err "tracer.ko source=kprobe did not load"

case " $CONFIGS " in *" 6"*) bt_setup ;; esac

t0=$(uptime)
$B sleepers "$SLEEPERS" $PIDS >/dev/null &
while [ ! -f $PIDS ]; do sleep 1; done
info "sleepers=$(wc -l <$PIDS) spawn_s=$(awk -v t0="$t0" '{ print $1 - t0 }' /proc/uptime)"

r=1
while [ "$r" -le "$ROUNDS" ]; do
	# rotate the order: round r starts at configuration r
	# shellcheck disable=SC2086 # a list of words
	set -- $CONFIGS
	i=1
	while [ "$i" -lt "$r" ]; do
		x=$1
		shift
		set -- "$@" "$x"
		i=$((i + 1))
	done
	info "round=$r order=\"$*\" uptime=$(uptime)"
	for cfg in "$@"; do
		run_config "$r" "$cfg"
	done
	r=$((r + 1))
done

info "uptime_end=$(uptime)"
dmesg | grep -E 'WARNING:|BUG:|Oops|general protection|tracer:|bare_probes:' | head -n 40 | sed 's/^/BENCH-INFO dmesg: /'
echo "BENCH-DONE"
exit 0
