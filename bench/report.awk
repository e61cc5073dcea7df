# bench/report.awk - the report of `make bench` (mawk/gawk), from the BENCH lines of the guest
# consoles ("<kernel id>\t<line>", see bench/guest/run.sh).  -v out=DIR -v sleepers=N.
# Prints the tables and the goals; writes DIR/results.csv (every run), DIR/counters.csv (missed
# and nested probe hits, guest seconds, per configuration run), DIR/results.json
# (medians, overheads, ratios, /proc/tracer read times, memory, goals) and the gnuplot data
# DIR/plot-<id>-overhead.dat, DIR/plot-<id>-proc.dat, DIR/plot-kernels.txt.

function median(list,    a, n, i, j, t) {
	n = split(list, a, " ")
	if (n == 0) return ""
	for (i = 2; i <= n; i++) {		# insertion sort: a handful of values
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	if (n % 2) return a[(n + 1) / 2] + 0
	return (a[n / 2] + a[n / 2 + 1]) / 2
}

function mad(list,    a, n, i, m, d) {	# median absolute deviation
	n = split(list, a, " ")
	if (n == 0) return ""
	m = median(list)
	d = ""
	for (i = 1; i <= n; i++) d = d " " (a[i] > m ? a[i] - m : m - a[i])
	return median(d)
}

function kv(line, key,    re, s) {		# value of key=... in line ("" if absent)
	re = "(^| )" key "="
	if (!match(line, re)) return ""
	s = substr(line, RSTART + RLENGTH)
	if (substr(s, 1, 1) == "\"") { s = substr(s, 2); sub(/".*/, "", s); return s }
	sub(/ .*/, "", s)
	return s
}

function fmt(x) {
	if (x == "") return "-"
	if (x + 0 >= 100 || x + 0 <= -100) return sprintf("%.0f", x)
	return sprintf("%.1f", x)
}

function ratio(a, b) {
	if (a == "" || b == "" || b + 0 == 0) return ""
	return a / b
}

function fr(x) { return x == "" ? "-" : sprintf("%.2f", x) }
function jnum(x) { return x == "" ? "null" : (x == int(x) ? sprintf("%.0f", x) : sprintf("%.6g", x)) }
function jstr(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" }

function add_kernel(id) { if (!(id in kseen)) { kseen[id] = 1; kernels[++nk] = id } }
function add_wl(id, w) { if (!((id, w) in wseen)) { wseen[id, w] = 1; wls[id, ++nw[id]] = w } }

BEGIN {
	FS = "\t"
	ncols = split("kmalloc kfree kmalloc_mem kfree_mem sched up down lock unlock", cols, " ")
	csv = out "/results.csv"
	ccsv = out "/counters.csv"
	print "kernel,round,config,missed,nested,guest_seconds" > ccsv
	printf "kernel,round,config,workload,ns_op,n" > csv
	for (i = 1; i <= ncols; i++) printf ",ev_%s", cols[i] > csv
	printf "\n" > csv
	# the configurations of a source, in table order
	nsrc = split("k t", srcs, " ")
	srcname["k"] = "kprobe"; srcname["t"] = "tracepoint"
	CFGS = "1 2k 2rk 0k 3k 4k 5k 6k 2t 0t 3t 4t 5t 6t"
	# plot colours: kprobe source in blues/greens, tracepoint source in reds/oranges
	split("#4eb3d3 #ccebc5 #2b8cbe #0868ac #084081 #31a354", ck, " ")
	split("#fdae6b #fee6ce #f16913 #d94801 #8c2d04 #e7298a", ct, " ")
	split("2 0 3 4 5 6", cn, " ")
	for (i = 1; i <= 6; i++) { color[cn[i] "k"] = ck[i]; color[cn[i] "t"] = ct[i] }
	color["2rk"] = "#a6bddb"
}

{
	id = $1; line = $2
	add_kernel(id)
	split(line, f, " "); tag = f[1]
	r = kv(line, "r"); cfg = kv(line, "cfg")
	if (tag == "BENCH") {
		w = kv(line, "wl"); ns = kv(line, "ns_op")
		if (ns == "") next
		add_wl(id, w)
		runs[id, cfg, w] = runs[id, cfg, w] " " ns
		printf "%s,%s,%s,%s,%s,%s", id, r, cfg, w, ns, kv(line, "n") > csv
		for (i = 1; i <= ncols; i++) {
			v = kv(line, "ev_" cols[i])
			printf ",%s", v > csv
			if (v != "") evs[id, cfg, w, cols[i]] = evs[id, cfg, w, cols[i]] " " v / kv(line, "n")
		}
		printf "\n" > csv
	} else if (tag == "BENCH-CTR") {
		printf "%s,%s,%s,%s,%s,%s\n", id, r, cfg, kv(line, "missed"), kv(line, "nested"), kv(line, "t_cfg") > ccsv
		if (kv(line, "t_cfg") != "") tcfg[id, cfg] = tcfg[id, cfg] " " kv(line, "t_cfg")
		ctr[id, cfg] = ctr[id, cfg] " " kv(line, "missed")
		if (kv(line, "nested") != "-") nested[id, cfg] = nested[id, cfg] " " kv(line, "nested")
		if (kv(line, "missed") != "-" && kv(line, "missed") + 0 != 0) badmiss[id] = badmiss[id] " " cfg "(r" r ")=" kv(line, "missed")
		if (kv(line, "missed") != "-") nmiss[id]++
	} else if (tag == "BENCH-PROC") {
		s = kv(line, "src"); n = kv(line, "procs")
		if (!((id, s, n) in pseen)) { pseen[id, s, n] = 1; psteps[id, s, ++np[id, s]] = n }
		proc[id, s, n] = proc[id, s, n] " " kv(line, "ns_med")
		prow[id, s, n] = kv(line, "rows")
	} else if (tag == "BENCH-MEM") {
		s = kv(line, "src")
		b = line; sub(/ after: .*/, "", b); a = line; sub(/.* after: /, "", a)
		nprocs = kv(line, "procs")
		if (nprocs + 0 > 0) {
			memslab[id, s] = memslab[id, s] " " (kv(a, "Slab_kb") - kv(b, "Slab_kb")) * 1024 / nprocs
			memunrec[id, s] = memunrec[id, s] " " (kv(a, "SUnreclaim_kb") - kv(b, "SUnreclaim_kb")) * 1024 / nprocs
		}
		objsize[id] = kv(a, "proc_object_size"); slabsize[id] = kv(a, "proc_slab_size")
		modsize[id] = kv(line, "modsize"); mapvm[id] = kv(line, "map_vmalloc")
		m = kv(line, "map"); mapcap[id] = m; sub(/.*capacity=/, "", mapcap[id]); sub(/ .*/, "", mapcap[id])
	} else if (tag == "BENCH-INFO") {
		if (kv(line, "kernel") != "") krel[id] = kv(line, "kernel")
		if (kv(line, "rounds") != "") nrounds[id] = kv(line, "rounds")
		if (kv(line, "bpftrace") != "") btstate[id] = kv(line, "bpftrace")
		if (kv(line, "bpftrace_version") != "") btver[id] = kv(line, "bpftrace_version")
		if (kv(line, "hooked_k") != "") hooked[id, "k"] = kv(line, "hooked_k")
		if (kv(line, "hooked_t") != "") hooked[id, "t"] = kv(line, "hooked_t")
	} else if (tag == "BENCH-ERR") {
		errs[id] = errs[id] "\n    " line
		nerr[id]++
	} else if (tag == "BENCH-DONE") {
		done[id] = 1
	}
}

END {
	close(csv)
	close(ccsv)
	ngoal = 0
	json = "{\n  \"kernels\": ["
	kl = out "/plot-kernels.txt"
	printf "" > kl
	for (ki = 1; ki <= nk; ki++) {
		id = kernels[ki]
		printf "%s\n", id > kl
		printf "\n=== kernel %s (%s): median guest ns per operation over %s rounds (one vCPU, -icount shift=0: 1 ns = 1 instruction)%s\n", \
			id, krel[id], nrounds[id], done[id] ? "" : "  ** the guest did not finish **"
		printf "    1 no module | 2 bare probes (2r: kretprobes' return probes armed) | 0 tracer, nothing monitored | 3 tracer, workload not monitored (1 other process is)\n    4 tracer, workload monitored"
		printf " | 5 tracer + %d monitored sleepers, workload monitored | 6 bpftrace, per-PID maps | k = kprobe/kretprobe source, t = tracepoint source\n", sleepers
		ncfg = split(CFGS, cl, " ")
		printf "%-9s", "workload"
		for (c = 1; c <= ncfg; c++) printf " %9s", cl[c]
		printf "   (ns/op; spread = max MAD %%)\n"
		for (wi = 1; wi <= nw[id]; wi++) {
			w = wls[id, wi]
			maxmad = 0
			for (c = 1; c <= ncfg; c++) {
				md[cl[c]] = median(runs[id, cl[c], w])
				mm = mad(runs[id, cl[c], w])
				if (md[cl[c]] != "" && md[cl[c]] > 0 && mm / md[cl[c]] > maxmad) maxmad = mm / md[cl[c]]
				med[id, cl[c], w] = md[cl[c]]
				madv[id, cl[c], w] = mm
			}
			printf "%-9s", w
			for (c = 1; c <= ncfg; c++) printf " %9s", fmt(md[cl[c]])
			printf "   %.2f%%\n", 100 * maxmad
		}
		# overheads and ratios, per source
		for (si = 1; si <= nsrc; si++) {
			s = srcs[si]
			printf "\n  source=%s: overhead(x) = t(x) - t(1), ns/op\n", srcname[s]
			printf "  %-9s %9s %9s %9s %9s %9s %9s %9s | %8s %8s %8s %8s %8s %8s  (ratio: goal)\n", "workload", "ov(2)", "ov(2r)", "ov(0)", "ov(3)", "ov(4)", "ov(5)", "ov(6)", "o0/o2", "o3/o2", "o4/o2", "o4/o2r", "o5/o4", "o4/o6"
			printf "  %-9s %9s %9s %9s %9s %9s %9s %9s | %8s %8s %8s %8s %8s %8s\n", "", "", "", "", "", "", "", "", "-", "<=1.1", "<=1.5", "-", "<=1.1", "<=0.5"
			for (wi = 1; wi <= nw[id]; wi++) {
				w = wls[id, wi]
				b = med[id, "1", w]
				for (x = 0; x <= 6; x++) {
					m = med[id, x s, w]
					ov[x] = (m == "" || b == "") ? "" : m - b
					ovs[id, x s, w] = ov[x]
				}
				m = med[id, "2r" s, w]
				ov["2r"] = (m == "" || b == "") ? "" : m - b
				ovs[id, "2r" s, w] = ov["2r"]
				r42r = ratio(ov[4], ov["2r"]); rat[id, s, w, "o4/o2r"] = r42r
				r02 = ratio(ov[0], ov[2]); rat[id, s, w, "o0/o2"] = r02
				r32 = ratio(ov[3], ov[2]); r42 = ratio(ov[4], ov[2]); r54 = ratio(ov[5], ov[4]); r46 = ratio(ov[4], ov[6])
				rat[id, s, w, "o3/o2"] = r32; rat[id, s, w, "o4/o2"] = r42; rat[id, s, w, "o5/o4"] = r54; rat[id, s, w, "o4/o6"] = r46
				printf "  %-9s %9s %9s %9s %9s %9s %9s %9s | %8s %8s %8s %8s %8s %8s\n", w, fmt(ov[2]), fmt(ov["2r"]), fmt(ov[0]), fmt(ov[3]), fmt(ov[4]), fmt(ov[5]), fmt(ov[6]), fr(r02), fr(r32), fr(r42), fr(r42r), fr(r54), fr(r46)
				# goals: a <= k*b, judged on the medians; "noise" = the MADs of the cells involved
				goal(id, s, w, "unmonitored: overhead(3) <= 1.1 x overhead(2)", ov[3], 1.1, ov[2], id SUBSEP "3" s SUBSEP w, id SUBSEP "2" s SUBSEP w)
				goal(id, s, w, "monitored: overhead(4) <= 1.5 x overhead(2)", ov[4], 1.5, ov[2], id SUBSEP "4" s SUBSEP w, id SUBSEP "2" s SUBSEP w)
				goal(id, s, w, "monitored: overhead(4) <= 0.5 x overhead(6) (bpftrace)", ov[4], 0.5, ov[6], id SUBSEP "4" s SUBSEP w, id SUBSEP "6" s SUBSEP w)
				goal(id, s, w, "10,000 monitored: overhead(5) <= 1.1 x overhead(4)", ov[5], 1.1, ov[4], id SUBSEP "5" s SUBSEP w, id SUBSEP "4" s SUBSEP w)
			}
		}
		# what each workload triggers (monitored, configuration 4k), per operation
		printf "\n  events per operation of the monitored workload (configuration 4k / 4t, medians):\n"
		printf "  %-9s", "workload"
		for (i = 1; i <= ncols; i++) printf " %11s", cols[i]
		printf "\n"
		for (si = 1; si <= nsrc; si++) for (wi = 1; wi <= nw[id]; wi++) {
			w = wls[id, wi]
			printf "  %-9s", w "/" srcs[si]
			for (i = 1; i <= ncols; i++) {
				e = median(evs[id, "4" srcs[si], w, cols[i]])
				evmed[id, srcs[si], w, cols[i]] = e
				printf " %11s", e == "" ? "-" : sprintf("%.3f", e)
			}
			printf "\n"
		}
		# /proc/tracer read time
		printf "\n  /proc/tracer read time (median of rounds of the median of %s reads), guest us:\n", 5
		for (si = 1; si <= nsrc; si++) {
			s = srcs[si]
			if (!np[id, s]) continue
			printf "  source=%-10s", srcname[s]
			pd = out "/plot-" id "-proc-" s ".dat"
			printf "# procs us_per_read\n" > pd
			for (i = 1; i <= np[id, s]; i++) {
				n = psteps[id, s, i]
				pm[n] = median(proc[id, s, n])
				pmed[id, s, n] = pm[n]
				printf "  %s: %.0f", n, pm[n] / 1000
				printf "%s %.3f\n", n, pm[n] / 1000 > pd
			}
			close(pd)
			pd = out "/plot-" id "-proc-ref.dat"
			n = psteps[id, s, np[id, s]]
			printf "# linear through the last point\n" > pd
			for (i = 1; i <= np[id, s]; i++) printf "%s %.3f\n", psteps[id, s, i], pm[n] / 1000 * psteps[id, s, i] / n > pd
			close(pd)
			printf "\n"
			# linear? the cost per added row between the first and the middle step vs the
			# middle and the last step (fixed cost cancels)
			n0 = psteps[id, s, 1]; nl = psteps[id, s, np[id, s]]; nm = ""
			for (i = 1; i <= np[id, s]; i++) if (psteps[id, s, i] + 0 <= nl / 5) nm = psteps[id, s, i]
			if (nm != "" && nm != n0) {
				slo = (pm[nm] - pm[n0]) / (nm - n0); shi = (pm[nl] - pm[nm]) / (nl - nm)
				lin = shi / slo
				printf "    ns per row: %.0f (%s..%s rows), %.0f (%s..%s rows): ratio %.2f\n", slo, n0, nm, shi, nm, nl, lin
				goalv(id, s, "-", "/proc/tracer read time grows linearly (ns per row at " nl " <= 1.25 x at " nm ")", lin <= 1.25, sprintf("%.2f", lin))
				linr[id, s] = lin
			}
		}
		# memory
		printf "\n  memory: tracer_proc object %s B (slab slot %s B); slab growth per monitored process:", objsize[id], slabsize[id]
		for (si = 1; si <= nsrc; si++) {
			s = srcs[si]
			if (memslab[id, s] == "") continue
			memb[id, s] = median(memslab[id, s])
			printf " %.0f B (%s)", memb[id, s], srcname[s]
		}
		printf "\n"
		if (mapcap[id] + 0 > 0 && mapvm[id] != "") {
			perrec[id] = mapvm[id] / mapcap[id]
			printf "  allocation map: %s records in a fixed %.0f KiB vmalloc area: %.0f B per outstanding allocation record; module %s B\n", \
				mapcap[id], mapvm[id] / 1024, perrec[id], modsize[id]
		}
		# missed events
		printf "\n  missed events: %d configuration runs read,", nmiss[id]
		if (badmiss[id] == "") printf " all 0\n"
		else printf " NONZERO:%s\n", badmiss[id]
		goalv(id, "-", "-", "zero missed events (tracer and bare probes, every run)", badmiss[id] == "" && nmiss[id] > 0, badmiss[id] == "" ? "0 in " nmiss[id] " runs" : badmiss[id])
		nst = ""
		for (c = 2; c <= ncfg; c++) if ((id, cl[c]) in nested) nst = nst " " cl[c] ":" median(nested[id, cl[c]])
		printf "  nested (probe hits in interrupts during a handler, never counted anyway), median per run:%s\n", nst
		if (btstate[id] != "ok") printf "  bpftrace: %s %s\n", btstate[id] == "" ? "not run" : btstate[id], btver[id]
		if (nerr[id]) printf "  %d errors:%s\n", nerr[id], errs[id]
		# plot data: overhead in % of t(1), rows = workloads
		# (only the configurations that have data: gnuplot stops at an empty column)
		pd = out "/plot-" id "-overhead.dat"
		printf "workload" > pd
		for (c = 2; c <= ncfg; c++) {
			has[c] = 0
			for (wi = 1; wi <= nw[id]; wi++) if (med[id, cl[c], wls[id, wi]] != "") has[c] = 1
			if (has[c]) printf " %s", cl[c] > pd
		}
		printf "\n" > pd
		pc = out "/plot-" id "-colors.txt"
		printf "" > pc
		for (c = 2; c <= ncfg; c++) if (has[c]) printf "%s ", color[cl[c]] > pc
		close(pc)
		for (wi = 1; wi <= nw[id]; wi++) {
			w = wls[id, wi]
			printf "%s", w > pd
			for (c = 2; c <= ncfg; c++) {
				if (!has[c]) continue
				m = med[id, cl[c], w]; b = med[id, "1", w]
				printf " %s", (m == "" || b == "" || b == 0) ? "NaN" : sprintf("%.2f", 100 * (m - b) / b) > pd
			}
			printf "\n" > pd
		}
		close(pd)
		# guest seconds per configuration (set-up, workloads, tear-down)
		printf "  guest seconds per configuration (median):"
		for (c = 1; c <= ncfg; c++) if ((id, cl[c]) in tcfg) printf " %s:%.1f", cl[c], median(tcfg[id, cl[c]])
		printf "\n"
		json = json (ki > 1 ? "," : "") "\n    " kjson(id)
	}
	close(kl)
	# goals
	printf "\n=== goals (MET / NOT MET; judged on medians; noise = sum of the MADs of the cells involved)\n"
	met = 0
	for (g = 1; g <= ngoal; g++) {
		printf "  %-7s %s\n", gres[g], gtxt[g]
		if (gres[g] == "MET") met++
	}
	printf "  %d of %d met\n", met, ngoal
	json = json "\n  ],\n  \"goals\": ["
	for (g = 1; g <= ngoal; g++)
		json = json (g > 1 ? "," : "") "\n    {\"kernel\": " jstr(gk[g]) ", \"source\": " jstr(gs[g]) ", \"workload\": " jstr(gw[g]) \
			", \"goal\": " jstr(gname[g]) ", \"met\": " (gres[g] == "MET" ? "true" : "false") ", \"value\": " jstr(gval[g]) "}"
	json = json "\n  ]\n}\n"
	printf "%s", json > (out "/results.json")
}

# goal a <= k*b
function goal(id, s, w, name, a, k, b, ca, cb,    res, v, noise) {
	if (a == "" || b == "") { res = "N/A"; v = "no data" }
	else {
		noise = madv[ca] + madv[cb] + madv[id, "1", w]
		res = (a <= k * b) ? "MET" : "NOT MET"
		v = sprintf("%s vs %s x %s = %s ns/op (ratio %s; noise %s)", fmt(a), k, fmt(b), fmt(k * b), fr(ratio(a, b)), fmt(noise))
	}
	ngoal++
	gk[ngoal] = id; gs[ngoal] = s; gw[ngoal] = w; gname[ngoal] = name; gres[ngoal] = res; gval[ngoal] = v
	gtxt[ngoal] = sprintf("%s %s %-8s %s: %s", id, s == "-" ? "" : srcname[s], w, name, v)
}

function goalv(id, s, w, name, ok, v) {
	ngoal++
	gk[ngoal] = id; gs[ngoal] = s; gw[ngoal] = w; gname[ngoal] = name; gres[ngoal] = ok ? "MET" : "NOT MET"; gval[ngoal] = v
	gtxt[ngoal] = sprintf("%s %s %s: %s", id, s == "-" ? "" : srcname[s], name, v)
}

function kjson(id,    j, wi, w, c, ncfg, cl, si, s, i, n, k, first) {
	ncfg = split(CFGS, cl, " ")
	j = "{\"id\": " jstr(id) ", \"release\": " jstr(krel[id]) ", \"rounds\": " (nrounds[id] == "" ? "null" : nrounds[id]) \
		", \"completed\": " (done[id] ? "true" : "false") ", \"bpftrace\": " jstr(btstate[id] " " btver[id]) ",\n      \"workloads\": {"
	for (wi = 1; wi <= nw[id]; wi++) {
		w = wls[id, wi]
		j = j (wi > 1 ? "," : "") "\n        " jstr(w) ": {\"ns_op\": {"
		for (c = 1; c <= ncfg; c++) j = j (c > 1 ? ", " : "") jstr(cl[c]) ": " jnum(med[id, cl[c], w])
		j = j "}, \"mad\": {"
		for (c = 1; c <= ncfg; c++) j = j (c > 1 ? ", " : "") jstr(cl[c]) ": " jnum(madv[id, cl[c], w])
		j = j "}, \"overhead\": {"
		first = 1
		for (c = 2; c <= ncfg; c++) { j = j (first ? "" : ", ") jstr(cl[c]) ": " jnum(ovs[id, cl[c], w]); first = 0 }
		j = j "}, \"ratios\": {"
		for (si = 1; si <= nsrc; si++) {
			s = srcs[si]
			j = j (si > 1 ? ", " : "") jstr(srcname[s]) ": {\"o0/o2\": " jnum(rat[id, s, w, "o0/o2"]) ", \"o3/o2\": " jnum(rat[id, s, w, "o3/o2"]) ", \"o4/o2\": " jnum(rat[id, s, w, "o4/o2"]) ", \"o4/o2r\": " jnum(rat[id, s, w, "o4/o2r"]) \
				", \"o5/o4\": " jnum(rat[id, s, w, "o5/o4"]) ", \"o4/o6\": " jnum(rat[id, s, w, "o4/o6"]) "}"
		}
		j = j "}, \"events_per_op\": {"
		for (si = 1; si <= nsrc; si++) {
			s = srcs[si]
			j = j (si > 1 ? ", " : "") jstr(srcname[s]) ": {"
			for (i = 1; i <= ncols; i++) j = j (i > 1 ? ", " : "") jstr(cols[i]) ": " jnum(evmed[id, s, w, cols[i]])
			j = j "}"
		}
		j = j "}}"
	}
	j = j "\n      },\n      \"proc_read_ns\": {"
	for (si = 1; si <= nsrc; si++) {
		s = srcs[si]
		j = j (si > 1 ? ", " : "") jstr(srcname[s]) ": {"
		for (i = 1; i <= np[id, s]; i++) { n = psteps[id, s, i]; j = j (i > 1 ? ", " : "") jstr(n) ": " jnum(pmed[id, s, n]) }
		j = j "}"
	}
	j = j "},\n      \"proc_read_linearity\": {"
	for (si = 1; si <= nsrc; si++) j = j (si > 1 ? ", " : "") jstr(srcname[srcs[si]]) ": " jnum(linr[id, srcs[si]])
	j = j "},\n      \"memory\": {\"tracer_proc_object_size\": " jnum(objsize[id]) ", \"tracer_proc_slab_size\": " jnum(slabsize[id]) \
		", \"slab_bytes_per_monitored_process\": {"
	for (si = 1; si <= nsrc; si++) j = j (si > 1 ? ", " : "") jstr(srcname[srcs[si]]) ": " jnum(memb[id, srcs[si]])
	j = j "}, \"alloc_map_capacity\": " jnum(mapcap[id]) ", \"alloc_map_bytes\": " jnum(mapvm[id]) \
		", \"bytes_per_alloc_record\": " jnum(perrec[id]) ", \"module_size\": " jnum(modsize[id]) "},\n      \"missed_nonzero\": " jstr(badmiss[id]) "}"
	return j
}
