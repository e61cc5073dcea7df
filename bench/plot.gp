# bench/plot.gp - the plot of `make bench`: gnuplot -e "out='DIR'" bench/plot.gp
# Reads DIR/plot-kernels.txt and, per kernel ID, DIR/plot-<id>-overhead.dat (overhead in % of
# the no-module time, per workload and configuration) and DIR/plot-<id>-proc-{k,t}.dat
# (/proc/tracer read time against monitored processes).  Writes DIR/bench.png: one row per
# kernel, overhead bars on the left, /proc/tracer read time on the right.
kernels = system("tr '\\n' ' ' < " . out . "/plot-kernels.txt")
nk = words(kernels)
set terminal pngcairo size 1600, 560 * nk font "sans,10"
set output out . "/bench.png"
set multiplot layout nk, 2 columns
do for [i = 1:nk] {
	id = word(kernels, i)
	f = out . "/plot-" . id . "-overhead.dat"
	set title "kernel " . id . ": overhead per configuration (median, % of time without module)"
	set style data histogram
	set style histogram cluster gap 1
	set style fill solid 0.85 border -1
	set boxwidth 0.9
	set key outside right top vertical title "config" font ",9"
	set ylabel "overhead, % of no-module time"
	set xlabel "workload"
	set yrange [*:*]
	set grid ytics
	set logscale y 10
	set yrange [0.1:*]
	set xtics nomirror
	ncol = int(system("head -n 1 " . f . " | wc -w"))
	colors = system("cat " . out . "/plot-" . id . "-colors.txt")
	plot for [c = 2:ncol] f using c:xtic(1) title columnheader(c) lc rgb word(colors, c - 1)
	unset logscale y
	set yrange [*:*]
	set style data linespoints
	set title "kernel " . id . ": /proc/tracer read time"
	set xlabel "monitored processes"
	set ylabel "guest us per full read"
	set logscale xy 10
	set key inside left top title ""
	set xrange [*:*]
	plot out . "/plot-" . id . "-proc-k.dat" using 1:2 title "source=kprobe" pt 7 ps 1.5 lc rgb "#08519c", \
	     out . "/plot-" . id . "-proc-t.dat" using 1:2 title "source=tracepoint" pt 5 lc rgb "#d94801", \
	     out . "/plot-" . id . "-proc-ref.dat" using 1:2 title "linear (through the last point)" with lines dt 2 lc rgb "gray40"
	unset logscale xy
}
unset multiplot
